// The data writers against the readers and the file system: what a writer writes at the step limit every reader
// accepts, a JSON file the reader would refuse is never written (refused while writing, or from the options alone,
// leaving nothing behind), a replaced file keeps its permission bits, a new one gets the umask, and a failed
// replacement leaves the old file as it was.

import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { readDataFile, writeDataFile, writeJsonData, writeRandomData, writeRandomDataAsync } from '../src/io/files.ts';
import { LIMITS } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { inputError, tempFiles } from './helpers/files.ts';

const { dir, tmp } = tempFiles('webgpu-rnn-io-writes-');

describe('what the writers write, the readers accept; what they would refuse is never written', () => {
  it('writeRandomData at the step limit gives files every reader accepts (JSON and RNNB)', async () => {
    const m = randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 1 }, 'tanh', 'all', 5);
    for (const ext of ['json', 'rnnb']) {
      const path = tmp(`limit.${ext}`);
      const opts = {
        count: 2,
        inputSize: 1,
        outputSize: 1,
        output: 'all' as const,
        minLength: LIMITS.maxSteps,
        maxLength: LIMITS.maxSteps,
        seed: 4,
      };
      await writeRandomDataAsync(path, opts);
      const b = readDataFile(path, m);
      expect(Array.from(b.lengths)).toEqual([LIMITS.maxSteps, LIMITS.maxSteps]);
      expect(Array.from(b.inputs)).toEqual(Array.from(randomBatch(opts).inputs));
    }
  });

  it('a JSON file that would pass the JSON reader limit is refused while writing, leaving nothing behind', async () => {
    const b = randomBatch({
      count: 50,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 10,
      maxLength: 10,
      seed: 1,
    });
    const sub = mkdtempSync(join(dir, 'limit-'));
    const path = join(sub, 'd.json');
    expect(inputError(() => writeJsonData(path, b, 2000)).message).toContain('more than the JSON reader accepts');
    await expect(
      writeRandomDataAsync(
        path,
        { count: 50, inputSize: 1, outputSize: 1, output: 'last', minLength: 10, maxLength: 10, seed: 1 },
        2000,
      ),
    ).rejects.toThrow(/more than the JSON reader accepts/);
    expect(readdirSync(sub)).toEqual([]);
    // Refused from the options alone: even the shortest draw would be too large.
    expect(
      inputError(() =>
        writeRandomData(path, {
          count: 2 ** 28,
          inputSize: 4,
          outputSize: 1,
          output: 'last',
          minLength: 1,
          maxLength: 1,
          seed: 1,
        }),
      ).field,
    ).toBe('count');
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('a replaced file keeps its mode; a new file gets the umask', () => {
  const b = randomBatch({ count: 3, inputSize: 1, outputSize: 1, output: 'last', minLength: 1, maxLength: 3, seed: 9 });
  const modeOf = (p: string): number => statSync(p).mode & 0o777;

  it('replacing 600, 640 and 755 files keeps them (RNNB, JSON, text)', () => {
    for (const [mode, ext] of [
      [0o600, 'rnnb'],
      [0o640, 'json'],
      [0o755, 'txt'],
    ] as const) {
      const path = tmp(`keep.${ext}`);
      writeFileSync(path, 'old');
      chmodSync(path, mode);
      if (ext === 'txt') writeFileAtomic(path, (w) => w(new TextEncoder().encode('new')));
      else writeDataFile(path, b);
      expect(modeOf(path)).toBe(mode);
    }
  });

  it('a new file gets 0666 less the umask (022 → 644, 077 → 600)', async () => {
    const old = process.umask();
    try {
      for (const [umask, want] of [
        [0o022, 0o644],
        [0o077, 0o600],
        [0o002, 0o664],
      ] as const) {
        process.umask(umask);
        const p1 = tmp('new.rnnb');
        writeDataFile(p1, b);
        expect(modeOf(p1)).toBe(want);
        const p2 = tmp('new.json');
        await writeRandomDataAsync(p2, { count: 2, inputSize: 1, outputSize: 1, output: 'last', seed: 1 });
        expect(modeOf(p2)).toBe(want);
      }
    } finally {
      process.umask(old);
    }
  });

  it('a failed replacement leaves the old file and its mode alone', () => {
    const path = tmp('fail.rnnb');
    writeFileSync(path, 'old');
    chmodSync(path, 0o600);
    const bad = { ...b, inputs: Float64Array.from(b.inputs, (v, k) => (k === 2 ? 1e300 : v)) };
    expect(inputError(() => writeDataFile(path, bad)).message).toContain('overflows float32');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(modeOf(path)).toBe(0o600);
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(dirname(path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
