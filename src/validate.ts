// Validation of untrusted input: model JSON, data JSON and programmatic batches. Every error is an InputError
// that names the field and index (e.g. `weights.Wh[0][1]`, `inputs[3][0][0]`), so nothing runs on bad data.

import { offsetsFromLengths, valueName, type Batch } from './batch.ts';
import { InputError } from './errors.ts';
import { ACTIVATIONS, LIMITS, OUTPUT_MODES, paramName, type Model, type ModelJSON } from './model.ts';

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : `a ${typeof v}`;
}

/** A finite number, or an InputError naming `field`. */
export function finiteNumber(v: unknown, field: string, source?: string): number {
  if (typeof v !== 'number') throw new InputError(field, `expected a number, got ${kind(v)}`, source);
  if (!Number.isFinite(v)) throw new InputError(field, `must be finite, got ${v}`, source);
  return v;
}

function integerIn(v: unknown, field: string, lo: number, hi: number, source?: string): number {
  const n = finiteNumber(v, field, source);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new InputError(field, `must be an integer from ${lo} to ${hi}, got ${n}`, source);
  return n;
}

function array(v: unknown, field: string, length: number | null, source?: string): unknown[] {
  if (!Array.isArray(v)) throw new InputError(field, `expected an array, got ${kind(v)}`, source);
  if (length !== null && v.length !== length) throw new InputError(field, `expected ${length} entries, got ${v.length}`, source);
  return v;
}

/** A vector of `length` finite numbers. */
export function vector(v: unknown, field: string, length: number | null, source?: string): number[] {
  return array(v, field, length, source).map((x, i) => finiteNumber(x, `${field}[${i}]`, source));
}

/** A rows×cols matrix of finite numbers. */
export function matrix(v: unknown, field: string, rows: number, cols: number, source?: string): number[][] {
  return array(v, field, rows, source).map((row, r) => vector(row, `${field}[${r}]`, cols, source));
}

function object(v: unknown, field: string, source?: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(field, `expected an object, got ${kind(v)}`, source);
  return v as Record<string, unknown>;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], source?: string): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new InputError(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v) : kind(v)}`, source);
  }
  return v as T;
}

/** Validates a model JSON object (sizes, activation, output mode, every weight's shape and finiteness). */
export function parseModel(json: unknown, source = 'model'): ModelJSON {
  const m = object(json, '', source);
  const I = integerIn(m.inputSize, 'inputSize', 1, LIMITS.maxInputSize, source);
  const H = integerIn(m.hiddenSize, 'hiddenSize', 1, LIMITS.maxHiddenSize, source);
  const O = integerIn(m.outputSize, 'outputSize', 1, LIMITS.maxOutputSize, source);
  const activation = oneOf(m.activation, 'activation', ACTIVATIONS, source);
  const output = oneOf(m.output ?? 'last', 'output', OUTPUT_MODES, source);
  const w = object(m.weights, 'weights', source);
  const weights = {
    Wx: matrix(w.Wx, 'weights.Wx', H, I, source),
    Wh: matrix(w.Wh, 'weights.Wh', H, H, source),
    bh: vector(w.bh, 'weights.bh', H, source),
    Wy: matrix(w.Wy, 'weights.Wy', O, H, source),
    by: vector(w.by, 'weights.by', O, source),
  };
  const out: ModelJSON = { inputSize: I, hiddenSize: H, outputSize: O, activation, output, weights };
  if (m.h0 !== undefined) out.h0 = vector(m.h0, 'h0', H, source);
  return out;
}

/** Index of the first value that is NaN or ±Infinity, or −1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return k;
  return -1;
}

/** Index of the first value that becomes ±Infinity when rounded to float32 (|v| ≥ 2^128 about), or −1. */
export function firstFloat32Overflow(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(Math.fround(a[k]))) return k;
  return -1;
}

/**
 * For float32 backends: every weight, h0, input and target must be representable in float32, or the run would
 * start from ±Infinity. Throws an InputError naming the first value that is not (call after checkBatch).
 */
export function checkFloat32Range(model: Model, b: Batch, source = 'data'): void {
  let k = firstFloat32Overflow(model.params);
  if (k >= 0) throw new InputError(`weights.${paramName(model, k)}`, `${model.params[k]} overflows float32 (the WebGPU backend computes in float32)`, 'model');
  k = firstFloat32Overflow(model.h0);
  if (k >= 0) throw new InputError(`h0[${k}]`, `${model.h0[k]} overflows float32 (the WebGPU backend computes in float32)`, 'model');
  k = firstFloat32Overflow(b.inputs);
  if (k >= 0) throw new InputError(valueName(b, 'inputs', k, b.inputSize, true), `${b.inputs[k]} overflows float32 (the WebGPU backend computes in float32)`, source);
  if (b.targets) {
    k = firstFloat32Overflow(b.targets);
    if (k >= 0) throw new InputError(valueName(b, 'targets', k, b.outputSize, b.output === 'all'), `${b.targets[k]} overflows float32 (the WebGPU backend computes in float32)`, source);
  }
}

/** What a batch is checked against: the model's sizes and output mode. */
export type DataShape = Pick<Model, 'inputSize' | 'outputSize' | 'output'>;

/**
 * Checks a programmatic batch against a model: sizes, lengths ≥ 1, array lengths, and that every
 * input and target is finite. Throws an InputError naming the first bad field.
 */
export function checkBatch(model: DataShape, b: Batch, source = 'data'): void {
  if (!Number.isInteger(b.count) || b.count < 1) throw new InputError('inputs', `the batch is empty: it needs at least one sequence`, source);
  if (b.inputSize !== model.inputSize) throw new InputError('inputs', `steps have ${b.inputSize} values but the model's inputSize is ${model.inputSize}`, source);
  if (b.targets && b.output !== model.output) throw new InputError('targets', `the data has targets for output mode "${b.output}" but the model's output is "${model.output}"`, source);
  if (b.lengths.length !== b.count) throw new InputError('lengths', `expected ${b.count} lengths, got ${b.lengths.length}`, source);
  for (let n = 0; n < b.count; n++) if (b.lengths[n] < 1) throw new InputError(`inputs[${n}]`, 'a sequence must have at least one step', source);
  for (let n = 0; n < b.count; n++) {
    if (b.lengths[n] > LIMITS.maxSteps) throw new InputError(`lengths[${n}]`, `a sequence may have at most ${LIMITS.maxSteps} steps, got ${b.lengths[n]}`, source);
  }
  const expected = offsetsFromLengths(b.lengths);
  if (b.offsets.length !== b.count + 1 || b.offsets.some((v, k) => v !== expected[k])) {
    throw new InputError('offsets', 'offsets must be the prefix sums of lengths', source);
  }
  const steps = expected[b.count];
  const I = b.inputSize;
  if (b.inputs.length !== steps * I) throw new InputError('inputs', `expected ${steps * I} values (${steps} steps × ${I}), got ${b.inputs.length}`, source);
  let k = firstNonFinite(b.inputs);
  if (k >= 0) throw new InputError(valueName(b, 'inputs', k, I, true), `must be finite, got ${b.inputs[k]}`, source);
  if (b.targets) {
    const O = model.outputSize;
    if (b.outputSize !== O) throw new InputError('targets', `targets have ${b.outputSize} values but the model's outputSize is ${O}`, source);
    const want = (b.output === 'last' ? b.count : steps) * O;
    if (b.targets.length !== want) throw new InputError('targets', `expected ${want} values, got ${b.targets.length}`, source);
    k = firstNonFinite(b.targets);
    if (k >= 0) throw new InputError(valueName(b, 'targets', k, O, b.output === 'all'), `must be finite, got ${b.targets[k]}`, source);
  }
}

/**
 * Validates a data JSON object against a model: `{"inputs": N×T_n×I, "targets": N×O ("last") or N×T_n×O ("all")}`.
 * Targets may be omitted for a forward pass without loss. Returns a float64 batch.
 */
export function parseData(json: unknown, model: DataShape, source = 'data'): Batch {
  const d = object(json, '', source);
  const inputs = array(d.inputs, 'inputs', null, source);
  if (inputs.length === 0) throw new InputError('inputs', 'the batch is empty: it needs at least one sequence', source);
  const I = model.inputSize;
  const O = model.outputSize;
  const lengths = new Uint32Array(inputs.length);
  inputs.forEach((seq, n) => {
    const s = array(seq, `inputs[${n}]`, null, source);
    if (s.length === 0) throw new InputError(`inputs[${n}]`, 'a sequence must have at least one step', source);
    lengths[n] = s.length;
  });
  const offsets = offsetsFromLengths(lengths);
  const flatIn = new Float64Array(offsets[inputs.length] * I);
  inputs.forEach((seq, n) => {
    (seq as unknown[]).forEach((step, t) => {
      const field = `inputs[${n}][${t}]`;
      const v = array(step, field, I, source);
      for (let i = 0; i < I; i++) flatIn[(offsets[n] + t) * I + i] = finiteNumber(v[i], `${field}[${i}]`, source);
    });
  });
  let flatT: Float64Array | null = null;
  if (d.targets !== undefined) {
    const targets = array(d.targets, 'targets', inputs.length, source);
    if (model.output === 'last') {
      flatT = new Float64Array(inputs.length * O);
      targets.forEach((row, n) => {
        const field = `targets[${n}]`;
        const v = array(row, field, O, source);
        for (let o = 0; o < O; o++) flatT![n * O + o] = finiteNumber(v[o], `${field}[${o}]`, source);
      });
    } else {
      flatT = new Float64Array(offsets[inputs.length] * O);
      targets.forEach((seq, n) => {
        const s = array(seq, `targets[${n}]`, lengths[n], source);
        s.forEach((step, t) => {
          const field = `targets[${n}][${t}]`;
          const v = array(step, field, O, source);
          for (let o = 0; o < O; o++) flatT![(offsets[n] + t) * O + o] = finiteNumber(v[o], `${field}[${o}]`, source);
        });
      });
    }
  }
  return { count: inputs.length, inputSize: I, outputSize: O, output: model.output, lengths, offsets, inputs: flatIn, targets: flatT };
}
