// Shared by the file tests: a temporary folder removed after the file's tests, unique paths in it, a small data
// file for CLI runs, and the InputError a call throws.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { writeJsonData } from '../../src/io/files.ts';
import { randomBatch } from '../../src/random.ts';

/** A fresh temporary folder (removed after this test file) and a maker of unique paths in it. */
export function tempFiles(prefix: string): { dir: string; tmp: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let fileNo = 0;
  return { dir, tmp: (name) => join(dir, `${fileNo++}-${name}`) };
}

/** Writes a small JSON data file at `path` (6 random sequences of 1 to 4 steps, I = O = 1, "last", seed 1). */
export function smallDataFile(path: string): string {
  writeJsonData(
    path,
    randomBatch({ count: 6, inputSize: 1, outputSize: 1, output: 'last', minLength: 1, maxLength: 4, seed: 1 }),
  );
  return path;
}

/** Catches the InputError thrown by `f`. */
export function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}
