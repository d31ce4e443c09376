// The readers' limits on files built to exhaust them: what is known from a file's size or its RNNB header (step
// limits, lengths tables, truncation, JSON too large to parse) is refused before the memory is spent, checked in a
// child process by its peak RSS; a sequence past the step limit in JSON and a non-finite RNNB value are named.

import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES, readDataFile, readJsonFile, writeDataFile } from '../src/io/files.ts';
import { decodeRnnb, RNNB_HEADER_BYTES } from '../src/io/rnnb.ts';
import { LIMITS, preset, type ModelJSON } from '../src/model.ts';
import { randomBatch, randomModel } from '../src/random.ts';
import { inputError, tempFiles } from './helpers/files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { tmp } = tempFiles('webgpu-rnn-io-limits-');

/** An RNNB header (I = O = 1, mode last, with targets) and a lengths table, in a file of exactly `size` bytes (sparse). */
function sparseRnnb(N: number, firstLengths: number[], size: number, mode = 0): string {
  const path = tmp('sparse.rnnb');
  const head = Buffer.alloc(RNNB_HEADER_BYTES + 4 * firstLengths.length);
  head.write('RNNB', 0, 'latin1');
  [1, N, 1, 1, mode, 1, 0].forEach((v, k) => head.writeUInt32LE(v, 4 + 4 * k));
  firstLengths.forEach((l, k) => head.writeUInt32LE(l, RNNB_HEADER_BYTES + 4 * k));
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

/** Reads `path` with readDataFile in a fresh Node process; returns its message and peak RSS in MiB. */
function readInChild(path: string, model: ModelJSON = preset('statquest')): { message: string; rssMiB: number } {
  const code = `
    import { readDataFile } from './src/io/files.ts';
    let message = 'read';
    try { readDataFile(${JSON.stringify(path)}, ${JSON.stringify(model)}); } catch (e) { message = e.name + ': ' + e.message; }
    console.log(JSON.stringify({ message, rssMiB: process.resourceUsage().maxRSS / 1024 }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { message: string; rssMiB: number };
}

describe('limits known from the size or the header are refused before memory is spent', () => {
  // A fresh Node + tsx process peaks near 80 MiB; reading any of these files whole would take 1 GiB or more.
  const RSS_CEILING = 300;

  it('RNNB, N = 1, lengths[0] = 2^28, size matching the header: refused by the step limit, no 1 GiB read', () => {
    const L = 2 ** 28;
    const path = sparseRnnb(1, [L], RNNB_HEADER_BYTES + 4 + 4 * L + 4);
    const r = readInChild(path);
    expect(r.message).toBe(
      `InputError: ${path}: lengths[0]: a sequence may have at most ${LIMITS.maxSteps} steps, got ${L}`,
    );
    expect(r.rssMiB).toBeLessThan(RSS_CEILING);
  });

  it('RNNB, N = 2^28 with all lengths 0: lengths[0] is named without reading the 1 GiB table', () => {
    const N = 2 ** 28;
    const path = sparseRnnb(N, [], RNNB_HEADER_BYTES + 4 * N + 4 * N + 4 * N);
    const r = readInChild(path);
    expect(r.message).toBe(`InputError: ${path}: lengths[0]: a sequence must have at least one step, got length 0`);
    expect(r.rssMiB).toBeLessThan(RSS_CEILING);
  });

  it('RNNB variants: a bad length deep in the table, and a table that claims more steps than the file holds', () => {
    // lengths[2] is past the limit; the file is big enough for what the first two claim.
    const p1 = sparseRnnb(
      3,
      [5, 7, LIMITS.maxSteps + 1],
      RNNB_HEADER_BYTES + 12 + 4 * (5 + 7 + LIMITS.maxSteps + 1) + 12,
    );
    expect(readInChild(p1).message).toContain(
      `lengths[2]: a sequence may have at most ${LIMITS.maxSteps} steps, got ${LIMITS.maxSteps + 1}`,
    );
    // 2^20 sequences of 4096 steps in a file of a few MiB: truncated, found from the sizes before reading values.
    const N = 2 ** 20;
    const lengths = new Array<number>(N).fill(LIMITS.maxSteps);
    const p2 = sparseRnnb(N, lengths, RNNB_HEADER_BYTES + 4 * N + 8 * N);
    const r = readInChild(p2);
    expect(r.message).toMatch(
      /lengths\[65535\]: truncated file: the lengths up to here \(268435456 steps so far\) need at least \d+ bytes, got 12582944/,
    );
    expect(r.rssMiB).toBeLessThan(RSS_CEILING);
    // Too short for N sequences of one step each: refused from the header and the size alone.
    const p3 = sparseRnnb(2 ** 26, [], RNNB_HEADER_BYTES + 4 * 2 ** 26 + 100);
    const r3 = readInChild(p3);
    expect(r3.message).toContain('inputs: truncated file: 67108864 sequences of at least one step need at least');
    expect(r3.rssMiB).toBeLessThan(RSS_CEILING);
  });

  it('a 3 GB JSON data file (sparse) is refused from its size, before it is read', () => {
    const path = tmp('big.json');
    const fd = openSync(path, 'w');
    writeSync(fd, '{"inputs": [');
    ftruncateSync(fd, 3 * 2 ** 30);
    closeSync(fd);
    const r = readInChild(path);
    expect(r.message).toBe(
      `InputError: ${path}: file too large to read as JSON: ${3 * 2 ** 30} bytes, the limit is ${MAX_TEXT_BYTES} (use the binary .rnnb format for big batches)`,
    );
    expect(r.rssMiB).toBeLessThan(RSS_CEILING);
  });

  it('a model file one byte over the text limit is refused the same way (readJsonFile)', () => {
    const path = tmp('model.json');
    writeFileSync(path, '{');
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, MAX_TEXT_BYTES + 1);
    closeSync(fd);
    const e = inputError(() => readJsonFile(path));
    expect(e.message).toContain(`file too large to read as JSON: ${MAX_TEXT_BYTES + 1} bytes`);
  });

  it('JSON data with a sequence past the step limit names the file and the sequence', () => {
    const path = tmp('long.json');
    writeFileSync(
      path,
      JSON.stringify({ inputs: [[[1]], new Array(LIMITS.maxSteps + 1).fill([0.5])], targets: [[0], [1]] }),
    );
    const e = inputError(() => readDataFile(path, preset('statquest')));
    expect(e.message).toBe(
      `${path}: inputs[1]: a sequence may have at most ${LIMITS.maxSteps} steps, got ${LIMITS.maxSteps + 1}`,
    );
  });

  it('a non-finite value in RNNB is named while streaming (inputs chunk by chunk)', () => {
    const m = randomModel({ inputSize: 2, hiddenSize: 2, outputSize: 1 }, 'tanh', 'last', 3);
    const b = randomBatch({
      count: 4,
      inputSize: 2,
      outputSize: 1,
      output: 'last',
      minLength: 3,
      maxLength: 3,
      seed: 2,
    });
    const path = tmp('nan.rnnb');
    writeDataFile(path, b);
    const bytes = new Uint8Array(readFileSync(path));
    new DataView(bytes.buffer).setFloat32(RNNB_HEADER_BYTES + 16 + 4 * (3 * 2 + 2 + 1), Infinity, true); // sequence 1, step 1, value 1
    expect(inputError(() => decodeRnnb(bytes, m, 'x.rnnb')).message).toBe(
      'x.rnnb: inputs[1][1][1]: must be finite, got Infinity',
    );
  });
});
