// WebGPU kernel strategies: strategy choice (auto and forced, with the reason a strategy cannot serve), and each
// registered strategy against the CPU reference, determinism, checkpointing and overflow detection.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, offsetsFromLengths, type Batch } from '../src/batch.ts';
import { Engine, type Result } from '../src/engine.ts';
import { InputError, NonFiniteError } from '../src/errors.ts';
import type { GpuOptions } from '../src/gpu/backend.ts';
import { planGemm, rowStride, type GemmPlanInput } from '../src/gpu/gemm/plan.ts';
import { gru, lstm } from '../src/cells/index.ts';
import { tileFor, tileProblem } from '../src/gpu/gemm/kernels.ts';
import { autoOrder, chooseStrategy, STRATEGIES } from '../src/gpu/registry.ts';
import { PER_SEQUENCE_LIMITS } from '../src/gpu/per-sequence/strategy.ts';
import { ADAPTER_TUNING } from '../src/gpu/tuning.ts';
import type { StrategyName } from '../src/gpu/strategy.ts';
import { LIMITS, modelFromJSON, preset, type ModelJSON } from '../src/model.ts';
import { describeGpu } from './helpers/gpu.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli.ts';
import { expectMatchesCpu } from './helpers/compare.ts';
import { Rng, makeCase, type DrawnCaseSpec } from './helpers/random-cases.ts';
import type { GradReport } from './helpers/reports.ts';

/** Stream-drawn cases (test/helpers/random-cases.ts), with lengths 1..maxT. */
interface Case extends DrawnCaseSpec {
  truncation?: number;
}

const flat = (r: Result): number[] => [r.loss ?? NaN, ...(r.gradsFlat ?? []), ...(r.outputs ?? [])];

const shape = (
  H: number,
  over: Partial<{ inputSize: number; outputSize: number; maxSteps: number; truncation: number }> = {},
) => ({
  inputSize: 1,
  outputSize: 1,
  hiddenSize: H,
  maxSteps: 8,
  count: 10,
  gradients: true,
  ...over,
});

describe('strategy choice', () => {
  const limits = {
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
  } as GPUSupportedLimits;

  it('auto prefers per-sequence for small H and large-H kernels beyond it', () => {
    expect(autoOrder(shape(1))[0]).toBe('per-sequence');
    expect(autoOrder(shape(16))[0]).toBe('per-sequence');
    expect(autoOrder(shape(17))[0]).toBe('gemm');
    expect(autoOrder(shape(64))[0]).toBe('gemm');
    expect(autoOrder(shape(256))[0]).toBe('gemm');
    // The crossover comes from the adapter's tuning; per-sequence never past its own limit.
    expect(autoOrder(shape(12), 8)[0]).toBe('gemm');
    expect(autoOrder(shape(8), 8)[0]).toBe('per-sequence');
    // Gated cells have their own crossover (perSequenceMaxHiddenGated).
    expect(autoOrder({ ...shape(8), cell: 'lstm' })[0]).toBe('per-sequence');
    expect(autoOrder({ ...shape(9), cell: 'lstm' })[0]).toBe('gemm');
    expect(autoOrder({ ...shape(5), cell: 'gru' }, { perSequenceMaxHiddenGated: 4 })[0]).toBe('gemm');
    expect(autoOrder({ ...shape(9), cell: 'elman' })[0]).toBe('per-sequence');
    for (const t of Object.values(ADAPTER_TUNING))
      expect(t.perSequenceMaxHiddenGated).toBeLessThanOrEqual(t.perSequenceMaxHidden);
    for (const t of Object.values(ADAPTER_TUNING))
      expect(t.perSequenceMaxHidden).toBeLessThanOrEqual(PER_SEQUENCE_LIMITS.maxHiddenSize);
    expect(chooseStrategy('auto', shape(4), limits).name).toBe('per-sequence');
    expect(chooseStrategy(undefined, shape(16), limits).name).toBe('per-sequence');
    expect(() => chooseStrategy('workgroup' as never, shape(64), limits)).toThrow(
      /unknown or unavailable strategy "workgroup"/,
    );
  });

  it('a forced strategy that cannot serve the shape is an InputError saying why', () => {
    expect(() => chooseStrategy('per-sequence', shape(17), limits)).toThrow(InputError);
    expect(() => chooseStrategy('per-sequence', shape(17), limits)).toThrow(
      /strategy "per-sequence" cannot serve this run: .*hiddenSize ≤ 16, got 17/,
    );
    expect(() => chooseStrategy('per-sequence', shape(2, { inputSize: 20 }), limits)).toThrow(/inputSize ≤ 16, got 20/);
    expect(() => chooseStrategy('bogus' as never, shape(2), limits)).toThrow(/unknown or unavailable strategy "bogus"/);
  });

  it('every registered strategy has a distinct name', () => {
    const names = STRATEGIES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it(`a sequence longer than ${LIMITS.maxSteps} steps is an InputError naming lengths[n]`, async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const long = LIMITS.maxSteps + 1;
    const batch: Batch = batchFromArrays([[[1]], Array.from({ length: long }, () => [0.5])], [[0], [1]], 'last', 1);
    await expect(cpu.run(preset('statquest'), batch)).rejects.toThrow(
      /lengths\[1\]: a sequence may have at most 4096 steps, got 4097/,
    );
    const ok = batchFromArrays([Array.from({ length: LIMITS.maxSteps }, () => [0.5])], [[1]], 'last', 1);
    expect((await cpu.run(modelFromJSON(preset('statquest')), ok)).loss).toBeGreaterThanOrEqual(0);
  });
});

await describeGpu('WebGPU strategy reporting', (gpu) => {
  it('reports the strategy used, the peak bytes and the checkpoint interval', async () => {
    const batch = batchFromArrays(
      [
        [[1], [0.5]],
        [[0], [0.5], [1]],
      ],
      [[0], [1]],
      'last',
      1,
    );
    await gpu().run(preset('statquest'), batch, { strategy: 'per-sequence' });
    const s = gpu().lastRunStats!;
    expect(s.strategy).toBe('per-sequence');
    expect(s.checkpointEvery).toBe(3);
    expect(s.peakBytes).toBeGreaterThan(0);
    await gpu().run(preset('statquest'), batch, { gradients: false, outputs: true });
    expect(gpu().lastRunStats!.checkpointEvery).toBeUndefined();
    await expect(gpu().run(preset('statquest'), batch, { strategy: 'no-such' as never })).rejects.toThrow(
      /unknown or unavailable strategy "no-such"/,
    );
  });
});

/** Cases every registered strategy that can serve them must pass (small N and T: the CPU reference stays fast). */
const CASES: Case[] = [
  { I: 1, H: 1, O: 1, act: 'relu', out: 'last', N: 7, maxT: 6, h0: true },
  { I: 3, H: 12, O: 2, act: 'tanh', out: 'all', N: 33, maxT: 5 },
  { I: 64, H: 17, O: 3, act: 'tanh', out: 'all', N: 37, maxT: 5, h0: true },
  { I: 2, H: 64, O: 64, act: 'identity', out: 'last', N: 9, maxT: 4 },
  { I: 3, H: 130, O: 2, act: 'relu', out: 'last', N: 5, maxT: 4, h0: true },
  { I: 2, H: 5, O: 2, act: 'relu', out: 'all', N: 21, maxT: 9, truncation: 3 },
];

await describeGpu('WebGPU strategies against the CPU reference', (gpu) => {
  for (const strategy of STRATEGIES.map((s) => s.name)) {
    CASES.forEach((c, ci) => {
      const { json, batch } = makeCase(c, 300 + ci);
      const limits = { maxStorageBuffersPerShaderStage: 8, minUniformBufferOffsetAlignment: 256 } as GPUSupportedLimits;
      const shape = {
        inputSize: c.I,
        hiddenSize: c.H,
        outputSize: c.O,
        maxSteps: c.maxT,
        count: c.N,
        gradients: true,
        truncation: c.truncation,
      };
      if (STRATEGIES.find((s) => s.name === strategy)!.supports(shape, limits)) return;
      it(`${strategy}: I=${c.I} H=${c.H} O=${c.O} ${c.act} ${c.out}, N=${c.N} ragged 1..${c.maxT}${c.h0 ? ', h0' : ''}${c.truncation ? `, truncation ${c.truncation}` : ''}`, async () => {
        const r = await gpu().run(json, batch, { outputs: true, strategy, truncation: c.truncation });
        expect(gpu().lastRunStats!.strategy).toBe(strategy);
        await expectMatchesCpu(r, json, batch, { truncation: c.truncation });
        const again = await gpu().run(json, batch, { outputs: true, strategy, truncation: c.truncation });
        expect(flat(again)).toEqual(flat(r));
      }, 180_000);
    });
  }
});

await describeGpu('WebGPU strategies on the command line', () => {
  it('--strategy and --memory-budget: the strategy and run figures are reported; a strategy that cannot serve exits 2 naming why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-strategies-'));
    const { json, batch } = makeCase({ I: 2, H: 17, O: 1, act: 'tanh', out: 'last', N: 6, maxT: 4 }, 48);
    const modelPath = join(dir, 'model.json');
    const dataPath = join(dir, 'data.json');
    writeFileSync(modelPath, JSON.stringify(json));
    const inputs = Array.from({ length: batch.count }, (_, n) =>
      Array.from({ length: batch.lengths[n] }, (_, t) =>
        Array.from(batch.inputs.subarray((batch.offsets[n] + t) * 2, (batch.offsets[n] + t + 1) * 2)),
      ),
    );
    writeFileSync(
      dataPath,
      JSON.stringify({ inputs, targets: Array.from({ length: batch.count }, (_, n) => [batch.targets![n]]) }),
    );
    const ok = await cli(
      'grad',
      '--model',
      modelPath,
      '--data',
      dataPath,
      '--backend',
      'webgpu',
      '--strategy',
      'gemm',
      '--memory-budget',
      '1M',
      '--json',
    );
    expect(ok.code, ok.stderr).toBe(0);
    const run = (JSON.parse(ok.stdout) as GradReport).run!;
    expect(run.strategy).toBe('gemm');
    expect(run.checkpointEvery).toBe(4);
    expect(run.peakBytes).toBeLessThanOrEqual(1 << 20);
    const bad = await cli(
      'grad',
      '--model',
      modelPath,
      '--data',
      dataPath,
      '--backend',
      'webgpu',
      '--strategy',
      'per-sequence',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/strategy "per-sequence" cannot serve this run: .*hiddenSize ≤ 16, got 17/);
    const v = await cli('verify', '--model', modelPath, '--data', dataPath, '--strategy', 'gemm');
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/strategy gemm, 1 chunk/);
    expect((await cli('grad', '--model', modelPath, '--data', dataPath, '--memory-budget', 'lots')).code).toBe(2);
  }, 180_000);
});

await describeGpu('WebGPU strategies: overflow and 2D dispatch', (gpu) => {
  it('forward passes without targets, longer than one gemm forward segment (32 steps), match the CPU reference', async () => {
    for (const out of ['all', 'last'] as const) {
      const { json, batch } = makeCase({ I: 3, H: 20, O: 5, act: 'tanh', out, N: 29, maxT: 40, h0: true }, 49);
      const inputsOnly: Batch = { ...batch, targets: null };
      for (const strategy of ['gemm'] as const) {
        const r = await gpu().run(json, inputsOnly, { strategy, outputs: true });
        expect(r.loss).toBeNull();
        await expectMatchesCpu(r, json, inputsOnly);
      }
    }
  }, 180_000);

  it('a hidden state that overflows is a NonFiniteError on every strategy, even under ReLU', async () => {
    const json: ModelJSON = {
      inputSize: 1,
      hiddenSize: 2,
      outputSize: 1,
      activation: 'relu',
      output: 'last',
      weights: {
        Wx: [[3e38], [1]],
        Wh: [
          [3e38, 0],
          [0, 1],
        ],
        bh: [0, 0],
        Wy: [[1, 1]],
        by: [0],
      },
    };
    const batch = batchFromArrays([[[1], [1], [1]], [[-1]]], [[0], [0]], 'last', 1);
    for (const { name: strategy } of STRATEGIES) {
      await expect(gpu().run(json, batch, { strategy }), strategy).rejects.toThrow(NonFiniteError);
      await expect(gpu().run(json, batch, { strategy, gradients: false, outputs: true }), strategy).rejects.toThrow(
        /hidden state of 1 of 2 sequences/,
      );
    }
  });
});

const engineOn = (gpu: Engine, opts: GpuOptions): Promise<Engine> =>
  Engine.create({ backend: 'webgpu', gpu: { device: gpu.device!, ...opts } });

await describeGpu('WebGPU gemm strategy', (gpu) => {
  const strategy: StrategyName = 'gemm';
  const c: Case = { I: 2, H: 6, O: 2, act: 'tanh', out: 'all', N: 45, maxT: 11, h0: true };

  it('checkpointing (a state every 1, 3 and 4 steps) gives results bit-identical to storing every state', async () => {
    const { json, batch } = makeCase(c, 41);
    const full = await gpu().run(json, batch, { strategy, outputs: true });
    expect(gpu().lastRunStats!.checkpointEvery).toBe(11);
    await expectMatchesCpu(full, json, batch);
    for (const k of [1, 3, 4]) {
      const e = await engineOn(gpu(), { checkpointEvery: k });
      const r = await e.run(json, batch, { strategy, outputs: true });
      expect(e.lastRunStats!.checkpointEvery).toBe(k);
      expect(flat(r), `checkpoint every ${k}`).toEqual(flat(full));
      const again = await e.run(json, batch, { strategy, outputs: true });
      expect(flat(again)).toEqual(flat(r));
      e.dispose();
    }
  }, 180_000);

  it('chunked under a small budget: matches the CPU reference, deterministic', async () => {
    const { json, batch } = makeCase(c, 42);
    const e = await engineOn(gpu(), { memoryBudget: 24 * 1024 });
    const r = await e.run(json, batch, { strategy });
    expect(e.lastRunStats!.chunks).toBeGreaterThan(1);
    expect(e.lastRunStats!.peakBytes).toBeLessThanOrEqual(24 * 1024);
    await expectMatchesCpu(r, json, batch);
    expect(flat(await e.run(json, batch, { strategy }))).toEqual(flat(r));
    e.dispose();
  }, 180_000);

  it('odd tiles, in workgroup memory and without, past 65535 workgroups folded into 2D', async () => {
    const { json, batch } = makeCase({ I: 3, H: 7, O: 2, act: 'relu', out: 'last', N: 23, maxT: 5 }, 43);
    for (const shared of [true, false]) {
      const e = await engineOn(gpu(), { gemmTile: { tx: 2, ty: 3, rm: 2, rn: 3, bk: 5 }, gemmShared: shared });
      await expectMatchesCpu(await e.run(json, batch, { strategy, outputs: true }), json, batch);
      e.dispose();
    }
    const N = 70_001;
    const lengths = Uint32Array.from({ length: N }, (_, n) => 1 + (n % 2));
    const offsets = offsetsFromLengths(lengths);
    const rng = new Rng(44);
    const big: Batch = {
      count: N,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      lengths,
      offsets,
      inputs: Float64Array.from({ length: offsets[N] }, () => rng.uniform(-1, 1)),
      targets: Float64Array.from({ length: N }, () => rng.uniform(-1, 1)),
    };
    const e = await engineOn(gpu(), { gemmTile: { tx: 1, ty: 1, rm: 1, rn: 1, bk: 1 } });
    await expectMatchesCpu(
      await e.run(preset('statquest'), big, { strategy, outputs: true }),
      preset('statquest'),
      big,
    );
    e.dispose();
  }, 180_000);

  it('auto picks gemm beyond the per-sequence limits', async () => {
    const { json, batch } = makeCase({ I: 20, H: 3, O: 1, act: 'identity', out: 'last', N: 4, maxT: 3 }, 45);
    await gpu().run(json, batch);
    expect(gpu().lastRunStats!.strategy).toBe('gemm');
    expect(chooseStrategy('auto', shape(129), gpu().device!.limits).name).toBe('gemm');
    expect(chooseStrategy('auto', shape(17), gpu().device!.limits).name).toBe('gemm');
  });
});

describe('gemm memory plan', () => {
  const base = (lengths: number[], over: Partial<GemmPlanInput> = {}): GemmPlanInput => ({
    lengths: Uint32Array.from(lengths),
    inputSize: 1,
    hiddenSize: 256,
    outputSize: 1,
    params: 256 * 256 + 3 * 256 + 1,
    gradients: true,
    outAll: false,
    hasTargets: true,
    outputs: false,
    reduceSpan: 4096,
    maxBindingBytes: 2 ** 31,
    budgetBytes: 512 * 2 ** 20,
    ...over,
  });

  it('stores every state when a chunk of min(N, 4096) sequences fits the budget', () => {
    const p = planGemm(base(new Array<number>(1000).fill(64)));
    expect(p.checkpointed).toBe(false);
    expect(p.segment).toBe(64);
    expect(p.capacity).toBe(1000);
    expect(p.totalBytes).toBeLessThanOrEqual(512 * 2 ** 20);
  });

  it('H=256, T=256, N=16384: checkpoints every ⌈√T⌉ = 16 steps and stays under the budget', () => {
    const p = planGemm(base(new Array<number>(16384).fill(256)));
    expect(p.checkpointed).toBe(true);
    expect(p.segment).toBe(16);
    // ⌈256/16⌉ = 16 checkpoints + 16 segment slots of H floats per sequence (rows padded: rowStride), instead of 257.
    expect(p.bytes.states).toBe((16 + 16) * 256 * 4 * rowStride(p.capacity));
    expect(rowStride(p.capacity)).toBeLessThanOrEqual(p.capacity + 32);
    expect(p.capacity).toBeGreaterThanOrEqual(4096);
    expect(p.totalBytes).toBeLessThanOrEqual(512 * 2 ** 20);
    for (const [role, b] of Object.entries(p.bytes)) expect(b, role).toBeLessThanOrEqual(2 ** 31);
    expect(p.chunks.reduce((a, c) => a + c.count, 0)).toBe(16384);
  });

  it('sizes the slots of gated cells from the descriptor: LSTM checkpoints hold [h, c], step slots the 6-vector record', () => {
    const H = 64;
    const P = 4 * H * 1 + 4 * H * H + 8 * H + H + 1; // Wx, Wh, bx, bh, Wy, by (I = O = 1)
    const p = planGemm(
      base(new Array<number>(512).fill(100), { cell: lstm, hiddenSize: H, params: P, checkpointEvery: 10 }),
    );
    const ld = rowStride(p.capacity);
    expect(p.slots).toMatchObject({
      gated: true,
      gate: 4 * H,
      state: 2 * H,
      slot: 6 * H,
      grad: 5 * H,
      zx: 2 * H,
      gradX: 0,
      scratch: 4 * H,
    });
    // 10 checkpoints of the state (2H rows) and 10 step slots of the record (6H rows).
    expect(p.bytes.states).toBe((10 * 2 * H + 10 * 6 * H) * ld * 4);
    // The parameters, h0 and c0, Whᵀ (H × 4H) and Wyᵀ.
    expect(p.bytes.weights).toBe((P + 2 * H + 4 * H * H + H) * 4);
    expect(p.work.rows - p.work.scratch).toBeGreaterThanOrEqual(4 * H * ld);
    const g = planGemm(
      base(new Array<number>(512).fill(100), { cell: gru, hiddenSize: H, params: 3 * H + 3 * H * H + 6 * H + H + 1 }),
    );
    expect(g.slots).toMatchObject({ state: H, slot: 5 * H, grad: 7 * H, gradX: 4 * H });
    expect(planGemm(base(new Array<number>(512).fill(100))).slots).toMatchObject({
      gated: false,
      slot: 256,
      grad: 256,
      scratch: 0,
    });
  });

  it('respects the binding limit per buffer, and names the limit one sequence cannot fit', () => {
    const p = planGemm(base(new Array<number>(5000).fill(100), { maxBindingBytes: 1 << 24 }));
    for (const [role, b] of Object.entries(p.bytes)) expect(b, role).toBeLessThanOrEqual(1 << 24);
    expect(() =>
      planGemm(
        base([4096], {
          inputSize: 64,
          hiddenSize: 64,
          params: 64 * 64 + 64 * 64 + 2 * 64 + 1,
          maxBindingBytes: 1 << 19,
        }),
      ),
    ).toThrow(/"xs".*maxStorageBufferBindingSize/);
    expect(() => planGemm(base([4096], { budgetBytes: 100_000 }))).toThrow(
      /even with a hidden state stored every 64 steps, more than the memory budget of 100000 bytes/,
    );
  });

  it('default tiles fit the WebGPU default limits; oversized tiles name the limit', () => {
    const defaults = {
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupSizeY: 256,
      maxComputeWorkgroupStorageSize: 16384,
    } as GPUSupportedLimits;
    for (const M of [1, 2, 5, 16, 17, 40, 64, 512]) {
      expect(tileProblem(tileFor(M), defaults)).toBeNull();
      expect(tileProblem(tileFor(M, false), defaults, false)).toBeNull();
    }
    expect(tileProblem({ tx: 32, ty: 16, rm: 1, rn: 1, bk: 8 }, defaults)).toMatch(/maxComputeInvocationsPerWorkgroup/);
    expect(tileProblem({ tx: 16, ty: 16, rm: 8, rn: 8, bk: 32 }, defaults)).toMatch(/maxComputeWorkgroupStorageSize/);
    expect(tileProblem({ tx: 16, ty: 16, rm: 8, rn: 8, bk: 32 }, defaults, false)).toBeNull();
    expect(tileProblem({ tx: 16, ty: 16, rm: 9, rn: 1, bk: 8 }, defaults)).toMatch(/at most 8/);
  });
});
