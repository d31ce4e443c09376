// What the two ONNX Runtime peers (bench/peers/ort.ts in Node, ort-web.ts in the browser) share (browser-safe):
// which workloads they take, the workload's model as our exported ONNX graph, its inputs laid out as the graph's
// x [T, N, I], and the SSR of the graph's last-step predictions (y is [T, N, O]: every step's).

import type { Batch } from '../../src/batch.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';
import { exportModel } from '../../src/interop/export.ts';
import type { ModelJSON } from '../../src/model.ts';

/** Why an ONNX Runtime peer cannot run the workload, or null. */
export function onnxUnsupported(model: ModelJSON, phase: Phase): string | null {
  if (phase === 'gradient') return 'ONNX Runtime runs inference only (no gradients)';
  if (model.normalization) return 'the exported graph leaves normalisation out';
  return null;
}

export interface OnnxBatch {
  /** The exported graph. */
  bytes: Uint8Array;
  /** The ONNX op of the model's cell: RNN, LSTM or GRU. */
  op: string;
  /** The inputs as [T][N][I] (batch.inputs is [N][T][I]), and those dimensions. */
  x: Float32Array;
  dims: [number, number, number];
  /** The SSR of the last step's predictions of y [T, N, O] against the batch's targets. */
  lastStepSSR: (y: ArrayLike<number>) => number;
}

/** The workload as the ONNX peers run it; throws for what they do not take (a forward phase of equal-length sequences with `last` targets). */
export function onnxBatch(model: ModelJSON, batch: Batch, phase: Phase): OnnxBatch {
  if (phase !== 'forward') throw new Error('the ONNX Runtime peer runs the forward phase only');
  const { inputSize: I, outputSize: O } = model;
  const N = batch.count;
  const T = batch.lengths[0];
  for (let n = 0; n < N; n++)
    if (batch.lengths[n] !== T) throw new Error('the ONNX Runtime peer takes sequences of one length only');
  const targets = batch.targets;
  if (!targets || batch.output !== 'last' || model.output !== 'last')
    throw new Error('the ONNX Runtime peer takes output "last" with targets');
  const x = new Float32Array(T * N * I);
  for (let n = 0; n < N; n++)
    for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) x[(t * N + n) * I + i] = batch.inputs[(n * T + t) * I + i];
  const last = (T - 1) * N * O;
  return {
    bytes: exportModel(model, 'onnx').bytes,
    op: model.cell === 'lstm' ? 'LSTM' : model.cell === 'gru' ? 'GRU' : 'RNN',
    x,
    dims: [T, N, I],
    lastStepSSR: (y) => {
      let loss = 0;
      for (let k = 0; k < N * O; k++) {
        const d = y[last + k] - targets[k];
        loss += d * d;
      }
      return loss;
    },
  };
}
