// Memory and dispatch planning (pure): 2D folding of workgroup counts, and chunks stay under the binding limit and the budget, cover every sequence once, and a
// sequence that can never fit gives an error naming the limit.

import { describe, expect, it } from 'vitest';
import { foldDispatch } from '../src/gpu/kernel.ts';
import { planChunks, type PlanInput } from '../src/gpu/plan.ts';
import { rowStride } from '../src/gpu/gemm/plan.ts';

const base = (lengths: number[], over: Partial<PlanInput> = {}): PlanInput => ({
  lengths: Uint32Array.from(lengths),
  inputSize: 1,
  hiddenSize: 1,
  outputSize: 1,
  storeStates: true,
  outAll: false,
  hasTargets: true,
  outputs: false,
  rows: 6,
  reduceSpan: 1024,
  maxBindingBytes: 1 << 30,
  budgetBytes: 1 << 29,
  ...over,
});

describe('planChunks', () => {
  it('keeps the whole batch in one chunk when it fits', () => {
    const p = planChunks(base([3, 1, 2]));
    expect(p.chunks).toEqual([{ start: 0, count: 3, steps: 3, partOffset: 0 }]);
    expect(p.totalParts).toBe(1);
  });

  it('splits under maxStorageBufferBindingSize: every buffer stays under the limit', () => {
    const lengths = Array.from({ length: 10_000 }, (_, n) => 1 + (n % 64));
    const p = planChunks(base(lengths, { maxBindingBytes: 64 * 1024 }));
    for (const [role, bytes] of Object.entries(p.bytes))
      if (role !== 'partials') expect(bytes, role).toBeLessThanOrEqual(64 * 1024);
    expect(p.chunks.length).toBeGreaterThan(1);
    // Chunks tile the batch, and each chunk's time extent is its own longest sequence.
    let next = 0;
    let parts = 0;
    for (const c of p.chunks) {
      expect(c.start).toBe(next);
      expect(c.partOffset).toBe(parts);
      expect(c.steps).toBe(Math.max(...lengths.slice(c.start, c.start + c.count)));
      next += c.count;
      parts += Math.ceil(c.count / 1024);
    }
    expect(next).toBe(10_000);
    expect(p.totalParts).toBe(parts);
  });

  it('splits under the memory budget', () => {
    const p = planChunks(base(new Array<number>(1000).fill(16), { budgetBytes: 20_000 }));
    const perSeq = 16 * 4 /* xs */ + 4 /* lengths */ + 4 /* targets */ + 24 /* rows */ + 16 * 4; /* hs */
    // The weights and h0 (5 + 1 floats), 256 bytes of uniforms and read-backs, two rows of final sums, and the
    // partial sums: a column per reduction workgroup (one here) and per chunk.
    const total = (cap: number): number => 6 * 4 + 256 + 2 * 24 + 24 * (1 + Math.ceil(1000 / cap)) + cap * perSeq;
    expect(total(p.capacity)).toBeLessThanOrEqual(20_000);
    expect(total(p.capacity + 1)).toBeGreaterThan(20_000);
  });

  it('names the limit a single sequence exceeds', () => {
    expect(() => planChunks(base([100_000], { maxBindingBytes: 65536 }))).toThrow(
      /needs 400000 bytes of "xs", more than the device's buffer limit of 65536 bytes/,
    );
    expect(() => planChunks(base([1000], { budgetBytes: 1000 }))).toThrow(/more than the memory budget of 1000 bytes/);
    // The least the message names is enough: a plan under exactly that budget exists.
    const lengths = new Array<number>(5000).fill(64);
    let least = 0;
    try {
      planChunks(base(lengths, { budgetBytes: 1000 }));
    } catch (e) {
      least = Number(/need at least (\d+) bytes/.exec((e as Error).message)![1]);
    }
    expect(least).toBeGreaterThan(1000);
    expect(planChunks(base(lengths, { budgetBytes: least })).capacity).toBeGreaterThanOrEqual(1);
    expect(() => planChunks(base(lengths, { budgetBytes: least - 1 }))).toThrow(/need at least/);
  });
});

it('folds workgroup counts into 2D only past the per-dimension limit', () => {
  expect(foldDispatch(1, 65535)).toEqual([1, 1]);
  expect(foldDispatch(65535, 65535)).toEqual([65535, 1]);
  const [x, y] = foldDispatch(70_000, 65535);
  expect(y).toBe(2);
  expect(x * y).toBeGreaterThanOrEqual(70_000);
  expect(() => foldDispatch(65536 * 65536, 65535)).toThrow(/exceed/);
});

describe('rowStride (gemm state, dz and dy rows)', () => {
  it('is n below 64 sequences, else n rounded up to an odd number of 64-byte lines: rows never a power-of-two KiB apart', () => {
    expect([1, 5, 63].map(rowStride)).toEqual([1, 5, 63]);
    expect(rowStride(64)).toBe(80);
    expect(rowStride(100)).toBe(112);
    expect(rowStride(4096)).toBe(4112);
    expect(rowStride(65536)).toBe(65552);
    for (let n = 64; n < 5000; n += 37) {
      const r = rowStride(n);
      expect(r).toBeGreaterThanOrEqual(n);
      expect(r - n).toBeLessThan(32);
      expect(r % 16).toBe(0);
      expect((r / 16) % 2).toBe(1);
    }
  });
});
