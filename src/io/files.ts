// Reading model and data files, and writing data files, for the CLI (Node only).
//
//   model: a model JSON file (see ModelJSON in src/model.ts), or a preset name such as `statquest` when no file of
//          that name exists.
//   data:  a data JSON file `{"inputs": N×T_n×I, "targets"?: N×O | N×T_n×O}` (see parseData in src/validate.ts),
//          or the binary RNNB format (src/io/rnnb.ts), chosen by the extension `.rnnb` or by the magic bytes.
//
// Every problem with a file is an InputError whose source is the file name (CLI exit code 2).

import { constants as bufferConstants } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { PRESETS, preset, type Model, type ModelJSON } from '../model.ts';
import { checkBatch, parseData, parseModel } from '../validate.ts';
import { TextChunker, writeFileAtomic, writeFileAtomicAsync } from './atomic.ts';
import { parseJsonText } from './json-error.ts';
import { sequenceInputs, sequenceTargets } from './nested.ts';
import { randomBatch, type RandomBatchOptions } from '../random.ts';
import { hasRnnbMagic, readRnnbFile, writeRandomRnnbFile, writeRandomRnnbFileAsync, writeRnnbFile } from './rnnb.ts';

export {
  readRnnbFile,
  writeRnnbFile,
  writeRandomRnnbFile,
  decodeRnnb,
  encodeRnnb,
  RNNB_MAGIC,
  RNNB_VERSION,
  RNNB_HEADER_BYTES,
} from './rnnb.ts';

/** Throws the InputError for a file that cannot be opened; returns normally when `path` is a readable file. */
function checkReadable(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    throw fsError(path, e);
  }
  if (!isFile) throw new InputError('', 'not a file', path);
}

/** An InputError for a failed file operation: `file not found`, `permission denied`, … */
function fsError(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'file not found'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'not a file'
          : code === 'ENOTDIR'
            ? 'file not found (a parent is not a directory)'
            : `cannot read: ${(e as Error).message}`;
  return new InputError('', why, path);
}

/**
 * The largest text file read whole (JSON, CSV): the longest string this JavaScript engine can hold (about 512 MiB).
 * Larger files are refused from their size, before anything is read.
 */
export const MAX_TEXT_BYTES = bufferConstants.MAX_STRING_LENGTH;

/** Reads a whole text file after checking its size against MAX_TEXT_BYTES; errors are InputErrors naming the file. */
export function readTextFile(path: string, what: string, hint: string): string {
  checkReadable(path);
  const size = statSync(path).size;
  if (size > MAX_TEXT_BYTES) {
    throw new InputError(
      '',
      `file too large to read as ${what}: ${size} bytes, the limit is ${MAX_TEXT_BYTES}${hint ? ` (${hint})` : ''}`,
      path,
    );
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new InputError('', `file too large to read as ${what}${hint ? ` (${hint})` : ''}`, path);
    }
    throw fsError(path, e);
  }
}

/** Reads a file as UTF-8 text and parses it as JSON; errors name the file and the line and column. */
export function readJsonFile(path: string): unknown {
  const text = readTextFile(path, 'JSON', 'use the binary .rnnb format for big batches');
  try {
    return parseJsonText(text);
  } catch (e) {
    if (e instanceof SyntaxError) throw new InputError('', e.message, path);
    throw e;
  }
}

/**
 * Reads and validates a model file. When no file named `pathOrPreset` exists and it names a preset
 * (e.g. `statquest`), returns that preset instead.
 */
export function readModelFile(pathOrPreset: string): ModelJSON {
  let exists = true;
  try {
    statSync(pathOrPreset);
  } catch {
    exists = false;
  }
  if (!exists && Object.hasOwn(PRESETS, pathOrPreset)) return preset(pathOrPreset);
  return parseModel(readJsonFile(pathOrPreset), pathOrPreset);
}

/** True when `path` should be read as RNNB: extension `.rnnb`, or the file starts with the magic bytes. */
export function isBinaryDataFile(path: string): boolean {
  if (extname(path).toLowerCase() === '.rnnb') return true;
  try {
    return hasRnnbMagic(path);
  } catch {
    return false; // the JSON reader reports the file error
  }
}

/** Reads and validates a data file (JSON or RNNB) against a model. JSON gives float64 arrays, RNNB float32. */
export function readDataFile(path: string, model: Model | ModelJSON): Batch {
  checkReadable(path);
  if (isBinaryDataFile(path)) {
    try {
      return readRnnbFile(path, model, path);
    } catch (e) {
      if (e instanceof InputError) throw e;
      if ((e as NodeJS.ErrnoException).code) throw fsError(path, e);
      throw e;
    }
  }
  return parseData(readJsonFile(path), model, path);
}

/** Streams a batch as data JSON text (one sequence per line) to a chunker. */
function* jsonDataPieces(batch: Batch): Generator<string> {
  yield '{\n"inputs": [\n';
  for (let n = 0; n < batch.count; n++) yield (n ? ',\n' : '') + JSON.stringify(sequenceInputs(batch, n));
  yield '\n]';
  if (batch.targets) {
    yield ',\n"targets": [\n';
    for (let n = 0; n < batch.count; n++) yield (n ? ',\n' : '') + JSON.stringify(sequenceTargets(batch, n));
    yield '\n]';
  }
  yield '\n}\n';
}

/** The InputError for a data JSON file that would be larger than the JSON reader accepts. */
function jsonTooLarge(path: string, limit: number): InputError {
  return new InputError(
    'count',
    `the data would take more than ${limit} bytes as JSON, more than the JSON reader accepts: write .rnnb instead, or fewer sequences`,
    path,
  );
}

/**
 * Writes a batch as data JSON (`{"inputs": …, "targets": …}`, one sequence per line), atomically. A file that
 * would be larger than the reader accepts (`limit`, default MAX_TEXT_BYTES) is refused and nothing is left on disk.
 */
export function writeJsonData(path: string, batch: Batch, limit = MAX_TEXT_BYTES): void {
  // Structure and finiteness, against the batch's own sizes (JSON has no Infinity or NaN).
  checkBatch(batch, batch, path);
  writeFileAtomic(path, (write) => {
    const out = new TextChunker(write);
    for (const piece of jsonDataPieces(batch)) {
      out.push(piece);
      if (out.bytes > limit) throw jsonTooLarge(path, limit);
    }
    out.flush();
    if (out.bytes > limit) throw jsonTooLarge(path, limit);
  });
}

/** writeJsonData that yields to the event loop between chunks (so a signal can interrupt it cleanly). */
export async function writeJsonDataAsync(path: string, batch: Batch, limit = MAX_TEXT_BYTES): Promise<void> {
  checkBatch(batch, batch, path);
  await writeFileAtomicAsync(path, async (write) => {
    const encoder = new TextEncoder();
    let parts: string[] = [];
    let size = 0;
    let bytes = 0;
    const flush = async (): Promise<void> => {
      const b = encoder.encode(parts.join(''));
      bytes += b.length;
      if (bytes > limit) throw jsonTooLarge(path, limit);
      parts = [];
      size = 0;
      await write(b);
    };
    for (const piece of jsonDataPieces(batch)) {
      parts.push(piece);
      size += piece.length;
      if (size >= 1 << 20) await flush();
    }
    await flush();
  });
}

/** Data file formats by extension. */
export type DataFormat = 'json' | 'rnnb';

/** The format for an output file name: `.json` or `.rnnb`, else null. */
export function dataFormatOf(path: string): DataFormat | null {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.rnnb' ? 'rnnb' : null;
}

/** A file-system failure of a write as an InputError naming the file; anything else unchanged. */
export function writeError(path: string, e: unknown): unknown {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new InputError('', 'cannot write: the directory does not exist', path);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new InputError('', 'cannot write: permission denied', path);
  if (code === 'EISDIR') return new InputError('', 'cannot write: it is a directory', path);
  if (code === 'ENOSPC') return new Error(`${path}: cannot write: no space left on the device`);
  return e;
}

/** Turns file-system failures of a write into InputErrors naming the file; rethrows anything else. */
export function writing(path: string, body: () => void): void {
  try {
    body();
  } catch (e) {
    throw writeError(path, e);
  }
}

/**
 * Writes a batch atomically (temporary file in the same directory, then rename): data JSON when the extension is
 * `.json`, else the binary RNNB format.
 */
export function writeDataFile(path: string, batch: Batch): void {
  writing(path, () => (dataFormatOf(path) === 'json' ? writeJsonData(path, batch) : writeRnnbFile(path, batch)));
}

/** Writes a batch in the binary RNNB format, atomically (see src/io/rnnb.ts for the layout). */
export function writeBinaryData(path: string, batch: Batch): void {
  writing(path, () => writeRnnbFile(path, batch));
}

/**
 * Writes the seeded data set `randomBatch(opts)` to `path` (format by extension, atomically) and returns its number
 * of steps. RNNB is streamed, so it may be larger than memory; JSON is built in memory. Data the readers would
 * refuse (too many values, a JSON file over MAX_TEXT_BYTES) is refused, and nothing is left on disk.
 */
export function writeRandomData(path: string, opts: RandomBatchOptions): { steps: number } {
  let steps = 0;
  writing(path, () => {
    if (dataFormatOf(path) === 'json') {
      checkJsonEstimate(path, opts);
      const batch = randomBatch(opts);
      writeJsonData(path, batch);
      steps = batch.offsets[batch.count];
    } else steps = writeRandomRnnbFile(path, opts).steps;
  });
  return { steps };
}

/** writeRandomData that yields to the event loop while writing (the CLI's gen-data: interruptible by signals). */
export async function writeRandomDataAsync(
  path: string,
  opts: RandomBatchOptions,
  jsonLimit = MAX_TEXT_BYTES,
): Promise<{ steps: number }> {
  try {
    if (dataFormatOf(path) === 'json') {
      checkJsonEstimate(path, opts, jsonLimit);
      const batch = randomBatch(opts);
      await writeJsonDataAsync(path, batch, jsonLimit);
      return { steps: batch.offsets[batch.count] };
    }
    return await writeRandomRnnbFileAsync(path, opts);
  } catch (e) {
    throw writeError(path, e);
  }
}

/** Refuses, before drawing anything, JSON data that cannot fit the JSON reader (at least 2 bytes per value). */
function checkJsonEstimate(path: string, opts: RandomBatchOptions, limit = MAX_TEXT_BYTES): void {
  const minSteps = opts.count * (opts.minLength ?? 1);
  const values =
    minSteps * opts.inputSize +
    ((opts.withTargets ?? true) ? (opts.output === 'last' ? opts.count : minSteps) * opts.outputSize : 0);
  if (2 * values > limit) throw jsonTooLarge(path, limit);
}
