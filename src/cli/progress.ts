// Progress on stderr, one mechanism for every command: on a terminal, one line redrawn in place once the work has
// run for about a second (short runs show nothing) and cleared when it ends; elsewhere, optionally (`lines`), a
// plain line every few seconds. Progress never goes to stdout, so it never mixes with --json output.

import type { CliIO } from './io.ts';

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
