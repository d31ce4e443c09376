// ONNX model files through protobufjs (the message descriptor is src/interop/onnx-proto.ts): decoding a file into
// plain objects, encoding one, and tensors (TensorProto) to and from float64 values. A length or count the file
// claims is never trusted: protobufjs checks every length-delimited field against the bytes there, and a tensor's
// dims are checked against the data it actually holds before its values are allocated. Browser-safe.

import protobuf from 'protobufjs/light.js';
import { InputError } from '../errors.ts';
import { decodeFloats } from './safetensors.ts';
import { ONNX_ATTR, ONNX_DTYPE, ONNX_PROTO } from './onnx-proto.ts';

/** A TensorProto as decoded (only the fields read here). */
export interface OnnxTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  doubleData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  externalData?: { key: string; value: string }[];
  dataLocation?: number;
}

export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
}

export interface OnnxValueInfo {
  name: string;
  type?: {
    tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } };
  };
}

export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  graph?: OnnxGraph;
  metadataProps?: { key: string; value: string }[];
}

let modelType: protobuf.Type | null = null;
/** The protobufjs type of onnx.ModelProto (built once). */
function ModelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_PROTO).lookupType('onnx.ModelProto');
  return modelType;
}

/** Decodes an ONNX file; bytes that are not an ONNX protobuf are an InputError. */
export function decodeOnnx(bytes: Uint8Array, source?: string): OnnxModel {
  const T = ModelProto();
  let model: OnnxModel;
  try {
    model = T.toObject(T.decode(bytes), { longs: Number, arrays: true, defaults: false });
  } catch (e) {
    throw new InputError('', `not an ONNX model (not a valid protobuf: ${(e as Error).message})`, source);
  }
  if (!model.graph || !model.irVersion)
    throw new InputError('', 'not an ONNX model (no ir_version or graph in the protobuf)', source);
  return model;
}

/** Encodes an ONNX model (plain objects in the shape of OnnxModel) as protobuf bytes. */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const T = ModelProto();
  return T.encode(T.fromObject(model)).finish();
}

const DTYPE_NAMES: Record<number, string> = {
  1: 'float',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'double',
  16: 'bfloat16',
};

/** A tensor's values as float64 (float, double, float16, bfloat16, int32 and int64 tensors). */
export function tensorValues(t: OnnxTensor, field: string, source?: string): { dims: number[]; values: Float64Array } {
  const fail = (message: string): never => {
    throw new InputError(field, message, source);
  };
  if ((t.externalData?.length ?? 0) > 0 || t.dataLocation === 1)
    fail('its data is in an external file: save the model with every tensor inside the .onnx file');
  const dims = t.dims ?? [];
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`bad dims [${dims.join(', ')}]`);
  const count = dims.reduce((a, d) => a * d, 1);
  const type = t.dataType ?? 0;
  const sizes: Record<number, number> = { 1: 4, 6: 4, 7: 8, 10: 2, 11: 8, 16: 2 };
  const size =
    sizes[type] ?? fail(`data type ${type} is not one read here (float, double, float16, bfloat16, int32, int64)`);
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * size)
      fail(
        `dims [${dims.join(', ')}] of ${DTYPE_NAMES[type]} take ${count * size} bytes, its raw_data holds ${t.rawData.length}`,
      );
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
    if (type === ONNX_DTYPE.FLOAT) return { dims, values: decodeFloats(view, 0, count, 'F32') };
    if (type === ONNX_DTYPE.DOUBLE) return { dims, values: decodeFloats(view, 0, count, 'F64') };
    if (type === ONNX_DTYPE.FLOAT16) return { dims, values: decodeFloats(view, 0, count, 'F16') };
    if (type === ONNX_DTYPE.BFLOAT16) return { dims, values: decodeFloats(view, 0, count, 'BF16') };
    const out = new Float64Array(count);
    for (let k = 0; k < count; k++)
      out[k] = type === ONNX_DTYPE.INT32 ? view.getInt32(4 * k, true) : Number(view.getBigInt64(8 * k, true));
    return { dims, values: out };
  }
  const list =
    type === ONNX_DTYPE.FLOAT
      ? t.floatData
      : type === ONNX_DTYPE.DOUBLE
        ? t.doubleData
        : type === ONNX_DTYPE.INT64
          ? t.int64Data
          : t.int32Data;
  const values = list ?? [];
  if (values.length !== count) fail(`dims [${dims.join(', ')}] hold ${count} values, the tensor has ${values.length}`);
  if (type === ONNX_DTYPE.FLOAT16 || type === ONNX_DTYPE.BFLOAT16) {
    // int32_data holds the 16-bit patterns.
    const view = new DataView(new Uint16Array(values).buffer);
    return { dims, values: decodeFloats(view, 0, count, type === ONNX_DTYPE.FLOAT16 ? 'F16' : 'BF16') };
  }
  return { dims, values: Float64Array.from(values) };
}

/** A float32 tensor (raw_data, little-endian). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < values.length; k++) view.setFloat32(4 * k, values[k], true);
  return { name, dims, dataType: ONNX_DTYPE.FLOAT, rawData: raw };
}

/** An int64 tensor (int64_data). */
export function int64Tensor(name: string, dims: number[], values: number[]): OnnxTensor {
  return { name, dims, dataType: ONNX_DTYPE.INT64, int64Data: values };
}

/** Attribute builders. */
export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: ONNX_ATTR.INT, i }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: ONNX_ATTR.INTS, ints }),
  floats: (name: string, floats: number[]): OnnxAttribute => ({ name, type: ONNX_ATTR.FLOATS, floats }),
  string: (name: string, s: string): OnnxAttribute => ({
    name,
    type: ONNX_ATTR.STRING,
    s: new TextEncoder().encode(s),
  }),
  strings: (name: string, ss: string[]): OnnxAttribute => ({
    name,
    type: ONNX_ATTR.STRINGS,
    strings: ss.map((s) => new TextEncoder().encode(s)),
  }),
  tensor: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: ONNX_ATTR.TENSOR, t }),
};

/** An attribute's text (STRING) or texts (STRINGS). */
export function attrText(a: OnnxAttribute): string {
  return new TextDecoder().decode(a.s ?? new Uint8Array());
}
export function attrTexts(a: OnnxAttribute): string[] {
  return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
}
