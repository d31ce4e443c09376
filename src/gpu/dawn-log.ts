// Dawn's own lines on stderr. Dawn (the `webgpu` package) prints some messages from native code straight to file
// descriptor 2. On lavapipe (and on any Vulkan driver that offers more than 16 dynamic buffers per pipeline layout)
// an instance prints two lines, `Warning: maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced
// from N to 16 to fit dynamic offset allocation limit.`, when it first lists its adapters: Dawn's NormalizeLimits
// clamps the adapter's own limits, whatever limits a device later asks for, and no Dawn toggle or create() option
// turns the message off. `quietDawn` runs those synchronous Dawn calls (making the instance, requestAdapter) with
// fd 2 pointed at a private, already unlinked file, then points fd 2 back at the same stream and writes out what
// Dawn printed except those known lines. It does so only where that is safe: Linux (stderr is reopened through
// /proc/self/fd), the main thread, no stderr write pending, and a stderr that reopening gives back unchanged (a
// pipe, a terminal, /dev/null, a file opened for appending). For any other stderr (a socket, a file written at an
// offset) the CLI runs the command in a child process and filters its stderr with `dawnNoiseStream`
// (src/cli/dawn-child.ts). WEBGPU_RNN_LOG=dawn (or 1), or the CLI's --verbose, leave stderr alone. See
// docs/adapters.md.

import type * as NodeFs from 'node:fs';
import { InputError } from '../errors.ts';

/** Dawn's lines that tell a webgpu-rnn user nothing (the clamped limits are ones webgpu-rnn never uses). */
export const DAWN_NOISE = [
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

let verbose = false;

/** The CLI's --verbose: Dawn's own lines reach stderr unfiltered (as with WEBGPU_RNN_LOG=dawn). */
export function setDawnVerbose(on: boolean): void {
  verbose = on;
}

/**
 * Whether Dawn's own lines go to stderr unfiltered: --verbose, or WEBGPU_RNN_LOG `dawn` or `1` (`0` or unset: the
 * known noise is dropped). Any other value is an InputError naming WEBGPU_RNN_LOG.
 */
export function dawnVerbose(): boolean {
  const env = typeof process !== 'undefined' ? process.env?.WEBGPU_RNN_LOG : undefined;
  const value = (env ?? '').trim().toLowerCase();
  if (value !== '' && value !== '0' && value !== '1' && value !== 'dawn')
    throw new InputError(
      'WEBGPU_RNN_LOG',
      `unknown value "${env}": use dawn or 1 (Dawn's own messages on stderr, unfiltered), or 0 (the default)`,
    );
  return verbose || value === '1' || value === 'dawn';
}

/** Drops the known noise from text Dawn printed; every other line is kept. */
export function filterDawnOutput(text: string): string {
  const lines = text.split('\n');
  const last = lines.pop() ?? ''; // '' when the text ends with a newline
  const kept = lines.filter((line) => !DAWN_NOISE.some((re) => re.test(line.replace(/\r$/, ''))));
  return kept.map((line) => `${line}\n`).join('') + last;
}

/** The start of every DAWN_NOISE line: text that may still become one is held back until its line ends. */
const NOISE_START = 'Warning: maxDynamic';

/**
 * Filters Dawn's output as it arrives (the CLI's child process, src/cli/dawn-child.ts): lines matching DAWN_NOISE
 * are dropped; everything else goes to `write` at once, partial lines too (progress redrawn with \r), except a
 * partial line that may still become noise.
 */
export function dawnNoiseStream(write: (text: string) => void): { push(text: string): void; end(): void } {
  let pending = '';
  const flush = (final: boolean): void => {
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      const kept = filterDawnOutput(line);
      if (kept) write(kept);
    }
    const maybeNoise = NOISE_START.startsWith(pending) || pending.startsWith(NOISE_START);
    if (pending && (final || !maybeNoise)) {
      write(pending);
      pending = '';
    }
  };
  return {
    push(text) {
      pending += text;
      flush(false);
    },
    end() {
      flush(true);
    },
  };
}

/** What quietDawn needs from Node (passed in, so this file stays out of the browser bundle's imports). */
export interface QuietIo {
  fs: typeof NodeFs;
  tmpdir: string;
  isMainThread: boolean;
}

/** Lets the event loop run a full turn twice, so libuv has dropped any write watch it kept on fd 2. */
export async function settleStderr(): Promise<void> {
  for (let k = 0; k < 2; k++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * What fd 2 is here: `closed`; `reopenable` with the open flags that reopen it as the same stream (a pipe, a
 * terminal, a device such as /dev/null, a file opened for appending); or `other` (a socket, as Node's
 * child_process gives its children, or a file written at an offset: reopening would not give the same stream).
 */
export function stderrKind(
  fs: typeof NodeFs,
): { kind: 'closed' } | { kind: 'other' } | { kind: 'reopenable'; flags: number } {
  const c = fs.constants;
  let stat: NodeFs.Stats;
  try {
    stat = fs.fstatSync(2);
  } catch {
    return { kind: 'closed' };
  }
  let info: string;
  try {
    fs.fstatSync(0);
    fs.fstatSync(1); // both open: the lowest free descriptor after closing 2 is 2
    info = fs.readFileSync('/proc/self/fdinfo/2', 'utf8');
  } catch {
    return { kind: 'other' };
  }
  const m = /^flags:\s*([0-7]+)$/m.exec(info);
  if (!m) return { kind: 'other' };
  const flags = parseInt(m[1], 8);
  const access = flags & (c.O_WRONLY | c.O_RDWR);
  if (access === 0) return { kind: 'closed' }; // not writable: nothing reaches it anyway
  // A regular file is the same stream only when every write appends (else the reopened offset would differ).
  const same = stat.isFIFO() || stat.isCharacterDevice() || (stat.isFile() && (flags & c.O_APPEND) !== 0);
  if (!same) return { kind: 'other' };
  // Blocking or not as Node left it (Node's pipes are non-blocking, its terminals and files blocking).
  return { kind: 'reopenable', flags: access | (flags & (c.O_APPEND | c.O_NONBLOCK)) | c.O_NOCTTY };
}

/**
 * Runs `work` (synchronous Dawn calls) with Dawn's known noise kept off stderr; Dawn's other lines are written to
 * stderr after it. Call settleStderr() just before, in the same task.
 */
export function quietDawn<T>(io: QuietIo, work: () => T): T {
  // process.stderr is made here if it was not yet, so fd 2 has the flags Node gives it before they are read.
  if (dawnVerbose() || process.platform !== 'linux' || !io.isMainThread || process.stderr.writableLength > 0)
    return work();
  const { fs } = io;
  const stderr = stderrKind(fs);
  if (stderr.kind !== 'reopenable') return work();
  const { flags } = stderr;
  const close = (fd: number): void => {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  };
  let anchor = -1; // the stream fd 2 points at, held open (a pipe's reader must not see it close)
  let capture = -1;
  try {
    // O_NONBLOCK: a pipe whose reader is gone fails to open at once (ENXIO) instead of waiting for one.
    anchor = fs.openSync('/proc/self/fd/2', flags | fs.constants.O_NONBLOCK);
    const path = `${io.tmpdir}/webgpu-rnn-dawn-${process.pid}-${Math.random().toString(36).slice(2)}.log`;
    capture = fs.openSync(path, 'wx+', 0o600);
    fs.unlinkSync(path);
  } catch {
    if (anchor >= 0) close(anchor);
    if (capture >= 0) close(capture);
    return work();
  }
  /** Points the free fd 2 back at stderr's stream (the lowest free descriptor is 2). */
  const restore = (): void => {
    try {
      fs.openSync(`/proc/self/fd/${anchor}`, flags);
    } catch {
      fs.openSync('/dev/null', 'w'); // the stream cannot be had again (a pipe's reader went): 2 stays taken
    }
  };
  fs.closeSync(2);
  let at: number;
  try {
    at = fs.openSync(`/proc/self/fd/${capture}`, fs.constants.O_WRONLY | fs.constants.O_APPEND);
  } catch {
    restore();
    close(anchor);
    close(capture);
    return work();
  }
  let result: T;
  try {
    result = work();
  } finally {
    if (at === 2) {
      fs.closeSync(2);
      restore();
    } else {
      close(at); // another thread took fd 2 between the close and the open: it stays theirs
    }
    close(anchor);
    const size = fs.fstatSync(capture).size;
    const bytes = Buffer.alloc(size);
    if (size > 0) fs.readSync(capture, bytes, 0, size, 0);
    close(capture);
    const rest = filterDawnOutput(bytes.toString('utf8'));
    if (rest) process.stderr.write(rest);
  }
  return result;
}
