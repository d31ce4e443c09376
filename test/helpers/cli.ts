// Runs the CLI in-process (runCli with a capturing CliIO, no progress) for the experiment command tests; json()
// parses a --json report as the type the test names (test/helpers/reports.ts).

import { expect } from 'vitest';
import { runCli, type CliIO } from '../../src/cli/app.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (t) => {
      stdout += t;
      return Promise.resolve();
    },
    err: (t) => void (stderr += t),
    progress: false,
    debug: false,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** Runs the command with --json; its report, parsed as T (exit 0 required). */
export async function json<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Exit 2, one message naming every needle, nothing on stdout. */
export function expectInputError(
  r: { code: number | null; stdout: string; stderr: string },
  ...needles: string[]
): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^webgpu-rnn: /);
  for (const n of needles) expect(r.stderr).toContain(n);
  expect(r.code).toBe(2);
}
