// The RNNB codec: bytes in memory to a validated Batch and back, with no file system (browser-safe). The file
// functions (src/io/rnnb.ts) stream the same bytes to and from disk.
//
// The compact binary data format "RNNB" (file extension `.rnnb`): a batch of ragged sequences as float32.
//
// All integers are unsigned 32-bit and all values IEEE-754 float32, little-endian, with no padding:
//
//   offset  size          field
//   0       4             magic: the ASCII bytes "RNNB" (0x52 0x4E 0x4E 0x42)
//   4       4             version: u32 = 1
//   8       4             N: u32, number of sequences (≥ 1)
//   12      4             I: u32, values per input step (must equal the model's inputSize)
//   16      4             O: u32, values per target (must equal the model's outputSize when targets are present)
//   20      4             mode: u32, 0 = "last" (one target per sequence), 1 = "all" (one target per step);
//                           must equal the model's output mode when targets are present
//   24      4             flags: u32, bit 0 = the file has targets; all other bits must be 0
//   28      4             reserved: u32 = 0
//   32      4·N           lengths[N]: u32, steps in each sequence (each ≥ 1); S = Σ lengths
//   32+4N   4·S·I         inputs: f32, sequence-major, step-major inside a sequence, I values per step:
//                           value i of step t of sequence n is at index (lengths[0] + … + lengths[n−1] + t)·I + i
//                           (exactly Batch.inputs' layout)
//   …       4·N·O         targets (only when flags bit 0): mode "last": f32[N·O], value o of sequence n at n·O + o;
//        or 4·S·O           mode "all": f32[S·O], same step layout as the inputs
//
// The file size must be exactly 32 + 4·N + 4·S·I (+ 4·N·O or 4·S·O with targets): shorter is "truncated",
// longer is "trailing bytes". Every input and target must be finite. Without targets, O and mode are recorded
// but not checked against the model (like a data JSON file without "targets", it fits any model with the same I).

import { offsetsFromLengths, valueName, type Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import type { OutputMode } from '../model.ts';
import { LIMITS } from '../model.ts';
import { checkBatch, firstNonFinite, type DataShape } from '../validate.ts';
import type { ByteSink } from './atomic.ts';

/** The first four bytes of every `.rnnb` file. */
export const RNNB_MAGIC = 'RNNB';
/** The format version this package reads and writes. */
export const RNNB_VERSION = 1;
/** Size of the fixed header; the sequence lengths follow it. */
export const RNNB_HEADER_BYTES = 32;
const FLAG_TARGETS = 1;
/** The most values one typed array holds in this JavaScript engine (2^32 in Node 20 and 22). */
export const MAX_ARRAY_VALUES = 2 ** 32;
const MODES = ['last', 'all'] as const;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each 4-byte word (only needed on big-endian hosts). */
function swap32(bytes: Uint8Array): void {
  for (let k = 0; k + 3 < bytes.length; k += 4) {
    const a = bytes[k];
    const b = bytes[k + 1];
    bytes[k] = bytes[k + 3];
    bytes[k + 1] = bytes[k + 2];
    bytes[k + 2] = b;
    bytes[k + 3] = a;
  }
}

/** Random-access bytes: a file or an in-memory buffer. */
export interface ByteSource {
  size: number;
  /** Fills `into` with the bytes at `position`; the caller guarantees they exist. */
  read(into: Uint8Array, position: number): void;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (into, position) => into.set(bytes.subarray(position, position + into.length)) };
}

/** Decodes and validates RNNB bytes from any random-access source. */
export function decodeSource(src: ByteSource, model: DataShape, source: string): Batch {
  const size = src.size;
  const err = (field: string, message: string): InputError => new InputError(field, message, source);

  const head = new Uint8Array(Math.min(RNNB_HEADER_BYTES, size));
  src.read(head, 0);
  if (size < 4 || new TextDecoder().decode(head.subarray(0, 4)) !== RNNB_MAGIC) {
    const got = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw err(
      'magic',
      `not an RNNB file: expected the bytes "RNNB" (52 4e 4e 42) at offset 0, got ${got ? `(${got})` : 'an empty file'}`,
    );
  }
  if (size < RNNB_HEADER_BYTES) {
    throw err('header', `truncated file: expected at least ${RNNB_HEADER_BYTES} bytes for the header, got ${size}`);
  }
  const dv = new DataView(head.buffer, head.byteOffset, RNNB_HEADER_BYTES);
  const u32 = (offset: number): number => dv.getUint32(offset, true);
  const version = u32(4);
  const N = u32(8);
  const I = u32(12);
  const O = u32(16);
  const modeCode = u32(20);
  const flags = u32(24);
  const reserved = u32(28);
  if (version !== RNNB_VERSION)
    throw err('version', `unsupported version ${version}: this reader understands version ${RNNB_VERSION}`);
  if (modeCode > 1) throw err('mode', `must be 0 ("last") or 1 ("all"), got ${modeCode}`);
  if ((flags & ~FLAG_TARGETS) !== 0)
    throw err(
      'flags',
      `unknown flag bits 0x${(flags & ~FLAG_TARGETS).toString(16)} (only bit 0, "has targets", is defined)`,
    );
  if (reserved !== 0) throw err('reserved', `must be 0, got ${reserved}`);
  if (N === 0) throw err('count', 'the batch is empty: it needs at least one sequence');
  if (I !== model.inputSize)
    throw err('inputSize', `steps have ${I} values but the model's inputSize is ${model.inputSize}`);
  const hasTargets = (flags & FLAG_TARGETS) !== 0;
  const mode = MODES[modeCode];
  if (hasTargets && O !== model.outputSize)
    throw err('outputSize', `targets have ${O} values but the model's outputSize is ${model.outputSize}`);
  if (hasTargets && mode !== model.output) {
    throw err('mode', `the data has targets for output mode "${mode}" but the model's output is "${model.output}"`);
  }

  // Everything the header and the file size decide is checked before any memory is spent on the batch.
  const lengthsEnd = RNNB_HEADER_BYTES + 4 * N;
  const perSeqMin = 4 * I + (hasTargets ? 4 * O : 0); // each sequence has at least one step
  const minimum = lengthsEnd + N * perSeqMin;
  if (size < minimum) {
    throw err(
      size < lengthsEnd ? 'lengths' : 'inputs',
      `truncated file: ${N} sequences of at least one step need at least ${minimum} bytes, got ${size}`,
    );
  }
  // Pass 1: check every length and sum the steps, in small chunks (a bad length is named before the rest is read).
  const CHUNK = 1 << 16;
  const scratch = new Uint32Array(Math.min(N, CHUNK));
  let steps = 0;
  for (let start = 0; start < N; start += CHUNK) {
    const part = scratch.subarray(0, Math.min(CHUNK, N - start));
    const bytes = new Uint8Array(part.buffer, 0, part.byteLength);
    src.read(bytes, RNNB_HEADER_BYTES + 4 * start);
    if (!LITTLE_ENDIAN_HOST) swap32(bytes);
    for (let k = 0; k < part.length; k++) {
      const len = part[k];
      if (len === 0) throw err(`lengths[${start + k}]`, 'a sequence must have at least one step, got length 0');
      if (len > LIMITS.maxSteps)
        throw err(`lengths[${start + k}]`, `a sequence may have at most ${LIMITS.maxSteps} steps, got ${len}`);
      steps += len;
    }
    // The remaining sequences need at least one step each: stop early when the file cannot hold them.
    const atLeast = steps + (N - start - part.length);
    const needed = lengthsEnd + 4 * atLeast * I + (hasTargets ? 4 * (mode === 'all' ? atLeast : N) * O : 0);
    if (atLeast > steps && needed > size) {
      throw err(
        `lengths[${start + part.length - 1}]`,
        `truncated file: the lengths up to here (${steps} steps so far) need at least ${needed} bytes, got ${size}`,
      );
    }
  }
  const inputCount = steps * I;
  const targetCount = hasTargets ? (mode === 'last' ? N : steps) * O : 0;
  const inputsEnd = lengthsEnd + 4 * inputCount;
  const expected = inputsEnd + 4 * targetCount;
  const layout = `${N} sequences, ${steps} steps × ${I} inputs${hasTargets ? `, ${targetCount} target values` : ', no targets'}`;
  if (size < expected) {
    throw err(
      size < inputsEnd ? 'inputs' : 'targets',
      `truncated file: expected ${expected} bytes, got ${size} (${layout})`,
    );
  }
  if (size > expected)
    throw err(
      '',
      `${size - expected} trailing byte${size - expected === 1 ? '' : 's'}: expected ${expected} bytes, got ${size} (${layout})`,
    );
  if (inputCount > MAX_ARRAY_VALUES)
    throw err(
      'inputs',
      `${inputCount} input values (${layout}) are more than one array can hold (${MAX_ARRAY_VALUES})`,
    );
  if (targetCount > MAX_ARRAY_VALUES)
    throw err(
      'targets',
      `${targetCount} target values (${layout}) are more than one array can hold (${MAX_ARRAY_VALUES})`,
    );

  // Pass 2: the lengths again (now known to be good), then the values in chunks, each checked as it arrives.
  const lengths = new Uint32Array(N);
  const lengthBytes = new Uint8Array(lengths.buffer);
  src.read(lengthBytes, RNNB_HEADER_BYTES);
  if (!LITTLE_ENDIAN_HOST) swap32(lengthBytes);
  const offsets = offsetsFromLengths(lengths);
  const shape = { count: N, offsets };
  const readF32 = (count: number, position: number, field: string, width: number, perStep: boolean): Float32Array => {
    const a = new Float32Array(count);
    const VALUES = 1 << 22;
    for (let start = 0; start < count; start += VALUES) {
      const part = a.subarray(start, Math.min(count, start + VALUES));
      const bytes = new Uint8Array(a.buffer, part.byteOffset, part.byteLength);
      src.read(bytes, position + 4 * start);
      if (!LITTLE_ENDIAN_HOST) swap32(bytes);
      const k = firstNonFinite(part);
      if (k >= 0) throw err(valueName(shape, field, start + k, width, perStep), `must be finite, got ${part[k]}`);
    }
    return a;
  };
  const inputs = readF32(inputCount, lengthsEnd, 'inputs', I, true);
  const targets = hasTargets ? readF32(targetCount, inputsEnd, 'targets', O, mode === 'all') : null;
  const batch: Batch = {
    count: N,
    inputSize: I,
    outputSize: hasTargets ? O : model.outputSize,
    output: hasTargets ? mode : model.output,
    lengths,
    offsets,
    inputs,
    targets,
  };
  checkBatch(model, batch, source); // non-finite values, named inputs[n][t][i] / targets[n][o] / targets[n][t][o]
  return batch;
}

/** Decodes and validates RNNB bytes held in memory. */
export function decodeRnnb(bytes: Uint8Array, model: DataShape, source = 'data'): Batch {
  return decodeSource(memorySource(bytes), model, source);
}

/** The 32-byte RNNB header. */
export function headerBytes(count: number, I: number, O: number, output: OutputMode, hasTargets: boolean): Uint8Array {
  const head = new DataView(new ArrayBuffer(RNNB_HEADER_BYTES));
  const bytes = new Uint8Array(head.buffer);
  bytes.set(new TextEncoder().encode(RNNB_MAGIC), 0);
  head.setUint32(4, RNNB_VERSION, true);
  head.setUint32(8, count, true);
  head.setUint32(12, I, true);
  head.setUint32(16, O, true);
  head.setUint32(20, output === 'last' ? 0 : 1, true);
  head.setUint32(24, hasTargets ? FLAG_TARGETS : 0, true);
  head.setUint32(28, 0, true);
  return bytes;
}

/** Little-endian bytes of u32 or f32 values (a copy on big-endian hosts, else a view). */
export function u32Bytes(values: Uint32Array | Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.byteLength);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  swap32(out);
  return out;
}

/** Streams a batch in RNNB format to `write`. Values are converted to float32; one that overflows is an InputError. */
export function encode(batch: Batch, write: ByteSink, source: string): void {
  // Structure and finiteness, checked against the batch's own sizes.
  checkBatch(batch, batch, source);
  if (batch.count > 0xffffffff)
    throw new InputError('count', `at most ${0xffffffff} sequences fit in an RNNB file, got ${batch.count}`, source);
  write(headerBytes(batch.count, batch.inputSize, batch.outputSize, batch.output, batch.targets !== null));
  write(u32Bytes(batch.lengths));

  const CHUNK = 1 << 20;
  const writeF32 = (values: Float32Array | Float64Array, field: string, width: number, perStep: boolean): void => {
    for (let start = 0; start < values.length; start += CHUNK) {
      const part = values.subarray(start, Math.min(values.length, start + CHUNK));
      const f32 = new Float32Array(part); // a copy, rounded to float32
      for (let k = 0; k < f32.length; k++) {
        if (!Number.isFinite(f32[k])) {
          throw new InputError(
            valueName(batch, field, start + k, width, perStep),
            `${part[k]} overflows float32`,
            source,
          );
        }
      }
      write(u32Bytes(f32));
    }
  };
  writeF32(batch.inputs, 'inputs', batch.inputSize, true);
  if (batch.targets) writeF32(batch.targets, 'targets', batch.outputSize, batch.output === 'all');
}

/** The RNNB bytes of a batch, in memory. */
export function encodeRnnb(batch: Batch, source = 'data'): Uint8Array {
  const parts: Uint8Array[] = [];
  encode(batch, (b) => parts.push(b.slice()), source);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Throws an InputError (field `count`) when a data set of `steps` steps would not fit the readers' arrays. */
export function checkDataValues(
  count: number,
  steps: number,
  I: number,
  O: number,
  output: OutputMode,
  withTargets: boolean,
  source: string,
): void {
  if (count > 0xffffffff)
    throw new InputError('count', `at most ${0xffffffff} sequences fit in an RNNB file, got ${count}`, source);
  const inputs = steps * I;
  const targets = withTargets ? (output === 'last' ? count : steps) * O : 0;
  if (inputs > MAX_ARRAY_VALUES || targets > MAX_ARRAY_VALUES) {
    throw new InputError(
      'count',
      `${count} sequences of ${steps} steps in all hold ${Math.max(inputs, targets)} values, more than a reader can hold in one array (${MAX_ARRAY_VALUES}); write fewer or shorter sequences`,
      source,
    );
  }
}
