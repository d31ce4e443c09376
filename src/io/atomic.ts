// Atomic file writes: the content goes to a temporary file in the destination's directory, is flushed to disk,
// and only then renamed over the destination. A failed or interrupted write never leaves a half-written file
// under the destination's name (the temporary file is removed on failure).

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Receives the file's content piece by piece. */
export type ByteSink = (bytes: Uint8Array) => void;

/** Writes `path` atomically; `produce` is called once with a sink that appends bytes to the new file. */
export function writeFileAtomic(path: string, produce: (write: ByteSink) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd = openSync(tmp, 'wx', 0o644);
  try {
    produce((bytes) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw e;
  }
}

/** Buffers small text pieces into ~1 MiB UTF-8 chunks for a ByteSink. */
export class TextChunker {
  private parts: string[] = [];
  private size = 0;
  private readonly encoder = new TextEncoder();
  constructor(private readonly sink: ByteSink, private readonly chunk = 1 << 20) {}
  push(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.chunk) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    this.sink(this.encoder.encode(this.parts.join('')));
    this.parts = [];
    this.size = 0;
  }
}
