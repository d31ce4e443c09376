// Seeded, deterministic random models and batches for tests, benchmarks and `webgpu-rnn gen-data`.
//
// The generator is mulberry32 (32-bit state, period 2^32): tiny, fast and identical on every platform, so a seed
// names one data set forever. Every value it produces for models and batches is rounded to float32 (Math.fround),
// so the WebGPU backend (float32) sees exactly the numbers the float64 CPU reference sees, and a batch survives a
// round trip through the binary `.rnnb` format (float32) unchanged.

import { offsetsFromLengths, type Batch } from './batch.ts';
import { cellByName, extent, type CellName, type Extent } from './cells/index.ts';
import type { Activation, ModelJSON, OutputMode, Shape, Weights } from './model.ts';

/** A deterministic source of random numbers (mulberry32). */
export class Rng {
  private state: number;

  /** `seed` is any number; it is reduced to 32 bits (`seed >>> 0`), so seeds that differ by 2^32 coincide. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi], both ends included (hi − lo < 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** mulberry32 as a plain function: returns a generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/**
 * A random model: every weight and bias drawn uniformly from [−scale, scale] and rounded to float32.
 * Deterministic: the same arguments give the same model. Draw order: the cell's blocks in canonical order, row-major
 * (Elman: Wx, Wh, bh, Wy, by; LSTM and GRU: Wx, Wh, bx, bh, Wy, by with 4H or 3H gate rows), no h0 or c0. LSTM and
 * GRU take `activation` tanh. With `net` stacked (numLayers > 1) or bidirectional, the layered form: every layer and
 * direction's recurrent blocks in PyTorch's order (l0, l0_reverse, l1, …), then the readout on D·H outputs.
 * The default scale 0.5 keeps ReLU/tanh recurrences of a few hundred steps well away from overflow for H ≤ 16.
 */
export function randomModel(
  shape: Shape,
  activation: Activation,
  output: OutputMode,
  seed: number,
  scale = 0.5,
  cell: CellName = 'elman',
  net: { numLayers?: number; bidirectional?: boolean } = {},
): ModelJSON {
  const rng = new Rng(seed);
  const { inputSize: I, hiddenSize: H, outputSize: O } = shape;
  const value = (): number => Math.fround(rng.uniform(-scale, scale));
  const L = net.numLayers ?? 1;
  const D = net.bidirectional ? 2 : 1;
  const head = {
    ...(cell !== 'elman' ? { cell } : {}),
    ...(L > 1 || D > 1 ? { numLayers: L, bidirectional: D > 1 } : {}),
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation,
    output,
  };
  const block = (b: { rows: Extent; cols: Extent | null }, dims: Shape): number[] | number[][] => {
    const rows = extent(b.rows, dims);
    const cols = b.cols ? extent(b.cols, dims) : 0;
    return b.cols
      ? Array.from({ length: rows }, () => Array.from({ length: cols }, value))
      : Array.from({ length: rows }, value);
  };
  const blocks = cellByName(cell).blocks;
  if (L === 1 && D === 1) {
    const weights: Record<string, number[] | number[][]> = {};
    for (const b of blocks) weights[b.name] = block(b, shape);
    return { ...head, weights: weights as unknown as Weights };
  }
  // Stacked or bidirectional: layers in PyTorch's order (l0, l0_reverse, l1, …); layers above the first take D·H
  // inputs; the readout acts on the top layer's D·H outputs.
  const layers = Array.from({ length: L * D }, (_, k) => {
    const dims = { ...shape, inputSize: k < D ? I : D * H };
    const layer: Record<string, number[] | number[][]> = {};
    for (const b of blocks) if (b.role === 'cell') layer[b.name] = block(b, dims);
    return layer;
  });
  const weights: Record<string, unknown> = { layers };
  for (const b of blocks) if (b.role === 'readout') weights[b.name] = block(b, { ...shape, hiddenSize: D * H });
  return { ...head, weights: weights as unknown as Weights };
}

export interface RandomBatchOptions {
  /** Number of sequences (≥ 1). */
  count: number;
  inputSize: number;
  outputSize: number;
  /** `last`: one target per sequence; `all`: one per step. */
  output: OutputMode;
  /** Shortest sequence (≥ 1). Default 1. */
  minLength?: number;
  /** Longest sequence (≥ minLength). Default minLength. */
  maxLength?: number;
  seed: number;
  /** Draw targets too. Default true. */
  withTargets?: boolean;
  /** Inputs and targets are drawn uniformly from [−scale, scale]. Default 1. */
  scale?: number;
}

/** Receives a random batch piece by piece (see streamRandomBatch). */
export interface RandomBatchSink {
  /** Called once, first, with every sequence length. */
  lengths(lengths: Uint32Array): void;
  /** Called with consecutive chunks of the inputs (Batch.inputs order). The chunk is reused: copy it to keep it. */
  inputs(chunk: Float32Array): void;
  /** Called with consecutive chunks of the targets (Batch.targets order), when drawing targets. Reused likewise. */
  targets(chunk: Float32Array): void;
}

function checkedOptions(opts: RandomBatchOptions): Required<RandomBatchOptions> {
  const { count } = opts;
  const minLength = opts.minLength ?? 1;
  const maxLength = opts.maxLength ?? minLength;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(minLength) || minLength < 1)
    throw new RangeError(`minLength must be a positive integer, got ${minLength}`);
  if (!Number.isInteger(maxLength) || maxLength < minLength) {
    throw new RangeError(`maxLength must be an integer ≥ minLength (${minLength}), got ${maxLength}`);
  }
  if (maxLength > 0xffffffff) throw new RangeError(`maxLength must be below 2^32, got ${maxLength}`);
  return { ...opts, minLength, maxLength, withTargets: opts.withTargets ?? true, scale: opts.scale ?? 1 };
}

/**
 * Draws exactly the values `randomBatch` returns, but hands them to `sink` in float32 chunks of at most
 * `chunkValues` values instead of holding them all, so data sets larger than memory can be written to a file.
 * Returns the total number of steps.
 */
export function streamRandomBatch(opts: RandomBatchOptions, sink: RandomBatchSink, chunkValues = 1 << 20): number {
  let steps = 0;
  for (const piece of randomBatchPieces(opts, chunkValues)) {
    if (piece.kind === 'lengths') {
      steps = piece.steps;
      sink.lengths(piece.lengths);
    } else if (piece.kind === 'inputs') sink.inputs(piece.values);
    else sink.targets(piece.values);
  }
  return steps;
}

/** One piece of a streamed random batch: the lengths first, then chunks of inputs, then chunks of targets. */
export type RandomBatchPiece =
  { kind: 'lengths'; lengths: Uint32Array; steps: number } | { kind: 'inputs' | 'targets'; values: Float32Array };

/** The pieces streamRandomBatch hands to its sink, as a generator (so a consumer may await between pieces). */
export function* randomBatchPieces(opts: RandomBatchOptions, chunkValues = 1 << 20): Generator<RandomBatchPiece> {
  const o = checkedOptions(opts);
  const rng = new Rng(o.seed);
  const lengths = new Uint32Array(o.count);
  let steps = 0;
  for (let n = 0; n < o.count; n++) {
    lengths[n] = rng.int(o.minLength, o.maxLength);
    steps += lengths[n];
  }
  yield { kind: 'lengths', lengths, steps };
  const buffer = new Float32Array(Math.max(1, Math.min(chunkValues, 1 << 24)));
  function* emit(total: number, kind: 'inputs' | 'targets'): Generator<RandomBatchPiece> {
    for (let done = 0; done < total;) {
      const size = Math.min(buffer.length, total - done);
      const chunk = buffer.subarray(0, size);
      for (let k = 0; k < size; k++) chunk[k] = rng.uniform(-o.scale, o.scale); // stored as float32 = Math.fround
      yield { kind, values: chunk };
      done += size;
    }
  }
  yield* emit(steps * o.inputSize, 'inputs');
  if (o.withTargets) yield* emit((o.output === 'last' ? o.count : steps) * o.outputSize, 'targets');
}

/**
 * A random batch with float64 arrays whose values are float32-representable. Deterministic. Draw order: all
 * lengths (uniform integers in [minLength, maxLength]), then all inputs, then all targets, so switching
 * `withTargets` off leaves lengths and inputs unchanged. Inputs and targets are uniform in [−scale, scale],
 * rounded to float32.
 */
export function randomBatch(opts: RandomBatchOptions): Batch {
  const o = checkedOptions(opts);
  let lengths: Uint32Array = new Uint32Array(0);
  let inputs: Float64Array = new Float64Array(0);
  let targets: Float64Array | null = null;
  let at = 0;
  let tat = 0;
  streamRandomBatch(o, {
    lengths(l) {
      lengths = l;
      const steps = offsetsFromLengths(l)[o.count];
      inputs = new Float64Array(steps * o.inputSize);
      if (o.withTargets) targets = new Float64Array((o.output === 'last' ? o.count : steps) * o.outputSize);
    },
    inputs(chunk) {
      inputs.set(chunk, at);
      at += chunk.length;
    },
    targets(chunk) {
      targets!.set(chunk, tat);
      tat += chunk.length;
    },
  });
  const offsets = offsetsFromLengths(lengths);
  return {
    count: o.count,
    inputSize: o.inputSize,
    outputSize: o.outputSize,
    output: o.output,
    lengths,
    offsets,
    inputs,
    targets,
  };
}
