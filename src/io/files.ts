// Reading model and data files, and writing data files, for the CLI (Node only).
//
//   model: a model JSON file (see ModelJSON in src/model.ts), or a preset name such as `statquest` when no file of
//          that name exists.
//   data:  a data JSON file `{"inputs": N×T_n×I, "targets"?: N×O | N×T_n×O}` (see parseData in src/validate.ts),
//          or the binary RNNB format (src/io/rnnb.ts), chosen by the extension `.rnnb` or by the magic bytes.
//
// Every problem with a file is an InputError whose source is the file name (CLI exit code 2).

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Batch } from '../batch.ts';
import { InputError } from '../errors.ts';
import { PRESETS, preset, type Model, type ModelJSON } from '../model.ts';
import { checkBatch, parseData, parseModel } from '../validate.ts';
import { TextChunker, writeFileAtomic } from './atomic.ts';
import { parseJsonText } from './json-error.ts';
import { sequenceInputs, sequenceTargets } from './nested.ts';
import { randomBatch, type RandomBatchOptions } from '../random.ts';
import { hasRnnbMagic, readRnnbFile, writeRandomRnnbFile, writeRnnbFile } from './rnnb.ts';

export { readRnnbFile, writeRnnbFile, writeRandomRnnbFile, decodeRnnb, encodeRnnb, RNNB_MAGIC, RNNB_VERSION, RNNB_HEADER_BYTES } from './rnnb.ts';

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
    code === 'ENOENT' ? 'file not found'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'not a file'
    : code === 'ENOTDIR' ? 'file not found (a parent is not a directory)'
    : `cannot read: ${(e as Error).message}`;
  return new InputError('', why, path);
}

/** Reads a file as UTF-8 text and parses it as JSON; errors name the file and the line and column. */
export function readJsonFile(path: string): unknown {
  checkReadable(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG' || (e as NodeJS.ErrnoException).code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new InputError('', 'file too large to read as JSON: use the binary .rnnb format for big batches', path);
    }
    throw fsError(path, e);
  }
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

/** Writes a batch as data JSON (`{"inputs": …, "targets": …}`, one sequence per line), atomically. */
export function writeJsonData(path: string, batch: Batch): void {
  // Structure and finiteness, against the batch's own sizes (JSON has no Infinity or NaN).
  checkBatch(batch, batch, path);
  writeFileAtomic(path, (write) => {
    const out = new TextChunker(write);
    out.push('{\n"inputs": [\n');
    for (let n = 0; n < batch.count; n++) out.push((n ? ',\n' : '') + JSON.stringify(sequenceInputs(batch, n)));
    out.push('\n]');
    if (batch.targets) {
      out.push(',\n"targets": [\n');
      for (let n = 0; n < batch.count; n++) out.push((n ? ',\n' : '') + JSON.stringify(sequenceTargets(batch, n)));
      out.push('\n]');
    }
    out.push('\n}\n');
    out.flush();
  });
}

/** Data file formats by extension. */
export type DataFormat = 'json' | 'rnnb';

/** The format for an output file name: `.json` or `.rnnb`, else null. */
export function dataFormatOf(path: string): DataFormat | null {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.rnnb' ? 'rnnb' : null;
}

/** Turns file-system failures of a write into InputErrors naming the file; rethrows anything else. */
export function writing(path: string, body: () => void): void {
  try {
    body();
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError('', 'cannot write: the directory does not exist', path);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new InputError('', 'cannot write: permission denied', path);
    if (code === 'EISDIR') throw new InputError('', 'cannot write: it is a directory', path);
    throw e;
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
 * of steps. RNNB is streamed, so it may be larger than memory; JSON is built in memory.
 */
export function writeRandomData(path: string, opts: RandomBatchOptions): { steps: number } {
  let steps = 0;
  writing(path, () => {
    if (dataFormatOf(path) === 'json') {
      const batch = randomBatch(opts);
      writeJsonData(path, batch);
      steps = batch.offsets[batch.count];
    } else steps = writeRandomRnnbFile(path, opts).steps;
  });
  return { steps };
}
