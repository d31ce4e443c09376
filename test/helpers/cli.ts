// Runs the CLI in-process (runCli with a capturing CliIO, no progress) for the experiment command tests.

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
    out: async (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    progress: false,
    debug: false,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

export async function json(...args: string[]): Promise<Record<string, any>> {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Exit 2, one message naming every needle, nothing on stdout. */
export function expectInputError(r: Run, ...needles: string[]): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^webgpu-rnn: /);
  for (const n of needles) expect(r.stderr).toContain(n);
  expect(r.code).toBe(2);
}
