// A batch of sequences in the host's compact form: ragged lengths, sequence-major, flat typed arrays.
// The GPU backend re-packs it time-major per chunk (src/gpu/packing.ts); the CPU reference reads it directly.

import { InputError } from './errors.ts';
import type { OutputMode } from './model-types.ts';

/**
 * A batch of ragged sequences in flat typed arrays (make one with {@link batchFromArrays}, or read one with
 * webgpu-rnn/formats). Inputs are stored step-major within each sequence, the sequences one after another.
 */
export interface Batch {
  /** Number of sequences. */
  count: number;
  inputSize: number;
  /** Values per target (the model's O). */
  outputSize: number;
  /** Which targets the batch carries: one per sequence (`last`) or one per step (`all`). */
  output: OutputMode;
  /** Length of each sequence (≥ 1). */
  lengths: Uint32Array;
  /** Step offsets: sequence n occupies steps offsets[n] .. offsets[n+1]-1. Length count+1. */
  offsets: Float64Array;
  /** Inputs, step-major within a sequence: value i of step t of sequence n is at (offsets[n]+t)*I + i. */
  inputs: Float32Array | Float64Array;
  /**
   * Targets, or null for a forward pass without loss. `last`: n*O + o. `all`: (offsets[n]+t)*O + o.
   */
  targets: Float32Array | Float64Array | null;
  /**
   * Each sequence's initial recurrent state, in place of the model's h0 (and c0) for every sequence: carried over
   * from an earlier run's `finalStates` to continue the sequences where it stopped.
   */
  initialStates?: RnnStates;
}

/**
 * The recurrent states of every sequence of a batch, for every layer and direction, in PyTorch's h_n / c_n layout
 * [numLayers·D][N][H], flat: value j of layer-direction k (PyTorch's order l0, l0_reverse, l1, …) of sequence n is
 * at (k·N + n)·H + j. `c` is the LSTM's cell state (absent for Elman and GRU).
 */
export interface RnnStates {
  h: Float64Array | Float32Array;
  c?: Float64Array | Float32Array;
}

/** One state array of {@link RnnStates} as nested lists [numLayers·D][N][H] (the states file's `h` and `c`). */
export function nestStates(flat: ArrayLike<number>, layers: number, count: number, hidden: number): number[][][] {
  return Array.from({ length: layers }, (_, k) =>
    Array.from({ length: count }, (_, n) =>
      Array.from({ length: hidden }, (_, j) => flat[(k * count + n) * hidden + j]),
    ),
  );
}

/** Total number of steps in the batch (sum of lengths). */
export function totalSteps(b: Batch): number {
  return b.offsets[b.count];
}

/** The longest sequence's number of steps. */
export function maxLength(b: { count: number; lengths: Uint32Array }): number {
  let m = 0;
  for (let n = 0; n < b.count; n++) if (b.lengths[n] > m) m = b.lengths[n];
  return m;
}

/** Prefix sums of lengths (as float64 so totals past 2^32 steps stay exact). */
export function offsetsFromLengths(lengths: Uint32Array): Float64Array {
  const off = new Float64Array(lengths.length + 1);
  for (let n = 0; n < lengths.length; n++) off[n + 1] = off[n] + lengths[n];
  return off;
}

/** Index of the sequence that holds global step `step` (binary search over the prefix sums). */
export function sequenceOfStep(b: { count: number; offsets: Float64Array }, step: number): number {
  let lo = 0;
  let hi = b.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (b.offsets[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Name of flat value k of an array with `width` values per row: per step (`field[n][t][w]`, rows are global
 * steps) or per sequence (`field[n][w]`).
 */
export function valueName(
  b: { count: number; offsets: Float64Array },
  field: string,
  k: number,
  width: number,
  perStep: boolean,
): string {
  const row = Math.floor(k / width);
  if (!perStep) return `${field}[${row}][${k % width}]`;
  const n = sequenceOfStep(b, row);
  return `${field}[${n}][${row - b.offsets[n]}][${k % width}]`;
}

/** Number of output values a forward pass produces: N*O for `last`, steps*O for `all`. */
export function outputCount(b: { count: number; outputSize: number; offsets: Float64Array }, mode: OutputMode): number {
  return (mode === 'last' ? b.count : b.offsets[b.count]) * b.outputSize;
}

/**
 * Builds a batch from nested arrays: inputs N×T_n×I, targets N×O (`last`) or N×T_n×O (`all`) or null. Refuses an
 * empty batch and ragged steps or targets with an InputError naming the entry (values are checked for finiteness
 * by checkBatch when the batch is run).
 */
export function batchFromArrays(
  inputs: number[][][],
  targets: number[][] | number[][][] | null,
  output: OutputMode,
  outputSize = 0,
): Batch {
  const fail = (field: string, message: string): never => {
    throw new InputError(field, message, 'data');
  };
  const arr = (v: unknown, field: string): unknown[] =>
    Array.isArray(v)
      ? v
      : fail(field, `expected an array, got ${v === undefined ? 'nothing' : v === null ? 'null' : typeof v}`);
  const row = (v: unknown, field: string, width: number | null): number[] => {
    const r = arr(v, field);
    if (width !== null && r.length !== width)
      fail(field, `expected ${width} values (as in the first row), got ${r.length}`);
    r.forEach(
      (x, k) =>
        typeof x === 'number' || fail(`${field}[${k}]`, `expected a number, got ${x === null ? 'null' : typeof x}`),
    );
    return r as number[];
  };
  if (output !== 'last' && output !== 'all') fail('output', `must be "last" or "all", got ${JSON.stringify(output)}`);
  const count = arr(inputs, 'inputs').length;
  if (count === 0) fail('inputs', 'the batch is empty: it needs at least one sequence');
  inputs.forEach(
    (seq, n) => arr(seq, `inputs[${n}]`).length > 0 || fail(`inputs[${n}]`, 'a sequence must have at least one step'),
  );
  const inputSize = row(inputs[0][0], 'inputs[0][0]', null).length;
  if (inputSize === 0) fail('inputs[0][0]', 'a step needs at least one value');
  const lengths = Uint32Array.from(inputs, (s) => s.length);
  const offsets = offsetsFromLengths(lengths);
  const flatIn = new Float64Array(offsets[count] * inputSize);
  let k = 0;
  inputs.forEach((seq, n) =>
    seq.forEach((step, t) => row(step, `inputs[${n}][${t}]`, inputSize).forEach((v) => (flatIn[k++] = v))),
  );
  let flatT: Float64Array | null = null;
  if (targets !== null && targets !== undefined) {
    const ts = arr(targets, 'targets');
    if (ts.length !== count) fail('targets', `expected ${count} entries (one per sequence), got ${ts.length}`);
    if (output === 'last') {
      outputSize = row(ts[0], 'targets[0]', null).length;
      flatT = new Float64Array(count * outputSize);
      k = 0;
      ts.forEach((r, n) => row(r, `targets[${n}]`, outputSize).forEach((v) => (flatT![k++] = v)));
    } else {
      const first = arr(ts[0], 'targets[0]');
      outputSize = row(first[0], 'targets[0][0]', null).length;
      flatT = new Float64Array(offsets[count] * outputSize);
      k = 0;
      ts.forEach((seq, n) => {
        const steps = arr(seq, `targets[${n}]`);
        if (steps.length !== lengths[n])
          fail(`targets[${n}]`, `expected ${lengths[n]} steps (as inputs[${n}]), got ${steps.length}`);
        steps.forEach((step, t) => row(step, `targets[${n}][${t}]`, outputSize).forEach((v) => (flatT![k++] = v)));
      });
    }
    if (outputSize === 0) fail('targets[0]', 'a target needs at least one value');
  }
  return { count, inputSize, outputSize, output, lengths, offsets, inputs: flatIn, targets: flatT };
}
