// The safetensors container (huggingface.co/docs/safetensors): an 8-byte little-endian header length n, n bytes of
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the tensors'
// bytes, little-endian, offsets counted from the end of the header. Reads F32, F64, F16 and BF16 tensors into
// float64 and writes F32. Every size the header claims is checked against the bytes actually there before anything
// is allocated for it; each problem is one InputError naming the tensor and field. Browser-safe (no Node modules).

import { InputError } from '../errors.ts';

/** The float dtypes read here, and their sizes in bytes. */
export const SAFETENSORS_DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2 } as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** One tensor of a safetensors file, its values widened to float64. */
export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  values: Float64Array;
}

/** A parsed safetensors file: tensors by name (in the header's order) and the `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** The largest header the reader accepts (the format's own limit: 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** The first 8 bytes as the header length, or null when the file is shorter than that. */
function headerLength(bytes: Uint8Array): number | null {
  if (bytes.length < 8) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** True when the bytes look like a safetensors file: a plausible header length followed by `{`. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  const n = headerLength(bytes);
  return n !== null && n >= 2 && n <= bytes.length - 8 && bytes[8] === 0x7b;
}

/** IEEE half precision bits as a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes `count` little-endian values of `dtype` from `view` at `offset` into float64. */
export function decodeFloats(view: DataView, offset: number, count: number, dtype: SafetensorsDtype): Float64Array {
  const out = new Float64Array(count);
  const size = SAFETENSORS_DTYPES[dtype];
  const f32 = new DataView(new ArrayBuffer(4));
  for (let k = 0; k < count; k++) {
    const at = offset + k * size;
    if (dtype === 'F32') out[k] = view.getFloat32(at, true);
    else if (dtype === 'F64') out[k] = view.getFloat64(at, true);
    else if (dtype === 'F16') out[k] = halfToNumber(view.getUint16(at, true));
    else {
      f32.setUint32(0, view.getUint16(at, true) << 16);
      out[k] = f32.getFloat32(0);
    }
  }
  return out;
}

/** Reads a safetensors file (see the top of this file); `source` names it in errors. */
export function readSafetensors(bytes: Uint8Array, source?: string): SafetensorsFile {
  const fail = (field: string, message: string): never => {
    throw new InputError(field, message, source);
  };
  const n = headerLength(bytes);
  if (n === null)
    fail('header', `truncated: ${bytes.length} bytes, a safetensors file starts with an 8-byte header length`);
  if (n! > bytes.length - 8)
    fail('header', `header length ${n} is larger than the file (${bytes.length} bytes): truncated or not safetensors`);
  if (n! > MAX_SAFETENSORS_HEADER) fail('header', `header length ${n} is over the format's limit of 100 MB`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n!)));
  } catch (e) {
    fail('header', `not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('header', 'must be a JSON object of tensors');
  const dataStart = 8 + n!;
  const dataLength = bytes.length - dataStart;
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataLength);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; count: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        fail('__metadata__', 'must be an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k}`, 'must be a string');
        metadata[k] = v as string;
      }
      continue;
    }
    const field = JSON.stringify(name);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      fail(field, 'must be an object {dtype, shape, data_offsets}');
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, dtype))
      fail(
        `${field}.dtype`,
        dtype === undefined
          ? 'missing'
          : `${JSON.stringify(dtype)} is not a float type read here (F32, F64, F16 or BF16)`,
      );
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
      fail(`${field}.shape`, 'must be a list of non-negative integers');
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    )
      fail(`${field}.data_offsets`, 'must be [begin, end], two non-negative integers');
    const [begin, end] = offsets as number[];
    if (end < begin) fail(`${field}.data_offsets`, `end ${end} is before begin ${begin}`);
    if (end > dataLength)
      fail(`${field}.data_offsets`, `end ${end} is past the end of the data (${dataLength} bytes): truncated file`);
    const size = SAFETENSORS_DTYPES[dtype as SafetensorsDtype];
    const count = (shape as number[]).reduce((a, d) => a * d, 1);
    if (count * size !== end - begin)
      fail(
        `${field}.data_offsets`,
        `shape [${(shape as number[]).join(', ')}] of ${dtype as string} takes ${count * size} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    spans.push({ name, begin, end });
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, count });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let k = 1; k < spans.length; k++) {
    const [a, b] = [spans[k - 1], spans[k]];
    if (b.begin < a.end && b.end > b.begin)
      fail(
        `${JSON.stringify(b.name)}.data_offsets`,
        `bytes [${b.begin}, ${b.end}] overlap ${JSON.stringify(a.name)}'s [${a.begin}, ${a.end}]`,
      );
  }
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries)
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, values: decodeFloats(view, e.begin, e.count, e.dtype) });
  return { tensors, metadata };
}

/** A tensor to write: its name, shape and values (written as F32). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  values: ArrayLike<number>;
}

/**
 * Writes tensors as a safetensors file of F32 values, in the order given, with `metadata` as `__metadata__`. The
 * header is padded with spaces to a multiple of 8 bytes, so every tensor starts aligned.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.values.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(text.length / 8) * 8;
  if (padded !== text.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(text);
    text = p;
  }
  const out = new Uint8Array(8 + text.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const t of tensors) for (let k = 0; k < t.values.length; k++, at += 4) view.setFloat32(at, t.values[k], true);
  return out;
}
