// What the benchmark runs (browser-safe): a Peer computes SSR (and dSSR/dθ) of a workload's model on a batch.
// Ours (the WebGPU engine, optionally per strategy) and the float64 CPU reference are peers like the tfjs ones.

import type { Batch } from '../batch.ts';
import { Engine } from '../engine.ts';
import type { ModelJSON } from '../model.ts';
import { LIMITS } from '../model.ts';
import { chooseStrategy } from '../gpu/registry.ts';
import { tuningFor } from '../gpu/tuning.ts';
import type { StrategyChoice } from '../gpu/strategy.ts';
import type { Phase } from './workloads.ts';

/** Why our engine (either backend) cannot take this model's shape, or null. */
export function engineShapeUnsupported(model: ModelJSON): string | null {
  const H = model.hiddenSize;
  if (H > LIMITS.maxHiddenSize) return `H=${H} exceeds the engine's largest hidden size (${LIMITS.maxHiddenSize})`;
  return null;
}

export interface PeerRun {
  loss: number;
  /** dSSR/dθ in canonical order (Wx, Wh, bh, Wy, by; see paramLayout), for the gradient phase. */
  grads: Float64Array | null;
  /** GPU time of the run's compute passes from timestamp queries, when the peer has them. */
  gpuSeconds?: number | null;
  /**
   * The peer's own timing of the run, inside its process (e.g. PyTorch in Python, without the transfer to us):
   * used instead of the wall time around run() where given.
   */
  selfSeconds?: number | null;
  /** The kernel strategy that ran (ours: RunStats.strategy). */
  strategy?: string | null;
  /** Milliseconds spent creating pipelines during the run (ours: RunStats.pipelineMilliseconds, where reported). */
  pipelineMilliseconds?: number | null;
}

/** A model and a batch loaded into a peer, ready to run repeatedly. */
export interface PreparedRun {
  run(): Promise<PeerRun>;
  dispose(): void;
}

export interface Peer {
  /** e.g. `webgpu`, `webgpu:gemm`, `cpu-ref`, `tfjs-cpu`. */
  readonly id: string;
  /** Human-readable, e.g. `webgpu-rnn on WebGPU`. */
  readonly label: string;
  /** True for our WebGPU engine: the one the others are compared with. */
  readonly ours: boolean;
  /** Filled in by init(): adapter, backend version and so on. */
  detail: string;
  /** Loads the peer; throws (with the reason) when it is unavailable. */
  init(): Promise<void>;
  /** Why this peer cannot run the workload at this size (e.g. H too large for a strategy), or null. */
  unsupported?(model: ModelJSON, phase: Phase, N: number, T: number): string | null;
  prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun>;
  dispose(): void;
}

/** Our WebGPU engine (wall time incl. host packing, upload and readback; GPU time from timestamp queries). */
export class WebGpuPeer implements Peer {
  readonly ours = true;
  readonly label: string;
  detail = '';
  engine: Engine | null = null;

  constructor(
    readonly id = 'webgpu',
    /** A RunOptions.strategy value, or undefined for the engine's own choice (`auto`). */
    readonly strategy?: StrategyChoice,
    private readonly device?: GPUDevice,
  ) {
    this.label = strategy ? `webgpu-rnn WebGPU (${strategy})` : 'webgpu-rnn WebGPU';
  }

  unsupported(model: ModelJSON, phase: Phase, N: number, T: number): string | null {
    const why = engineShapeUnsupported(model);
    if (why || !this.engine?.device) return why;
    const shape = {
      cell: model.cell,
      inputSize: model.inputSize,
      hiddenSize: model.hiddenSize,
      outputSize: model.outputSize,
      maxSteps: T,
      count: N,
      gradients: phase === 'gradient',
      numLayers: model.numLayers,
      bidirectional: model.bidirectional,
    };
    try {
      chooseStrategy(this.strategy, shape, this.engine.device.limits, tuningFor(this.engine.device));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async init(): Promise<void> {
    this.engine = await Engine.create({ backend: 'webgpu', gpu: { timestamps: true, device: this.device } });
    this.detail = this.engine.adapter;
  }

  prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const engine = this.engine!;
    const opts = { gradients: phase === 'gradient', strategy: this.strategy };
    return Promise.resolve({
      run: async () => {
        const r = await engine.run(model, batch, opts);
        const stats = engine.lastRunStats;
        const ns = stats?.gpuNanoseconds;
        // pipelineMilliseconds: creation time of the pipelines this run compiled (absent from older engines).
        const pipe = stats?.pipelineMilliseconds;
        return {
          loss: r.loss ?? NaN,
          grads: r.gradsFlat ?? null,
          gpuSeconds: ns == null ? null : ns / 1e9,
          strategy: stats?.strategy ?? null,
          pipelineMilliseconds: typeof pipe === 'number' && Number.isFinite(pipe) ? pipe : null,
        };
      },
      dispose() {},
    });
  }

  dispose(): void {
    this.engine?.dispose();
    this.engine = null;
  }
}

/** The float64 CPU reference in plain JS (one core). */
export class CpuRefPeer implements Peer {
  readonly id = 'cpu-ref';
  readonly label = 'webgpu-rnn CPU reference (float64 JS)';
  readonly ours = false;
  detail = 'float64 loops, one thread';
  private engine: Engine | null = null;

  unsupported(model: ModelJSON): string | null {
    return engineShapeUnsupported(model);
  }

  async init(): Promise<void> {
    this.engine = await Engine.create({ backend: 'cpu' });
  }

  prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const engine = this.engine!;
    return Promise.resolve({
      run: async () => {
        const r = await engine.run(model, batch, { gradients: phase === 'gradient' });
        return { loss: r.loss ?? NaN, grads: r.gradsFlat ?? null };
      },
      dispose() {},
    });
  }

  dispose(): void {
    this.engine?.dispose();
  }
}
