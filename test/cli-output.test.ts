// What the CLI writes where, as a process: progress only on stderr, only on a terminal and only after about a second
// (cleared when done), or as lines when asked; a closed stdout (| head, | true) ends quietly, and a full one
// (>/dev/full) is one line on stderr and exit 1.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.ts';
import { startProgress } from '../src/cli/progress.ts';
import { writeJsonData } from '../src/io/files.ts';
import { randomBatch } from '../src/random.ts';
import { CLI_SHELL } from './helpers/cli-process.ts';
import { tempFiles } from './helpers/files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { tmp } = tempFiles('webgpu-rnn-cli-output-');

describe('progress: on a terminal after about a second, on stderr only', () => {
  const capture = (progress: boolean): { io: CliIO; err: () => string } => {
    let err = '';
    return {
      io: { out: () => Promise.resolve(), err: (t) => void (err += t), progress, debug: false },
      err: () => err,
    };
  };

  it('short work shows nothing; long work shows a line that is cleared; not a terminal shows nothing unless asked', async () => {
    const quick = capture(true);
    const p1 = startProgress(quick.io, 'grad', 100, { unit: 'sequences' });
    p1.update(50);
    p1.done();
    expect(quick.err()).toBe('');
    const slow = capture(true);
    const p2 = startProgress(slow.io, 'grad', 100, { unit: 'sequences', delayMs: 0 });
    p2.update(42);
    p2.done();
    expect(slow.err()).toBe('\r\x1b[Kgrad: 42% (42 of 100 sequences)\r\x1b[K');
    const pipe = capture(false);
    const p3 = startProgress(pipe.io, 'grad', 100, { unit: 'sequences', delayMs: 0 });
    p3.update(42);
    p3.done();
    expect(pipe.err()).toBe('');
    const lines = capture(false);
    const p4 = startProgress(lines.io, 'train', 100, { unit: 'steps', lines: true, everyMs: 0 });
    await new Promise((r) => setTimeout(r, 2));
    p4.update(10, 'loss 0.5');
    expect(lines.err()).toBe('train: 10 of 100 steps, loss 0.5\n');
  });
});

describe('stdout closed or full', () => {
  const d = tmp('d.json');
  writeJsonData(
    d,
    randomBatch({ count: 200, inputSize: 1, outputSize: 1, output: 'last', minLength: 1, maxLength: 4, seed: 1 }),
  );
  const sh = (pipeline: string): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('bash', ['-c', pipeline], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const grad = `${CLI_SHELL} forward --model statquest --data ${d} --backend cpu --json`;

  it('| head -c 10 and | true end quietly (no "Unhandled \'error\' event")', () => {
    const head = sh(`${grad} | head -c 10; echo " status=\${PIPESTATUS[0]}"`);
    expect(head.stderr).toBe('');
    expect(head.stdout).toBe('{\n  "backe status=0\n');
    const t = sh(`${grad} | true; echo "status=\${PIPESTATUS[0]}"`);
    expect(t.stderr).toBe('');
    expect(t.stdout).toBe('status=0\n');
    const help = sh(`${CLI_SHELL} --help | head -c 5; echo " status=\${PIPESTATUS[0]}"`);
    expect(help.stderr).toBe('');
    expect(help.stdout).toBe('Usage status=0\n');
  }, 60_000);

  it('>/dev/full: one line on stderr, exit 1', () => {
    const full = sh(`${grad} >/dev/full`);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe('webgpu-rnn: cannot write to stdout: no space left on the device\n');
    const gen = sh(
      `${CLI_SHELL} gen-data --model statquest --count 2 --out ${join(dirname(d), 'g.json')} --json >/dev/full`,
    );
    expect(gen.code).toBe(1);
    expect(gen.stderr).toBe('webgpu-rnn: cannot write to stdout: no space left on the device\n');
    expect(existsSync(join(dirname(d), 'g.json'))).toBe(true); // the file was written before the summary failed
  }, 60_000);
});
