// Signals during a write: SIGINT, SIGTERM and SIGHUP while gen-data writes a large file remove its temporary file
// and exit 130, 143 and 129, leaving an existing file at that path untouched, content and mode.

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli-process.ts';
import { tempFiles } from './helpers/files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { dir } = tempFiles('webgpu-rnn-cli-signals-');

const tmpFiles = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp'));

/** Starts gen-data writing a large file, waits for its temporary file, sends `signal`; resolves with the exit code. */
async function interruptGenData(
  signal: NodeJS.Signals,
  out: string,
  count: string,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      ...CLI,
      'gen-data',
      '--model',
      'statquest',
      '--count',
      count,
      '--min-length',
      '50',
      '--max-length',
      '100',
      '--out',
      out,
    ],
    { cwd: root },
  );
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const d = dirname(out);
  const deadline = Date.now() + 60_000;
  while (tmpFiles(d).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(tmpFiles(d).length).toBe(1); // the write is under way
  await new Promise((r) => setTimeout(r, 200));
  child.kill(signal);
  return { code: await exited, stderr };
}

describe('signals leave no litter', () => {
  it.each([
    ['SIGINT', 130, 'rnnb'],
    ['SIGTERM', 143, 'json'],
    ['SIGHUP', 129, 'rnnb'],
  ] as const)(
    '%s during gen-data exits %i (%s file): the temporary file is removed, an existing file is untouched',
    async (signal, code, ext) => {
      const sub = mkdtempSync(join(dir, 'sig-'));
      const out = join(sub, `big.${ext}`);
      writeFileSync(out, 'old');
      chmodSync(out, 0o600);
      const r = await interruptGenData(signal, out, ext === 'json' ? '400000' : '3000000');
      expect(r.code).toBe(code);
      expect(readdirSync(sub)).toEqual([`big.${ext}`]);
      expect(statSync(out).size).toBe(3);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    },
    90_000,
  );
});
