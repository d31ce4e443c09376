// The CLI's input and output: where commands write (CliIO), exit codes, how a failure is printed (one line on
// stderr, and a JSON error object on stdout for --json), terminal-safe echoing of file names, stdout that is
// closed (EPIPE: end quietly) or full (one line, exit 1), and the output files of a command (checked before the
// run, written atomically after it).

import { statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { CommanderError } from 'commander';
import { GpuError, InputError, NonFiniteError } from '../errors.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import { writeError, writing } from '../io/files.ts';

/** Where the CLI writes. `out` resolves once the text is handed to the OS. */
export interface CliIO {
  out(text: string): Promise<void>;
  err(text: string): void;
  /** Show progress on stderr (only when it is a terminal). */
  progress: boolean;
  debug: boolean;
}

/** Ends the process for a failed write to stdout: quietly for a closed pipe (EPIPE), with one line otherwise. */
function stdoutFailed(e: NodeJS.ErrnoException): never {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
  const why = e.code === 'ENOSPC' ? 'no space left on the device' : (e.code ?? e.message);
  try {
    process.stderr.write(`webgpu-rnn: cannot write to stdout: ${why}\n`);
  } catch {
    // stderr is gone too
  }
  process.exit(EXIT.failure);
}

let stdoutGuarded = false;

/** The IO of the real process: stdout and stderr, progress when stderr is a terminal. */
export function processIO(): CliIO {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    // Without a listener, a failed write to stdout (e.g. `| head -c 10`, `>/dev/full`) throws a stack trace.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => stdoutFailed(e));
    process.stderr.on('error', () => undefined);
  }
  return {
    out: (text) => new Promise<void>((resolve) => process.stdout.write(text, (e) => (e ? stdoutFailed(e) : resolve()))),
    err: (text) => void process.stderr.write(text),
    progress: process.stderr.isTTY === true,
    debug: process.env.WEBGPU_RNN_DEBUG === '1',
  };
}

/** A verify mismatch: exit code 4. */
export class MismatchError extends Error {
  override name = 'MismatchError';
}

export const EXIT = { ok: 0, failure: 1, input: 2, nonFinite: 3, mismatch: 4 } as const;

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.input;
  if (e instanceof InputError) return EXIT.input;
  if (e instanceof NonFiniteError) return EXIT.nonFinite;
  if (e instanceof MismatchError) return EXIT.mismatch;
  return EXIT.failure;
}

/** The `code` of the JSON error object: what kind of failure it was (see docs/errors.md). */
export function errorCodeOf(e: unknown): string {
  if (e instanceof CommanderError) return 'usage';
  if (e instanceof InputError) return 'input';
  if (e instanceof NonFiniteError) return 'non-finite';
  if (e instanceof MismatchError) return 'mismatch';
  if (e instanceof GpuError) return 'gpu';
  return 'failure';
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped for the terminal
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text safe to print on a terminal: control characters (newlines, ANSI escapes, bidi overrides …) become visible
 * escapes such as `\n` and `\x1b`, so a file name cannot break the one-line format or drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (named[c]) return named[c];
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The longest run of non-space characters (a file name, a value) an error message shows whole. */
export const MAX_SHOWN_WORD = 240;

/**
 * A message with every run of non-space characters longer than MAX_SHOWN_WORD (a very long file name, pasted
 * text) shortened to its start and end around `…[N characters]…`, so an error stays one readable line.
 */
export function shortenLongWords(text: string): string {
  return text.replace(new RegExp(`\\S{${MAX_SHOWN_WORD + 1},}`, 'g'), (w) => {
    const chars = [...w];
    if (chars.length <= MAX_SHOWN_WORD) return w;
    const head = chars.slice(0, 120).join('');
    const tail = chars.slice(-80).join('');
    return `${head}…[${chars.length - 200} characters]…${tail}`;
  });
}

/** The message of an error, one line and terminal-safe, long words shortened. */
export function errorMessage(e: unknown): string {
  const raw =
    e instanceof CommanderError ? e.message.replace(/^error: /, '') : e instanceof Error ? e.message : String(e);
  return shortenLongWords(printable(raw.trimEnd()));
}

/** `{"error": {"code", "field", "message"}}`: the failure as JSON, for --json commands. */
export function errorJson(e: unknown): string {
  const field = e instanceof InputError ? e.field || null : e instanceof CommanderError ? commanderField(e) : null;
  const message = shortenLongWords(
    e instanceof CommanderError
      ? e.message.replace(/^error: /, '').trimEnd()
      : e instanceof Error
        ? e.message
        : String(e),
  );
  return JSON.stringify({ error: { code: errorCodeOf(e), field, message } }) + '\n';
}

/** The option or argument a commander error is about, when its message names one (`--count`, `frobnicate` …). */
function commanderField(e: CommanderError): string | null {
  const flag = /--[a-z][a-z0-9-]*/.exec(e.message);
  if (flag) return flag[0];
  const quoted = /'([^']+)'/.exec(e.message);
  return quoted ? quoted[1] : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Output files.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Checks an output file before any work is done (its extension, and that its directory exists), so a bad output
 * path fails at once and never after a long run; returns the lower-case extension without the dot.
 */
export function outputKind<T extends string>(
  path: string | undefined,
  option: string,
  allowed: readonly T[],
): T | null {
  if (path === undefined) return null;
  const ext = extname(path).toLowerCase().slice(1);
  if (!(allowed as readonly string[]).includes(ext))
    throw new InputError(option, `must end in ${allowed.map((a) => `.${a}`).join(' or ')}, got "${path}"`);
  let dirOk: boolean;
  try {
    dirOk = statSync(dirname(path) || '.').isDirectory();
  } catch {
    dirOk = false;
  }
  if (!dirOk) throw new InputError('', 'cannot write: the directory does not exist', path);
  try {
    if (statSync(path).isDirectory()) throw new InputError('', 'cannot write: it is a directory', path);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
  return ext as T;
}

/**
 * The test hook between the renames of writeOutputs: with WEBGPU_RNN_TEST_KILL_BETWEEN_RENAMES=1 in the environment
 * the process kills itself (SIGKILL, nothing runs after it) once the first of a command's output files is renamed
 * into place, which is what a crash or `kill -9` at that moment leaves. Read by the CLI only.
 */
function killBetweenRenames(): void {
  if (process.env.WEBGPU_RNN_TEST_KILL_BETWEEN_RENAMES === '1') process.kill(process.pid, 'SIGKILL');
}

/**
 * Writes a command's text files atomically and as one unit, all after the computation succeeded: every file is
 * written to its temporary file and flushed before any is renamed over its destination, so a failed write (a full
 * disk, a directory in the way) replaces none of them. File errors are InputErrors naming the file.
 */
export function writeOutputs(files: { path: string; text: string }[]): void {
  const enc = new TextEncoder();
  if (files.length === 1) {
    const f = files[0];
    writing(f.path, () => writeFileAtomic(f.path, (write) => write(enc.encode(f.text))));
    return;
  }
  writeFilesAtomic(
    files.map((f) => ({ path: f.path, produce: (write) => write(enc.encode(f.text)) })),
    { betweenRenames: killBetweenRenames, failed: writeError },
  );
}

/** The device and inode of an existing file, links followed; null when there is none (not yet written, a preset name). */
function fileIdentity(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/** An option and its path (undefined: the option was not given). */
export type PathOption = readonly [option: string, path: string | undefined];

/**
 * Refuses, before any work, an output file that is one of the command's input files, compared by file identity
 * (device and inode, links followed: a symlink, a hard link or `./f` for `f` is the same file), since writing it
 * would destroy the input. An output that does not exist yet has nothing to destroy.
 */
export function checkOutputsAreNotInputs(outputs: readonly PathOption[], inputs: readonly PathOption[]): void {
  for (const [outOption, outPath] of outputs) {
    const id = outPath === undefined ? null : fileIdentity(outPath);
    if (id === null) continue;
    for (const [inOption, inPath] of inputs) {
      if (inPath !== undefined && fileIdentity(inPath) === id)
        throw new InputError(
          outOption,
          `"${outPath}" is the same file as ${inOption} "${inPath}"; writing it would destroy the input`,
        );
    }
  }
}
