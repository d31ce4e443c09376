// Randomized differential testing of every registered WebGPU strategy against the float64 CPU reference
// (fast-check, fixed seed, so CI sees the same cases every run). Generated: the cell (Elman, LSTM, GRU), shapes
// (I, H, O), activation, output mode, weight scale, h0 (and an LSTM's c0), N (mostly not multiples of 64), ragged lengths, truncation windows and clipping; each
// strategy of the registry (src/gpu/registry.ts) is forced in turn, skipped where its `supports` refuses the
// shape, and must really run a minimum number of cases. Each run is repeated: the two must be bit-identical. A
// second property draws stacked and bidirectional networks (numLayers 1–3, either direction, carried initial
// states or not, final states out) for the two strategies that serve them: the per-sequence strategy's layered
// kernels and the gemm strategy's programs per layer-direction.
//
// Tolerance rule (the project's documented one, gpuTolerance in src/compare.ts), per quantity (loss, outputs, each
// gradient block) of a batch whose longest sequence has T steps:
//   |gpu − cpu| ≤ atol + rtol·max(|gpu|, |cpu|),  rtol = 1e-4·max(1, √T),  atol = 1e-5·max(1, max|cpu value in block|)
// — rtol grows with T because float32 rounding accumulates step by step; atol scales with the block's magnitude
// because sums over sequences can cancel to near zero while their float32 error stays the size of the terms.
// gradNorm uses the same rule on the one value. On failure fast-check prints the counterexample (and its seed and
// path to replay it) and the message lists the first differing indices with both values (describeComparison).

import fc from 'fast-check';
import { expect, it } from 'vitest';
import { maxLength } from '../src/batch.ts';
import { compareArrays, gpuTolerance } from '../src/compare.ts';
import { Engine, type Result } from '../src/engine.ts';
import { CELL_NAMES, type CellName } from '../src/cells/index.ts';
import { STRATEGIES } from '../src/gpu/registry.ts';
import type { StrategyName } from '../src/gpu/strategy.ts';
import { ACTIVATIONS, OUTPUT_MODES, modelFromJSON, type Activation, type OutputMode } from '../src/model.ts';
import { compareResults } from '../src/verify.ts';
import { parseModel } from '../src/validate.ts';
import { describeGpu } from './helpers/gpu.ts';
import { randomLayeredModelJSON } from './helpers/layered-cases.ts';
import { Rng, makeCase, randomData, type TestCase } from './helpers/random-cases.ts';
import { batchFromArrays, type Batch } from '../src/batch.ts';

/**
 * The seed and the number of generated cases: 20261125 and 20, or WEBGPU_RNN_DIFFERENTIAL_SEED and _RUNS. The
 * lavapipe pass of npm test takes 10 cases of seed 20261129 (3 LSTM, 3 GRU, 4 Elman): on a cold shader cache
 * lavapipe spends most of its time compiling each case's pipelines.
 */
const SEED = Number(process.env.WEBGPU_RNN_DIFFERENTIAL_SEED ?? 20261125);
const NUM_RUNS = Number(process.env.WEBGPU_RNN_DIFFERENTIAL_RUNS ?? 20);
if (!Number.isInteger(SEED))
  throw new Error(`WEBGPU_RNN_DIFFERENTIAL_SEED must be an integer, got ${process.env.WEBGPU_RNN_DIFFERENTIAL_SEED}`);
if (!Number.isInteger(NUM_RUNS) || NUM_RUNS < 4)
  throw new Error(
    `WEBGPU_RNN_DIFFERENTIAL_RUNS must be an integer ≥ 4, got ${process.env.WEBGPU_RNN_DIFFERENTIAL_RUNS}`,
  );
/** Each strategy must have served at least this many generated cases (5 of 20). */
const MIN_RUNS_PER_STRATEGY = Math.ceil(NUM_RUNS / 4);
/** Each cell must have been served by at least this many (case, strategy) runs (4 of 20). */
const MIN_RUNS_PER_CELL = Math.ceil(NUM_RUNS / 5);

interface DiffCase {
  cell: CellName;
  I: number;
  H: number;
  O: number;
  activation: Activation;
  output: OutputMode;
  scale: number;
  h0: boolean;
  N: number;
  minT: number;
  maxT: number;
  truncation: number | null;
  /** Clip to this fraction of the CPU gradient norm (kept away from 1 so both sides agree on whether to clip). */
  clipFraction: number | null;
  seed: number;
}

// Sizes stay small for SwiftShader (a CPU driver): every new shape is a new pipeline to compile.
const caseArb: fc.Arbitrary<DiffCase> = fc
  .record({
    cell: fc.constantFrom<CellName>('elman', 'elman', 'lstm', 'gru'),
    I: fc.integer({ min: 1, max: 3 }),
    H: fc.constantFrom(1, 2, 3, 4, 5, 17),
    O: fc.integer({ min: 1, max: 2 }),
    activation: fc.constantFrom(...ACTIVATIONS),
    output: fc.constantFrom(...OUTPUT_MODES),
    scale: fc.constantFrom(0.3, 0.6, 0.9),
    h0: fc.boolean(),
    N: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(63, 64, 65, 129)),
    minT: fc.integer({ min: 1, max: 6 }),
    span: fc.integer({ min: 0, max: 10 }),
    truncation: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
    clipFraction: fc.option(fc.constantFrom(0.25, 0.5, 2), { nil: null }),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  // LSTM and GRU take tanh only (their gates are fixed).
  .map(({ span, ...c }) => ({ ...c, activation: c.cell === 'elman' ? c.activation : 'tanh', maxT: c.minT + span }));

/** The generated case's model (randomModel, weights in ±scale/√max(1, H/4)) and batch (randomBatch, seed + 1). */
const diffCase = (c: DiffCase): TestCase =>
  makeCase(
    {
      cell: c.cell,
      I: c.I,
      H: c.H,
      O: c.O,
      act: c.activation,
      out: c.output,
      N: c.N,
      minT: c.minT,
      maxT: c.maxT,
      scale: c.scale / Math.sqrt(Math.max(1, c.H / 4)),
      h0: c.h0 ? (j) => Math.fround(0.5 * Math.sin(c.seed + j)) : undefined,
      c0: c.h0 && c.cell === 'lstm' ? (j) => Math.fround(0.7 * Math.cos(c.seed + j)) : undefined,
    },
    c.seed,
  );

/** Bit-for-bit equality of two runs, or a message naming the first difference. */
function sameBits(a: Result, b: Result): string | null {
  if (!Object.is(a.loss, b.loss)) return `loss ${a.loss} vs ${b.loss}`;
  if (!Object.is(a.gradNorm, b.gradNorm)) return `gradNorm ${a.gradNorm} vs ${b.gradNorm}`;
  for (const key of ['gradsFlat', 'outputs'] as const) {
    const x = a[key]!;
    const y = b[key]!;
    const k = x.findIndex((v, i) => !Object.is(v, y[i]));
    if (k >= 0) return `${key}[${k}] ${x[k]} vs ${y[k]}`;
  }
  return null;
}

const cpu = await Engine.create({ backend: 'cpu' });

await describeGpu('randomized differential suite: every strategy against the CPU reference', (gpu) => {
  it(
    `${NUM_RUNS} generated cases × every registered strategy (${STRATEGIES.map((s) => s.name).join(', ')}), seed ${SEED}`,
    { timeout: 600_000 },
    async () => {
      const runs = new Map<StrategyName, number>(STRATEGIES.map((s) => [s.name, 0]));
      const perCell = new Map<CellName, number>(CELL_NAMES.map((c) => [c, 0]));
      const limits = gpu().device!.limits;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { json, batch } = diffCase(c);
          const model = modelFromJSON(json);
          const T = maxLength(batch);
          const truncation = c.truncation ?? undefined;
          const base = { outputs: true, truncation };
          const plain = await cpu.run(model, batch, base);
          const clipNorm =
            c.clipFraction !== null && plain.gradNorm! > 0 ? c.clipFraction * plain.gradNorm! : undefined;
          const opts = { ...base, clipNorm };
          const ref = clipNorm === undefined ? plain : await cpu.run(model, batch, opts);
          for (const s of STRATEGIES) {
            const shape = {
              cell: c.cell,
              inputSize: c.I,
              hiddenSize: c.H,
              outputSize: c.O,
              maxSteps: T,
              count: c.N,
              gradients: true,
              truncation,
            };
            if (s.supports(shape, limits) !== null) continue;
            const r = await gpu().run(model, batch, { ...opts, strategy: s.name });
            if (gpu().lastRunStats!.strategy !== s.name)
              throw new Error(`asked for ${s.name}, ran ${gpu().lastRunStats!.strategy}`);
            const report = compareResults(model, batch, r, ref);
            if (!report.ok)
              throw new Error(
                `strategy ${s.name}, cell ${c.cell}:\n${report.checks
                  .map((x) => x.details)
                  .filter(Boolean)
                  .join('\n')}`,
              );
            const normTol = gpuTolerance(T, [ref.gradNorm!]);
            const norm = compareArrays([r.gradNorm!], [ref.gradNorm!], normTol);
            if (!norm.ok)
              throw new Error(
                `strategy ${s.name}: gradNorm ${r.gradNorm} vs CPU ${ref.gradNorm} beyond ${JSON.stringify(normTol)}`,
              );
            if (r.clipped !== ref.clipped)
              throw new Error(`strategy ${s.name}: clipped ${r.clipped}, CPU ${ref.clipped}`);
            const again = await gpu().run(model, batch, { ...opts, strategy: s.name });
            const diff = sameBits(r, again);
            if (diff) throw new Error(`strategy ${s.name} is not deterministic: ${diff}`);
            runs.set(s.name, runs.get(s.name)! + 1);
            perCell.set(c.cell, perCell.get(c.cell)! + 1);
          }
        }),
        { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
      );
      console.info(
        `[differential] cases served per strategy: ${[...runs].map(([name, n]) => `${name} ${n}`).join(', ')}; runs per cell: ${[...perCell].map(([name, n]) => `${name} ${n}`).join(', ')}`,
      );
      for (const [name, n] of perCell)
        expect(n, `cell ${name} was run only ${n} times`).toBeGreaterThanOrEqual(MIN_RUNS_PER_CELL);
      for (const [name, n] of runs)
        expect(n, `strategy ${name} served only ${n} of ${NUM_RUNS} generated cases`).toBeGreaterThanOrEqual(
          MIN_RUNS_PER_STRATEGY,
        );
    },
  );
});

interface LayeredDiffCase {
  cell: CellName;
  numLayers: number;
  bidirectional: boolean;
  I: number;
  H: number;
  O: number;
  output: OutputMode;
  lengths: number[];
  truncation: number | null;
  carried: boolean;
  /** The layered kernels of the per-sequence strategy, or the gemm strategy's programs per layer-direction. */
  strategy: 'per-sequence' | 'gemm';
  seed: number;
}

const layeredArb: fc.Arbitrary<LayeredDiffCase> = fc.record({
  cell: fc.constantFrom<CellName>('elman', 'lstm', 'gru'),
  numLayers: fc.integer({ min: 1, max: 3 }),
  bidirectional: fc.boolean(),
  I: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 4 }),
  O: fc.integer({ min: 1, max: 2 }),
  output: fc.constantFrom(...OUTPUT_MODES),
  lengths: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 70 }),
  truncation: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  carried: fc.boolean(),
  strategy: fc.constantFrom('per-sequence' as const, 'gemm' as const),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

/** The case's layered model (moderate weights, nonzero h0) and batch, with random initial states when `carried`. */
function layeredDiffCase(c: LayeredDiffCase): { json: ReturnType<typeof randomLayeredModelJSON>; batch: Batch } {
  const rng = new Rng(c.seed);
  const shape = {
    cell: c.cell,
    inputSize: c.I,
    hiddenSize: c.H,
    outputSize: c.O,
    output: c.output,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    h0: true,
  };
  const json = randomLayeredModelJSON(rng, shape);
  const data = randomData(rng, shape, c.lengths);
  const batch = batchFromArrays(data.inputs, data.targets, c.output, c.O);
  if (c.carried) {
    const size = c.numLayers * (c.bidirectional ? 2 : 1) * c.lengths.length * c.H;
    const v = () => Float64Array.from({ length: size }, () => rng.uniform(-0.7, 0.7));
    batch.initialStates = c.cell === 'lstm' ? { h: v(), c: v() } : { h: v() };
  }
  return { json, batch };
}

/** Layered cases: half as many as the one-layer property, at least 4. */
const LAYERED_RUNS = Math.max(4, Math.ceil(NUM_RUNS / 2));

await describeGpu('randomized differential suite: stacked and bidirectional networks', (gpu) => {
  it(
    `${LAYERED_RUNS} generated layered cases on the per-sequence and gemm strategies, seed ${SEED}`,
    { timeout: 600_000 },
    async () => {
      let stacked = 0;
      let bidirectional = 0;
      const served = { 'per-sequence': 0, gemm: 0 };
      await fc.assert(
        fc.asyncProperty(layeredArb, async (c) => {
          const { json, batch } = layeredDiffCase(c);
          // parseModel reads a one-layer, one-direction model's layered form into the flat one.
          const model = modelFromJSON(parseModel(json));
          const opts = { outputs: true, finalStates: true, truncation: c.truncation ?? undefined };
          const ref = await cpu.run(model, batch, opts);
          const r = await gpu().run(model, batch, { ...opts, strategy: c.strategy });
          if (gpu().lastRunStats?.strategy !== c.strategy) throw new Error(`ran on ${gpu().lastRunStats?.strategy}`);
          if (r.backend !== 'webgpu') throw new Error(`ran on ${r.backend}: ${r.fallbackReason}`);
          const report = compareResults(model, batch, r, ref);
          if (!report.ok)
            throw new Error(
              report.checks
                .map((x) => x.details)
                .filter(Boolean)
                .join('\n'),
            );
          const T = maxLength(batch);
          for (const key of ['h', 'c'] as const) {
            const e = ref.finalStates![key];
            if (!e) continue;
            const cmp = compareArrays(r.finalStates![key]!, e, gpuTolerance(T, e));
            if (!cmp.ok) throw new Error(`finalStates.${key}: ${cmp.failureCount} values beyond tolerance`);
          }
          const again = await gpu().run(model, batch, { ...opts, strategy: c.strategy });
          const diff = sameBits(r, again);
          if (diff) throw new Error(`the ${c.strategy} layered runs are not deterministic: ${diff}`);
          served[c.strategy]++;
          if (c.numLayers > 1) stacked++;
          if (c.bidirectional) bidirectional++;
        }),
        { seed: SEED, numRuns: LAYERED_RUNS, endOnFailure: true },
      );
      console.info(
        `[differential] layered cases: ${stacked} stacked, ${bidirectional} bidirectional of ${LAYERED_RUNS}; per-sequence ${served['per-sequence']}, gemm ${served.gemm}`,
      );
      expect(served['per-sequence'], 'per-sequence cases drawn').toBeGreaterThan(0);
      expect(served.gemm, 'gemm cases drawn').toBeGreaterThan(0);
      expect(stacked, 'stacked cases drawn').toBeGreaterThan(0);
      expect(bidirectional, 'bidirectional cases drawn').toBeGreaterThan(0);
    },
  );
});
