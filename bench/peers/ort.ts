// ONNX Runtime on the CPU as a benchmark peer `ort-cpu` (dev-only, Node): the workload's model exported by our
// ONNX exporter (src/interop/export.ts: one RNN, LSTM or GRU op, then MatMul and Add), run by onnxruntime-node's
// CPU execution provider (MLAS kernels). Forward only: ONNX Runtime runs inference, not training. The graph gives
// every step's prediction [T, N, O]; the SSR is taken over the last step's, in float64 on the host, inside the
// timed run. The inputs are laid out time-major ([T, N, I], as ONNX's ops take them) once, before timing. For each
// shape the faster of 1 and 2 intra-op threads is chosen by one timed run each after a warm-up.

import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { Batch } from '../../src/batch.ts';
import type { Peer, PeerRun, PreparedRun } from '../../src/benchmark/peer.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';
import { exportModel } from '../../src/interop/export.ts';
import type { ModelJSON } from '../../src/model.ts';

const require = createRequire(import.meta.url);

export class OrtPeer implements Peer {
  readonly id = 'ort-cpu';
  readonly label = 'ONNX Runtime on the CPU (onnxruntime-node, our exported graph)';
  readonly ours = false;
  detail = '';
  private ort: typeof Ort | null = null;
  /** Candidate intra-op thread counts: 1 and 2 (fewer on a one-core machine). */
  private readonly threads = cpus().length >= 2 ? [1, 2] : [1];

  async init(): Promise<void> {
    try {
      this.ort = await import('onnxruntime-node');
    } catch (e) {
      throw new Error(
        `onnxruntime-node is not installed (npm install --save-dev onnxruntime-node): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    this.detail = `onnxruntime-node ${version}, CPU execution provider, best of ${this.threads.join(' and ')} intra-op threads per shape`;
  }

  unsupported(model: ModelJSON, phase: Phase): string | null {
    if (phase === 'gradient') return 'ONNX Runtime runs inference only (no gradients)';
    if (model.normalization) return 'the exported graph leaves normalisation out';
    return null;
  }

  async prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const ort = this.ort!;
    if (phase !== 'forward') throw new Error('the ONNX Runtime peer runs the forward phase only');
    const { inputSize: I, outputSize: O } = model;
    const N = batch.count;
    const T = batch.lengths[0];
    for (let n = 0; n < N; n++)
      if (batch.lengths[n] !== T) throw new Error('the ONNX Runtime peer takes sequences of one length only');
    if (!batch.targets || batch.output !== 'last' || model.output !== 'last')
      throw new Error('the ONNX Runtime peer takes output "last" with targets');
    const bytes = exportModel(model, 'onnx').bytes;
    // batch.inputs is [N][T][I]; the graph takes x as [T][N][I].
    const x = new Float32Array(T * N * I);
    for (let n = 0; n < N; n++)
      for (let t = 0; t < T; t++)
        for (let i = 0; i < I; i++) x[(t * N + n) * I + i] = batch.inputs[(n * T + t) * I + i];
    const feeds = { x: new ort.Tensor('float32', x, [T, N, I]) };
    const targets = batch.targets;
    const sessions = new Map<number, Ort.InferenceSession>();
    const session = async (threads: number): Promise<Ort.InferenceSession> => {
      let s = sessions.get(threads);
      if (!s) {
        s = await ort.InferenceSession.create(bytes, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
        sessions.set(threads, s);
      }
      return s;
    };
    const once = async (threads: number): Promise<PeerRun & { selfSeconds: number }> => {
      const s = await session(threads);
      const t0 = performance.now();
      const out = await s.run(feeds);
      const y = out.y.data as Float32Array;
      let loss = 0;
      const last = (T - 1) * N * O;
      for (let k = 0; k < N * O; k++) {
        const d = y[last + k] - targets[k];
        loss += d * d;
      }
      const selfSeconds = (performance.now() - t0) / 1000;
      for (const v of Object.values(out)) v.dispose();
      return {
        loss,
        grads: null,
        selfSeconds,
        strategy: `ONNX ${model.cell === 'lstm' ? 'LSTM' : model.cell === 'gru' ? 'GRU' : 'RNN'} op, ${threads} thread${threads === 1 ? '' : 's'}`,
      };
    };
    let best = this.threads[this.threads.length - 1];
    if (this.threads.length > 1) {
      await once(best); // warm-up: the session's first run
      let bestSeconds = Infinity;
      for (const k of this.threads) {
        const s = (await once(k)).selfSeconds;
        if (s < bestSeconds) [best, bestSeconds] = [k, s];
      }
    }
    for (const [k, s] of [...sessions])
      if (k !== best) {
        sessions.delete(k);
        void s.release().catch(() => {});
      }
    return {
      run: () => once(best),
      dispose: () => {
        for (const s of sessions.values()) void s.release().catch(() => {});
        sessions.clear();
      },
    };
  }

  dispose(): void {
    this.ort = null;
  }
}

export function ortPeer(): OrtPeer {
  return new OrtPeer();
}
