// RNNB files (the format and its codec: src/io/rnnb-codec.ts): read from and written to disk, atomically, and
// random data sets streamed straight to a file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Batch } from '../batch.ts';
import { randomBatchPieces, type RandomBatchOptions } from '../random.ts';
import type { DataShape } from '../validate.ts';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic.ts';
import {
  checkDataValues,
  decodeSource,
  encode,
  headerBytes,
  RNNB_MAGIC,
  u32Bytes,
  type ByteSource,
} from './rnnb-codec.ts';

export {
  checkDataValues,
  decodeRnnb,
  encodeRnnb,
  MAX_ARRAY_VALUES,
  RNNB_HEADER_BYTES,
  RNNB_MAGIC,
  RNNB_VERSION,
} from './rnnb-codec.ts';

function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read(into, position) {
      let done = 0;
      while (done < into.length) {
        const got = readSync(fd, into, done, Math.min(into.length - done, 1 << 30), position + done);
        if (got === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
        done += got;
      }
    },
  };
}

/** True when the file starts with the RNNB magic bytes. */
export function hasRnnbMagic(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(4);
    const got = readSync(fd, head, 0, 4, 0);
    return got === 4 && new TextDecoder().decode(head) === RNNB_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates an RNNB file against a model. Errors are InputErrors naming the field and index. */
export function readRnnbFile(path: string, model: DataShape, source = path): Batch {
  const fd = openSync(path, 'r');
  try {
    return decodeSource(fileSource(fd), model, source);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a batch as an RNNB file, atomically: the bytes go to a temporary file in the same directory that is
 * renamed over `path` only once complete, so a failure never leaves a half-written file behind.
 */
export function writeRnnbFile(path: string, batch: Batch): void {
  writeFileAtomic(path, (write) => encode(batch, write, path));
}

/**
 * Writes the data set `randomBatch(opts)` would return as an RNNB file, atomically, without holding the values in
 * memory (only the lengths): for data sets larger than RAM. The file is byte-identical to
 * `writeRnnbFile(path, randomBatch(opts))`. Sizes the readers refuse are refused before anything is written.
 */
export function writeRandomRnnbFile(path: string, opts: RandomBatchOptions): { steps: number } {
  let steps = 0;
  writeFileAtomic(path, (write) => {
    for (const piece of randomBatchPieces(opts)) {
      if (piece.kind === 'lengths') {
        steps = piece.steps;
        checkDataValues(
          opts.count,
          steps,
          opts.inputSize,
          opts.outputSize,
          opts.output,
          opts.withTargets ?? true,
          path,
        );
        write(headerBytes(opts.count, opts.inputSize, opts.outputSize, opts.output, opts.withTargets ?? true));
        write(u32Bytes(piece.lengths));
      } else write(u32Bytes(piece.values));
    }
  });
  return { steps };
}

/** writeRandomRnnbFile that yields to the event loop between chunks, so a signal can interrupt it cleanly. */
export async function writeRandomRnnbFileAsync(path: string, opts: RandomBatchOptions): Promise<{ steps: number }> {
  let steps = 0;
  await writeFileAtomicAsync(path, async (write) => {
    for (const piece of randomBatchPieces(opts)) {
      if (piece.kind === 'lengths') {
        steps = piece.steps;
        checkDataValues(
          opts.count,
          steps,
          opts.inputSize,
          opts.outputSize,
          opts.output,
          opts.withTargets ?? true,
          path,
        );
        await write(headerBytes(opts.count, opts.inputSize, opts.outputSize, opts.output, opts.withTargets ?? true));
        await write(u32Bytes(piece.lengths));
      } else await write(u32Bytes(piece.values));
    }
  });
  return { steps };
}
