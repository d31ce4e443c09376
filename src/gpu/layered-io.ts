// The host side of a layered run's chunks, shared by the per-sequence strategy's layered kernels
// (src/gpu/per-sequence/layers.ts) and the gemm strategy's programs per layer-direction (src/gpu/gemm/layers.ts):
// each chunk's inputs, lengths, targets and initial states packed (src/gpu/packing.ts) and uploaded, and after its
// submit its predictions and final states read back into the run's results, in one mapping per chunk.

import { outputCount, type Batch, type RnnStates } from '../batch.ts';
import { cellOf } from '../cells/index.ts';
import { layerCount, type Model } from '../model.ts';
import { packInputs, packStates, packTargets, unpackOutputs, unpackStates } from './packing.ts';
import type { Chunk } from './plan.ts';
import type { BufferPool } from './pool.ts';
import { readBuffers } from './runtime.ts';

/** A chunk's data buffers: inputs, lengths, targets (read by the kernels) and predictions (written by them). */
export interface ChunkBuffers {
  xs: GPUBuffer;
  lengths: GPUBuffer;
  targets: GPUBuffer;
  ys: GPUBuffer;
}

/** Where a chunk's final states are: `[(k·S + q)·count + n]` from float `at` of `buffer`. */
export interface StatesAt {
  buffer: GPUBuffer;
  at: number;
}

export class LayeredChunks {
  /** The run's predictions (flat, as Result.outputs), when asked for. */
  readonly outputs: Float64Array | null;
  private readonly finalH: Float64Array | null;
  private readonly finalC: Float64Array | null;
  private readonly xsHost: Float32Array<ArrayBuffer>;
  private readonly lenHost: Uint32Array<ArrayBuffer>;
  private readonly tgHost: Float32Array<ArrayBuffer> | null;
  private readonly capacity: number;
  private statesHost: Float32Array<ArrayBuffer> | null = null;
  private readonly K: number;
  /** State rows per sequence and layer-direction: h, then c for the LSTM. */
  readonly stateRows: number;

  /** Host arrays for chunks of up to `capacity` sequences of up to T steps. */
  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly model: Model,
    private readonly batch: Batch,
    capacity: number,
    T: number,
    o: { outputs: boolean; hasTargets: boolean; finalStates: boolean },
  ) {
    const { inputSize: I, hiddenSize: H, outputSize: O } = model;
    this.capacity = capacity;
    this.K = layerCount(model);
    this.stateRows = cellOf(model).stateVectors * H;
    const outPerSeq = (model.output === 'all' ? T : 1) * O;
    this.xsHost = new Float32Array(capacity * T * I);
    this.lenHost = new Uint32Array(capacity);
    this.tgHost = o.hasTargets ? new Float32Array(capacity * outPerSeq) : null;
    this.outputs = o.outputs ? new Float64Array(outputCount({ ...batch, outputSize: O }, model.output)) : null;
    this.finalH = o.finalStates ? new Float64Array(this.K * batch.count * H) : null;
    this.finalC = o.finalStates && this.stateRows > H ? new Float64Array(this.K * batch.count * H) : null;
  }

  /** Packs chunk `c`'s inputs, lengths and targets and writes them to `b`. */
  upload(c: Chunk, b: ChunkBuffers): void {
    const { device, batch, model } = this;
    const n = c.count;
    packInputs(batch, c, this.xsHost, this.lenHost);
    device.queue.writeBuffer(b.xs, 0, this.xsHost, 0, c.steps * model.inputSize * n);
    device.queue.writeBuffer(b.lengths, 0, this.lenHost, 0, n);
    if (this.tgHost) {
      packTargets(batch, c, model.outputSize, this.tgHost);
      device.queue.writeBuffer(
        b.targets,
        0,
        this.tgHost,
        0,
        (model.output === 'all' ? c.steps : 1) * model.outputSize * n,
      );
    }
  }

  /**
   * Packs chunk `c`'s initial states, `[(k·S + q)·count + n]` (the batch's initialStates, or else the model's h0
   * and c0), and writes them to `buffer`.
   */
  uploadStates(c: Chunk, buffer: GPUBuffer): void {
    const host = (this.statesHost ??= new Float32Array(this.K * this.stateRows * this.capacity));
    packStates(this.model, this.batch, c, this.stateRows, host);
    this.device.queue.writeBuffer(buffer, 0, host, 0, this.K * this.stateRows * c.count);
  }

  /**
   * Submits `enc`, reading back chunk `c`'s predictions (from `b.ys`) and final states (from `states`) into the
   * run's results where it returns them; with nothing to read and `wait`, waits for the submitted work.
   */
  async finish(
    enc: GPUCommandEncoder,
    c: Chunk,
    b: ChunkBuffers,
    states: StatesAt | null,
    wait = false,
  ): Promise<void> {
    const { device, batch, model } = this;
    const n = c.count;
    const O = model.outputSize;
    const outAll = model.output === 'all';
    const rows = this.K * this.stateRows * n;
    const ysBytes = this.outputs ? (outAll ? c.steps : 1) * O * n * 4 : 0;
    const reads: [GPUBuffer, number][] = [];
    if (this.outputs) reads.push([b.ys, ysBytes]);
    if (this.finalH && states) reads.push([states.buffer, (states.at + rows) * 4]);
    if (reads.length === 0) {
      device.queue.submit([enc.finish()]);
      if (wait) await device.queue.onSubmittedWorkDone();
      return;
    }
    const got = await readBuffers(device, this.pool, enc, reads);
    if (this.outputs) unpackOutputs(batch, c, O, outAll, new Float32Array(got, 0, ysBytes / 4), this.outputs);
    if (this.finalH && states) {
      const fin = new Float32Array(got, ysBytes + states.at * 4, rows);
      unpackStates(fin, this.K, this.stateRows, model.hiddenSize, batch, c, this.finalH, this.finalC);
    }
  }

  /** The run's final states (every sequence, layer and direction), when asked for. */
  get finalStates(): RnnStates | undefined {
    return this.finalH ? { h: this.finalH, ...(this.finalC ? { c: this.finalC } : {}) } : undefined;
  }
}
