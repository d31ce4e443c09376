// TensorFlow.js as a benchmark peer (dev-only; runs in Node and in the browser): tf.layers.simpleRNN + a dense
// output with exactly our model's weights; forward = predict + SSR, gradient = tf.variableGrads of the SSR,
// both read back to the host. Gradients come back in our canonical parameter order for the check.

import type * as TF from '@tensorflow/tfjs';
import type { Batch } from '../../src/batch.ts';
import type { ModelJSON } from '../../src/model.ts';
import type { Peer, PeerRun, PreparedRun } from '../../src/benchmark/peer.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';

export type TfjsBackend = 'cpu' | 'wasm' | 'webgpu';
type Tf = typeof TF;

const ACT: Record<string, string> = { relu: 'relu', tanh: 'tanh', identity: 'linear' };

/** Runs `f` with console.warn/info silenced (tfjs prints advice about tfjs-node when it starts in Node). */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const { warn, info, log } = console;
  console.warn = console.info = console.log = () => {};
  try {
    return await f();
  } finally {
    Object.assign(console, { warn, info, log });
  }
}

export class TfjsPeer implements Peer {
  readonly id: string;
  readonly label: string;
  readonly ours = false;
  detail = '';
  private tf: Tf | null = null;

  /** `load` imports tfjs, registers the backend and returns the tf namespace (Node and the browser differ). */
  constructor(
    readonly backend: TfjsBackend,
    private readonly load: () => Promise<Tf>,
  ) {
    this.id = `tfjs-${backend}`;
    this.label = `TensorFlow.js (tfjs-backend-${backend})`;
  }

  async init(): Promise<void> {
    const tf = await quietly(() => this.load());
    // PROD silences tfjs's one-time advice to install tfjs-node (printed at the first tensor) and skips debug checks.
    tf.env().set('PROD', true);
    const ok = await quietly(() => tf.setBackend(this.backend));
    if (!ok) throw new Error(`tf.setBackend('${this.backend}') failed`);
    await tf.ready();
    this.tf = tf;
    const extra =
      this.backend === 'wasm'
        ? `, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}`
        : '';
    this.detail = `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}${extra}`;
  }

  unsupported(model: ModelJSON): string | null {
    if (model.cell && model.cell !== 'elman') return 'the tfjs peer runs Elman networks (simpleRNN) only';
    if ((model.numLayers ?? 1) > 1 || model.bidirectional)
      return 'the tfjs peer runs one simpleRNN layer in one direction (no stacked or bidirectional networks)';
    return null;
  }

  async prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const tf = this.tf!;
    await quietly(() => tf.setBackend(this.backend));
    const { inputSize: I, hiddenSize: H, outputSize: O } = model;
    const N = batch.count;
    const T = batch.lengths[0];
    for (let n = 0; n < N; n++)
      if (batch.lengths[n] !== T) throw new Error('the tfjs peer takes sequences of one length only');
    if (!batch.targets || batch.output !== 'last' || model.output !== 'last')
      throw new Error('the tfjs peer takes output "last" with targets');
    const net = tf.sequential();
    // Zero initializers: the weights are set below (the default orthogonal one is slow and warns for H ≥ 64).
    const zeros = { kernelInitializer: 'zeros', biasInitializer: 'zeros' } as const;
    net.add(
      tf.layers.simpleRNN({
        units: H,
        activation: ACT[model.activation] as 'relu',
        inputShape: [T, I],
        returnSequences: false,
        recurrentInitializer: 'zeros',
        ...zeros,
      }),
    );
    net.add(tf.layers.dense({ units: O, ...zeros }));
    const w = model.weights;
    // Ours: h = act(Wx·x + Wh·h + bh), y = Wy·h + by. tfjs: h = act(x·K + h·R + b), y = h·D + c. So K = Wxᵀ, R = Whᵀ, D = Wyᵀ.
    const transpose = (m: number[][]): number[][] => m[0].map((_, c) => m.map((row) => row[c]));
    const weights = [
      tf.tensor2d(transpose(w.Wx), [I, H]),
      tf.tensor2d(transpose(w.Wh), [H, H]),
      tf.tensor1d(w.bh),
      tf.tensor2d(transpose(w.Wy), [H, O]),
      tf.tensor1d(w.by),
    ];
    net.layers[0].setWeights(weights.slice(0, 3));
    net.layers[1].setWeights(weights.slice(3));
    tf.dispose(weights);
    const x = tf.tensor3d(Float32Array.from(batch.inputs), [N, T, I]);
    const y = tf.tensor2d(Float32Array.from(batch.targets), [N, O]);
    const names = [...net.layers[0].trainableWeights, ...net.layers[1].trainableWeights].map((v) => v.name);
    const ssr = (pred: TF.Tensor): TF.Scalar => tf.sum(tf.square(tf.sub(pred, y)));

    const forward = async (): Promise<PeerRun> => {
      const loss = tf.tidy(() => ssr(net.predict(x, { batchSize: N }) as TF.Tensor));
      const v = await loss.data();
      loss.dispose();
      return { loss: v[0], grads: null };
    };
    const gradient = async (): Promise<PeerRun> => {
      const { value, grads } = tf.variableGrads(() => ssr(net.apply(x, { training: true }) as TF.Tensor));
      try {
        const blocks = await Promise.all(names.map((n) => grads[n].data()));
        const loss = (await value.data())[0];
        // Back to our order and orientation: Wx (H×I) = Kᵀ, Wh = Rᵀ, bh, Wy (O×H) = Dᵀ, by.
        const flat: number[] = [];
        const pushT = (a: ArrayLike<number>, rows: number, cols: number): void => {
          for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) flat.push(a[r * cols + c]);
        };
        pushT(blocks[0], I, H);
        pushT(blocks[1], H, H);
        flat.push(...blocks[2]);
        pushT(blocks[3], H, O);
        flat.push(...blocks[4]);
        return { loss, grads: Float64Array.from(flat) };
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
    };
    return {
      run: phase === 'forward' ? forward : gradient,
      dispose() {
        tf.dispose([x, y]);
        net.dispose();
      },
    };
  }

  dispose(): void {}
}
