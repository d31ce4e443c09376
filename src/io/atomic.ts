// Atomic file writes: the content goes to a temporary file in the destination's directory, is flushed to disk,
// and only then renamed over the destination. A failed or interrupted write never leaves a half-written file
// under the destination's name (the temporary file is removed on failure, and on SIGINT, SIGTERM and SIGHUP once
// `removeTempFilesOnSignals` was called). A replaced file keeps its permission bits; a new file gets the umask's.
// Kept rather than write-file-atomic, which takes the content whole: these writers stream it through a sink (data
// sets larger than memory, text past the engine's string limit), and clean up on signals only when asked to.

import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Receives the file's content piece by piece. */
export type ByteSink = (bytes: Uint8Array) => void;
/** Receives the file's content piece by piece; each write resolves once the bytes are handed to the OS. */
export type AsyncByteSink = (bytes: Uint8Array) => Promise<void>;

// ---------------------------------------------------------------------------------------------------------------
// Temporary files that exist right now, removed when the process is told to stop.
// ---------------------------------------------------------------------------------------------------------------

const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let cleanupOnSignals = false;
let listening = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of pending) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  pending.clear();
  // The shell convention for "ended by signal n": exit status 128 + n (130 for SIGINT, 143 SIGTERM, 129 SIGHUP).
  process.exit(128 + (osConstants.signals[signal] ?? 0));
}

/**
 * Listens for the signals from the first temporary file on, so until then they keep their default effect (a long
 * synchronous computation stays interruptible). The listeners then stay: a signal that arrives during a synchronous
 * write is handled right after it, and must still find a listener.
 */
function updateListeners(): void {
  if (listening || !cleanupOnSignals || pending.size === 0) return;
  for (const s of SIGNALS) process.on(s, onSignal);
  listening = true;
}

/**
 * From now on, SIGINT, SIGTERM or SIGHUP while an atomic write is under way removes its temporary file and exits
 * with status 128 + the signal number. (The CLI calls this; a library user keeps control of its own signals.)
 */
export function removeTempFilesOnSignals(): void {
  cleanupOnSignals = true;
  updateListeners();
}

function track(tmp: string): void {
  pending.add(tmp);
  updateListeners();
}

function untrack(tmp: string): void {
  pending.delete(tmp);
}

/** Temporary files of atomic writes under way (for tests). */
export function pendingTempFiles(): string[] {
  return [...pending];
}

// ---------------------------------------------------------------------------------------------------------------
// Writers.
// ---------------------------------------------------------------------------------------------------------------

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The permission bits of the file `path` replaces, or null for a new file (which then gets 0o666 less the umask). */
function existingMode(path: string): number | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st.mode & 0o7777 : null;
  } catch {
    return null;
  }
}

function removeQuietly(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // nothing to remove
  }
}

/** Writes `path` atomically; `produce` is called once with a sink that appends bytes to the new file. */
export function writeFileAtomic(path: string, produce: (write: ByteSink) => void): void {
  const tmp = tempPath(path);
  const mode = existingMode(path);
  let fd = openSync(tmp, 'wx', 0o666);
  track(tmp);
  try {
    if (mode !== null) fchmodSync(fd, mode);
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
    removeQuietly(tmp);
    throw e;
  } finally {
    untrack(tmp);
  }
}

/**
 * Writes several files as one unit, as far as a file system allows: every file's content goes to its temporary file
 * and is flushed first, and only then are the temporary files renamed over their destinations, one after the
 * other. A failure before the renames leaves every destination as it was. `betweenRenames(k)` runs after the k-th
 * rename (k = 1 … files − 1), for tests that stop the process there; `failed(path, e)` gives the error to throw for
 * a failure while writing or renaming `path`.
 */
export function writeFilesAtomic(
  files: { path: string; produce: (write: ByteSink) => void }[],
  opts: { betweenRenames?: (renamed: number) => void; failed?: (path: string, e: unknown) => unknown } = {},
): void {
  const temps: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const f of files) {
      current = f.path;
      const tmp = tempPath(f.path);
      const mode = existingMode(f.path);
      const fd = openSync(tmp, 'wx', 0o666);
      temps.push(tmp);
      track(tmp);
      try {
        if (mode !== null) fchmodSync(fd, mode);
        f.produce((bytes) => {
          let done = 0;
          while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
        });
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    files.forEach((f, k) => {
      if (k > 0) opts.betweenRenames?.(k);
      current = f.path;
      renameSync(temps[k], f.path);
    });
  } catch (e) {
    for (const tmp of temps) removeQuietly(tmp);
    throw opts.failed ? opts.failed(current, e) : e;
  } finally {
    for (const tmp of temps) untrack(tmp);
  }
}

/**
 * writeFileAtomic for long writes: `produce` awaits each write, so the event loop runs between chunks and a
 * signal can stop the write (removing the temporary file) instead of waiting for it to finish.
 */
export async function writeFileAtomicAsync(
  path: string,
  produce: (write: AsyncByteSink) => Promise<void>,
): Promise<void> {
  const tmp = tempPath(path);
  const mode = existingMode(path);
  const fh = await openAsync(tmp, 'wx', 0o666);
  track(tmp);
  let open = true;
  try {
    if (mode !== null) await fh.chmod(mode);
    await produce(async (bytes) => {
      let done = 0;
      while (done < bytes.length)
        done += (await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30))).bytesWritten;
    });
    await fh.sync();
    open = false;
    await fh.close();
    renameSync(tmp, path);
  } catch (e) {
    if (open) await fh.close().catch(() => undefined);
    removeQuietly(tmp);
    throw e;
  } finally {
    untrack(tmp);
  }
}

/** Buffers small text pieces into ~1 MiB UTF-8 chunks for a ByteSink. */
export class TextChunker {
  private parts: string[] = [];
  private size = 0;
  private readonly encoder = new TextEncoder();
  /** UTF-8 bytes handed to the sink so far. */
  bytes = 0;
  constructor(
    private readonly sink: ByteSink,
    private readonly chunk = 1 << 20,
  ) {}
  push(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.chunk) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const bytes = this.encoder.encode(this.parts.join(''));
    this.bytes += bytes.length;
    this.sink(bytes);
    this.parts = [];
    this.size = 0;
  }
}
