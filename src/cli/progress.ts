// Progress on stderr, one mechanism for every command: on a terminal, one line redrawn in place once the work has
// run for about a second (short runs show nothing) and cleared when it ends; elsewhere, optionally (`lines`), a
// plain line every few seconds. Progress never goes to stdout, so it never mixes with --json output. Also the lines
// while a command reads a large CSV file (withCsvProgress).

import { statSync } from 'node:fs';
import { printable, type CliIO } from './io.ts';

export interface Progress {
  /** `done` of the total units are finished; `detail` is appended (e.g. `loss 0.0123, 5000 steps/s`). */
  update(done: number, detail?: string): void;
  /** Clears the line (on a terminal). Call however the work ends. */
  done(): void;
}

export interface ProgressOptions {
  /** What is counted: `sequences`, `steps` … */
  unit: string;
  /** When stderr is not a terminal, print a line every `everyMs` (default: print nothing). */
  lines?: boolean;
  /** Show nothing on a terminal before this much time has passed (default 1000 ms). */
  delayMs?: number;
  everyMs?: number;
}

export function startProgress(io: CliIO, label: string, total: number, opts: ProgressOptions): Progress {
  const start = performance.now();
  const delay = opts.delayMs ?? 1000;
  if (io.progress) {
    let shown = false;
    let lastDraw = 0;
    return {
      update(done, detail) {
        const now = performance.now();
        if (now - start < delay || (now - lastDraw < 100 && done < total)) return;
        lastDraw = now;
        shown = true;
        const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
        io.err(`\r\x1b[K${label}: ${pct}% (${done} of ${total} ${opts.unit})${detail ? `, ${detail}` : ''}`);
      },
      done() {
        if (shown) io.err('\r\x1b[K');
        shown = false;
      },
    };
  }
  if (!opts.lines) return { update() {}, done() {} };
  const every = opts.everyMs ?? 2000;
  let last = start;
  return {
    update(done, detail) {
      const now = performance.now();
      if (now - last < every || done >= total) return;
      last = now;
      io.err(`${label}: ${done} of ${total} ${opts.unit}${detail ? `, ${detail}` : ''}\n`);
    },
    done() {},
  };
}

/** A CSV file from this size on (64 MiB) gets lines on stderr while it is read (withCsvProgress). */
export const LARGE_CSV_BYTES = 64 * 2 ** 20;

/** What a CSV reader reports to withCsvProgress: the parse's fraction done (parseCsv's onProgress), the rows read. */
export interface CsvProgressHooks {
  onProgress?: (fraction: number) => void;
  onRows?: (rows: number) => void;
}

/** The size of a file, or 0 when it cannot be read (the reader then says why). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Runs `read` (which parses the CSV file `path`, if not null, with the hooks) and, for a file of LARGE_CSV_BYTES or
 * more, says so on stderr: a line before (`train: reading s.csv (64 MiB) and cutting its windows …`, `what` being
 * the words after the size), the parse's progress while it runs, as a percent and that share of the file's MiB (on
 * a terminal one line redrawn in place once it has run for a second, cleared at the end; elsewhere a plain line at
 * 25, 50 and 75 %), and a line after with the rows read and the seconds. A smaller file or a null path: nothing.
 */
export function withCsvProgress<T>(
  io: CliIO,
  label: string,
  path: string | null,
  what: string,
  read: (hooks: CsvProgressHooks) => T,
): T {
  if (path === null) return read({});
  const bytes = fileSize(path);
  if (bytes < LARGE_CSV_BYTES) return read({});
  const t0 = Date.now();
  const mib = Math.round(bytes / 2 ** 20);
  io.err(`${label}: reading ${printable(path)} (${mib} MiB)${what} …\n`);
  const name = `${label}: reading ${printable(path)}`;
  const got: { rows: number | null } = { rows: null };
  let onProgress: (fraction: number) => void;
  let bar: Progress | null = null;
  if (io.progress) {
    const p = startProgress(io, name, mib, { unit: 'MiB' });
    bar = p;
    onProgress = (f) => p.update(Math.floor(f * mib));
  } else {
    let quarter = 0;
    onProgress = (f) => {
      const q = Math.floor(f * 4);
      if (q <= quarter || q >= 4) return;
      quarter = q;
      io.err(`${name}: ${25 * q}% (${Math.floor((mib * q) / 4)} of ${mib} MiB)\n`);
    };
  }
  let value: T;
  try {
    value = read({ onProgress, onRows: (n) => (got.rows = n) });
  } finally {
    bar?.done();
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const rows = got.rows;
  io.err(
    `${label}: read ${rows === null ? printable(path) : `${rows.toLocaleString('en-US')} rows`} in ${seconds} s\n`,
  );
  return value;
}
