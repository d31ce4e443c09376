// Public entry `webgpu-rnn/formats` in Node: the model and data JSON formats and the binary `.rnnb` format, in
// memory and as files (the browser build, src/formats.browser.ts, has the in-memory half only).
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Model and data files: JSON models and data sets, and the compact binary `.rnnb` data format.
 *
 * In memory (Node and browsers): {@link parseModel}, {@link parseData}, {@link checkBatch}, {@link encodeRnnb},
 * {@link decodeRnnb}, {@link dataToJSON}. Files (Node only): {@link readModelFile}, {@link readDataFile} (JSON or
 * `.rnnb`, told apart by the file's first bytes), {@link writeDataFile} (format from the extension),
 * {@link readRnnbFile}, {@link writeRnnbFile}. Every write is atomic. Bad input throws an `InputError` naming the field.
 *
 * @module webgpu-rnn/formats
 */

export * from './formats.browser.ts';
export {
  readModelFile,
  readDataFile,
  writeDataFile,
  writeJsonData,
  dataFormatOf,
  type DataFormat,
} from './io/files.ts';
export { readRnnbFile, writeRnnbFile } from './io/rnnb.ts';
