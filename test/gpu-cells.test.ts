// LSTM and GRU on the per-sequence GPU kernels against the float64 CPU reference (cpuRun): both output modes,
// ragged lengths, non-zero h0 and c0, truncated BPTT, gradient clipping, bit-identical repeats; RTRL for small
// shapes; the refusals of shapes the per-sequence and rtrl kernels do not take; fused training of a population of
// LSTMs (the optimizer kernel strides over NWEIGHTS = NPARAM + NSTATE) against the CPU's; `verify` on LSTM and GRU
// model files.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { maxLength } from '../src/batch.ts';
import { cellByName, layoutOf, type CellName } from '../src/cells/index.ts';
import type { RunOptions } from '../src/backend.ts';
import { Engine, type Result } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, unflattenParams, type ModelJSON, type OutputMode } from '../src/model.ts';
import { Rng, randomBatch } from '../src/random.ts';
import { trainPopulation, type PopulationOptions } from '../src/train/index.ts';
import { cli } from './helpers/cli.ts';
import { expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';
import type { VerifyJson } from './helpers/reports.ts';
import { expectTrajectory } from './helpers/train.ts';

const cpu = await Engine.create({ backend: 'cpu' });

/** A gated model with weights uniform in ±scale and non-zero h0 (and c0 for LSTM). */
function gatedModel(
  cell: CellName,
  I: number,
  H: number,
  O: number,
  output: OutputMode,
  seed: number,
  scale = 0.6,
): ModelJSON {
  const rng = new Rng(seed);
  const shape = { cell, inputSize: I, hiddenSize: H, outputSize: O };
  const params = Float64Array.from({ length: layoutOf(cellByName(cell), shape).count }, () =>
    Math.fround(rng.uniform(-scale, scale)),
  );
  return {
    ...shape,
    activation: 'tanh',
    output,
    weights: unflattenParams(shape, params),
    h0: Array.from({ length: H }, (_, j) => 0.3 - 0.2 * j),
    ...(cell === 'lstm' ? { c0: Array.from({ length: H }, (_, j) => -0.5 + 0.35 * j) } : {}),
  };
}

const bits = (r: Result): number[] => [r.loss!, ...Array.from(r.gradsFlat!), ...Array.from(r.outputs!)];

const CASES = [
  { I: 2, H: 3, O: 2, out: 'all' as const, N: 45, maxT: 9 },
  { I: 1, H: 4, O: 1, out: 'last' as const, N: 70, maxT: 12 },
];

await describeGpu('LSTM and GRU on the per-sequence kernel', (gpu) => {
  for (const cell of ['lstm', 'gru'] as const) {
    CASES.forEach((c, ci) => {
      it(`${cell} I=${c.I} H=${c.H} O=${c.O} ${c.out}, ragged 1..${c.maxT}: loss, outputs and gradients match the CPU; truncation k = 1, 3 and clipping too; repeats are bit-identical`, async () => {
        const json = gatedModel(cell, c.I, c.H, c.O, c.out, 100 + ci);
        const batch = randomBatch({
          count: c.N,
          inputSize: c.I,
          outputSize: c.O,
          output: c.out,
          minLength: 1,
          maxLength: c.maxT,
          seed: 200 + ci,
        });
        const opts: RunOptions = { outputs: true, strategy: 'per-sequence' };
        const full = await gpu().run(json, batch, opts);
        expect(gpu().lastRunStats?.strategy).toBe('per-sequence');
        await expectMatchesCpu(full, json, batch, opts, 'full BPTT');
        expect(bits(await gpu().run(json, batch, opts))).toEqual(bits(full));
        for (const truncation of [1, 3]) {
          const r = await gpu().run(json, batch, { ...opts, truncation });
          await expectMatchesCpu(r, json, batch, { ...opts, truncation }, `truncation ${truncation}`);
          // Truncation leaves the forward pass alone and changes the gradient (the whole state [h, c] is detached).
          expect(r.loss).toBe(full.loss);
          expect(Array.from(r.gradsFlat!)).not.toEqual(Array.from(full.gradsFlat!));
        }
        const clipNorm = full.gradNorm! / 4;
        const clipped = await gpu().run(json, batch, { ...opts, clipNorm });
        expect(clipped.clipped).toBe(true);
        await expectMatchesCpu(clipped, json, batch, { ...opts, clipNorm }, `clipNorm ${clipNorm}`);
      });
    });
  }

  it('a forward pass without targets gives the CPU outputs (lstm and gru)', async () => {
    for (const cell of ['lstm', 'gru'] as const) {
      const json = gatedModel(cell, 2, 3, 2, 'all', 7);
      const batch = {
        ...randomBatch({ count: 20, inputSize: 2, outputSize: 2, output: 'all', minLength: 1, maxLength: 6, seed: 8 }),
        targets: null,
      };
      const r = await gpu().run(json, batch, { outputs: true, strategy: 'per-sequence' });
      expect(r.loss).toBeNull();
      await expectMatchesCpu(r, json, batch, { outputs: true }, cell);
    }
  });

  it('refuses gated hidden sizes past its per-cell limit with an InputError naming the limit and the cell', async () => {
    const batch = randomBatch({
      count: 2,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 1,
      maxLength: 2,
      seed: 1,
    });
    for (const cell of ['lstm', 'gru'] as const) {
      const run = gpu().run(gatedModel(cell, 1, 9, 1, 'last', 3), batch, { strategy: 'per-sequence' });
      await expect(run).rejects.toThrow(InputError);
      await expect(
        gpu().run(gatedModel(cell, 1, 9, 1, 'last', 3), batch, { strategy: 'per-sequence' }),
      ).rejects.toThrow(
        new RegExp(
          `strategy "per-sequence" cannot serve this run: it keeps the weights in private arrays and takes hiddenSize ≤ 8 for the ${cell} cell .*, got 9`,
        ),
      );
    }
  });
});

await describeGpu('LSTM and GRU on the rtrl kernel', (gpu) => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell} I=2 H=2 O=1, both output modes, ragged, truncation k = 2: forward-mode gradients match the CPU`, async () => {
      for (const out of ['last', 'all'] as const) {
        const json = gatedModel(cell, 2, 2, 1, out, 300);
        const batch = randomBatch({
          count: 33,
          inputSize: 2,
          outputSize: 1,
          output: out,
          minLength: 1,
          maxLength: 8,
          seed: 301,
        });
        for (const truncation of [undefined, 2]) {
          const opts: RunOptions = { outputs: true, strategy: 'rtrl', truncation };
          const r = await gpu().run(json, batch, opts);
          expect(gpu().lastRunStats?.strategy).toBe('rtrl');
          await expectMatchesCpu(r, json, batch, opts, `${out}, truncation ${truncation}`);
        }
      }
    });
  }

  it('refuses gated shapes whose sensitivities exceed its private-memory bound, counting the whole state', async () => {
    const batch = randomBatch({
      count: 2,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 1,
      maxLength: 2,
      seed: 1,
    });
    // LSTM H = 4, I = 1: 2H state values × (4H·I + 4H² + 8H) = 8 × 112 = 896 > 512.
    await expect(gpu().run(gatedModel('lstm', 1, 4, 1, 'last', 3), batch, { strategy: 'rtrl' })).rejects.toThrow(
      /strategy "rtrl" cannot serve this run: it carries ds\/dθ, 8 state values × 112 parameters of the lstm cell = 896 values per sequence, in private memory, at most 512/,
    );
  });
});

// Training once, with LSTM: its two state vectors (NSTATE = 2H, h0 then c0 after each model's parameters) are what
// the training kernel, the optimizer's NWEIGHTS stride and loss evaluation must get right; GRU's cell module is the
// one the per-sequence tests above check. (A cold first training call compiles for about a minute on lavapipe.)
await describeGpu('training gated models on WebGPU', (gpu) => {
  for (const cell of ['lstm'] as const) {
    it(`${cell}: a population of two (own h0 and c0 each) follows the CPU trajectories for 60 steps (Adam, mini-batches, clipping, ragged, output all)`, async () => {
      const a = modelFromJSON(gatedModel(cell, 1, 2, 1, 'all', 400));
      const b = {
        ...modelFromJSON(gatedModel(cell, 1, 2, 1, 'all', 401)),
        h0: Float64Array.from([-0.1, 0.2]),
        c0: Float64Array.from([0.4, -0.15]),
      };
      const data = randomBatch({
        count: 30,
        inputSize: 1,
        outputSize: 1,
        output: 'all',
        minLength: 1,
        maxLength: 7,
        seed: 402,
      });
      const o: PopulationOptions = {
        optimizer: { kind: 'adam', lr: 0.01 },
        steps: 60,
        batchSize: 12,
        seed: 5,
        curveEvery: 1,
        clipNorm: 2,
      };
      const g = await trainPopulation(gpu(), [a, b], data, o);
      const c = await trainPopulation(cpu, [a, b], data, o);
      expect(g.backend).toBe('webgpu');
      expect(g.status).toEqual(['ok', 'ok']);
      expectTrajectory(g.curves, c.curves, 'curves');
      expectTrajectory(g.params, c.params, 'params');
      expectTrajectory(g.finalLoss, c.finalLoss, 'final loss');
      // Training lowered each model's loss on the whole data set.
      for (const [m, model] of [a, b].entries())
        expect(g.finalLoss[m]).toBeLessThan((await cpu.run(model, data)).loss!);
    });
  }
});

await describeGpu('verify on LSTM and GRU model files', () => {
  it('`verify` passes for an LSTM and a GRU (exit 0, every check within tolerance, per-sequence)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-cells-'));
    for (const cell of ['lstm', 'gru'] as const) {
      const json = gatedModel(cell, 2, 2, 1, 'last', 500);
      const batch = randomBatch({
        count: 9,
        inputSize: 2,
        outputSize: 1,
        output: 'last',
        minLength: 1,
        maxLength: 5,
        seed: 501,
      });
      const inputs = Array.from({ length: batch.count }, (_, n) =>
        Array.from({ length: batch.lengths[n] }, (_, t) =>
          Array.from(batch.inputs.subarray((batch.offsets[n] + t) * 2, (batch.offsets[n] + t + 1) * 2)),
        ),
      );
      const modelPath = join(dir, `${cell}.json`);
      const dataPath = join(dir, `${cell}-data.json`);
      writeFileSync(modelPath, JSON.stringify(json));
      writeFileSync(
        dataPath,
        JSON.stringify({ inputs, targets: Array.from({ length: batch.count }, (_, n) => [batch.targets![n]]) }),
      );
      expect(maxLength(batch)).toBeGreaterThan(1);
      const r = await cli('verify', '--model', modelPath, '--data', dataPath, '--json');
      expect(r.code, r.stderr).toBe(0);
      const v = JSON.parse(r.stdout) as VerifyJson;
      expect(v.ok).toBe(true);
      expect(v.run!.strategy).toBe('per-sequence');
    }
  }, 120_000);
});
