// The gemm strategy for the gated cells (LSTM, GRU): forward and BPTT against the float64 CPU reference (cpuRun)
// within the documented tolerance (src/compare.ts gpuTolerance), with ragged lengths, both output modes, h0 and c0,
// truncation and several chunks; checkpointed runs bit-identical to stored-state runs, bit-identical repeats, and
// fused training (the gemm kernels with the parameter-parallel optimizer) against the CPU training path.

import { expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { CELLS, type CellName } from '../src/cells/index.ts';
import { Engine, type Result } from '../src/engine.ts';
import { NonFiniteError } from '../src/errors.ts';
import { type ModelJSON, type OutputMode } from '../src/model.ts';
import { train, type TrainOptions } from '../src/train/index.ts';
import { expectMatchesCpu } from './helpers/compare.ts';
import { describeGpu } from './helpers/gpu.ts';
import { Rng, randomData } from './helpers/random-cases.ts';
import { expectTrajectory } from './helpers/train.ts';

const cpu = await Engine.create({ backend: 'cpu' });

type Gated = Exclude<CellName, 'elman'>;

/** A random gated model: gate blocks of gates·H rows, moderate weights, optional h0 (and c0). */
function gatedJSON(
  rng: Rng,
  cell: Gated,
  I: number,
  H: number,
  O: number,
  output: OutputMode,
  initial: boolean,
): ModelJSON {
  const G = CELLS[cell].gates * H;
  const mat = (r: number, c: number, s: number): number[][] =>
    Array.from({ length: r }, () => Array.from({ length: c }, () => rng.uniform(-s, s)));
  const vec = (n: number, s: number): number[] => Array.from({ length: n }, () => rng.uniform(-s, s));
  const json: ModelJSON = {
    cell,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation: 'tanh',
    output,
    weights: {
      Wx: mat(G, I, 1),
      Wh: mat(G, H, 1.5 / Math.sqrt(H)),
      bx: vec(G, 0.5),
      bh: vec(G, 0.5),
      Wy: mat(O, H, 1),
      by: vec(O, 0.5),
    },
  };
  if (initial) {
    json.h0 = vec(H, 0.8);
    if (cell === 'lstm') json.c0 = vec(H, 0.8);
  }
  return json;
}

function gatedCase(
  cell: Gated,
  H: number,
  output: OutputMode,
  N: number,
  maxT: number,
  seed: number,
  initial = true,
): { json: ModelJSON; batch: Batch } {
  const rng = new Rng(seed);
  const json = gatedJSON(rng, cell, 2, H, 2, output, initial);
  const lengths = Array.from({ length: N }, () => 1 + Math.floor(rng.next() * maxT));
  const d = randomData(rng, json, lengths);
  return { json, batch: batchFromArrays(d.inputs, d.targets, output, 2) };
}

const flat = (r: Result): number[] => [r.loss ?? NaN, ...(r.gradsFlat ?? []), ...(r.outputs ?? [])];

/**
 * One small tile for every product: the shaders compile several times faster than with the adapters' tuned
 * register tiles (8×8 outputs per invocation take SwiftShader about 30 s for one gated shape; the tile code is
 * Elman's, which test/gpu-strategies.test.ts runs with them), and the products still span several tiles and
 * partial ones (H = 20: tiles of h columns only, and the tile with the bias column).
 */
const SMALL_TILE = { tx: 4, ty: 4, rm: 2, rn: 2, bk: 4 };

await describeGpu(
  'gemm strategy, gated cells',
  (gpu) => {
    it('forward and BPTT of LSTM and GRU match the CPU reference: ragged lengths, both output modes, h0 and c0', async () => {
      let seed = 1;
      for (const cell of ['lstm', 'gru'] as const) {
        // (H = 20 without outputs: the shapes fused training compiles too, so the file builds fewer pipelines.)
        for (const [H, output, N, maxT, outputs] of [
          [5, 'last', 37, 9, true],
          [20, 'all', 23, 7, false],
        ] as const) {
          const { json, batch } = gatedCase(cell, H, output, N, maxT, seed++);
          const r = await gpu().run(json, batch, { gradients: true, outputs, strategy: 'gemm' });
          expect(gpu().lastRunStats!.strategy).toBe('gemm');
          await expectMatchesCpu(r, json, batch);
          // A forward pass alone (its own plan: segments of FORWARD_SEGMENT steps, no stored states) gives the same
          // loss and outputs.
          const f = await gpu().run(json, batch, { outputs, strategy: 'gemm' });
          expect(f.loss).toBe(r.loss);
          if (outputs) expect(Array.from(f.outputs!)).toEqual(Array.from(r.outputs!));
        }
      }
    });

    it('truncated BPTT cuts the whole state (h and c) like the CPU reference', async () => {
      let seed = 20;
      for (const cell of ['lstm', 'gru'] as const) {
        const { json, batch } = gatedCase(cell, 20, 'all', 17, 11, seed++);
        const r = await gpu().run(json, batch, { gradients: true, truncation: 3, strategy: 'gemm' });
        await expectMatchesCpu(r, json, batch, { truncation: 3 });
        const full = await gpu().run(json, batch, { gradients: true, strategy: 'gemm' });
        expect(flat(full)).not.toEqual(flat(r));
      }
    });

    it('checkpointed runs equal stored-state runs bit for bit, repeated runs too; a budget that splits the batch into chunks still matches the CPU', async () => {
      let seed = 40;
      for (const cell of ['lstm', 'gru'] as const) {
        const { json, batch } = gatedCase(cell, 5, 'last', 64, 12, seed++);
        const stored = await gpu().run(json, batch, { gradients: true, outputs: true, strategy: 'gemm' });
        expect(gpu().lastRunStats!.checkpointEvery).toBe(12);
        const again = await gpu().run(json, batch, { gradients: true, outputs: true, strategy: 'gemm' });
        expect(flat(again)).toEqual(flat(stored));
        for (const [k, budget] of [
          [3, undefined],
          [1, undefined],
          [undefined, 60_000],
        ] as const) {
          const e = await Engine.create({
            backend: 'webgpu',
            gpu: { device: gpu().device!, gemmTile: SMALL_TILE, checkpointEvery: k, memoryBudget: budget },
          });
          try {
            const r = await e.run(json, batch, { gradients: true, outputs: true, strategy: 'gemm' });
            const s = e.lastRunStats!;
            if (k) {
              expect(s.checkpointEvery).toBe(k);
              expect(flat(r)).toEqual(flat(stored));
            } else {
              // The small budget splits the batch: chunks add their gradients in another order, so only close.
              expect(s.chunks).toBeGreaterThan(1);
              await expectMatchesCpu(r, json, batch);
            }
          } finally {
            e.dispose();
          }
        }
        await expectMatchesCpu(stored, json, batch);
      }
    });

    it('a gate pre-activation that overflows is a NonFiniteError naming the sequences (LSTM and GRU)', async () => {
      for (const cell of ['lstm', 'gru'] as const) {
        const json = gatedJSON(new Rng(90), cell, 2, 5, 2, 'last', false);
        // x = [1, 0]: Wx·x + bx = 6e38, beyond float32; x = [−1, 0]: 0.
        json.weights.Wx = json.weights.Wx.map(() => [3e38, 0]);
        json.weights.bx = json.weights.bx!.map(() => 3e38);
        const batch = batchFromArrays(
          [
            [
              [0, 0],
              [1, 0],
            ],
            [[-1, 0]],
          ],
          [
            [0, 0],
            [0, 0],
          ],
          'last',
          2,
        );
        await expect(gpu().run(json, batch, { strategy: 'gemm', gradients: false, outputs: true })).rejects.toThrow(
          /hidden state of 1 of 2 sequences/,
        );
        await expect(gpu().run(json, batch, { strategy: 'gemm', gradients: true, outputs: true })).rejects.toThrow(
          NonFiniteError,
        );
      }
    });

    it('auto runs gated cells beyond the per-sequence crossover on gemm', async () => {
      const { json, batch } = gatedCase('gru', 20, 'all', 9, 5, 60, false);
      const r = await gpu().run(json, batch, { gradients: true });
      expect(gpu().lastRunStats!.strategy).toBe('gemm');
      await expectMatchesCpu(r, json, batch);
    });

    it("tiles staged in workgroup memory (the GPUs' path) match the CPU too", async () => {
      // GRU: its input and recurrent sides' da differ, so WGRAD_X reads rows of its own.
      const c = gatedCase('gru', 5, 'last', 19, 6, 62);
      const staged = await Engine.create({
        backend: 'webgpu',
        gpu: { device: gpu().device!, gemmTile: { tx: 2, ty: 3, rm: 2, rn: 3, bk: 5 }, gemmShared: true },
      });
      try {
        await expectMatchesCpu(
          await staged.run(c.json, c.batch, { gradients: true, outputs: true, strategy: 'gemm' }),
          c.json,
          c.batch,
        );
      } finally {
        staged.dispose();
      }
    });

    it('fused training of an LSTM and a GRU follows the CPU trajectory (Adam with clipping; SGD on ragged mini-batches)', async () => {
      let seed = 70;
      for (const cell of ['lstm', 'gru'] as const) {
        const cases: [number, TrainOptions][] = [
          [10, { optimizer: { kind: 'adam', lr: 0.01 }, steps: 12, historyEvery: 1, clipNorm: 2, readbackEvery: 5 }],
          [
            13,
            { optimizer: { kind: 'sgd', lr: 0.005, momentum: 0.9 }, steps: 12, historyEvery: 1, batchSize: 5, seed: 3 },
          ],
        ];
        for (const [N, o] of cases) {
          const { json, batch } = gatedCase(cell, 20, 'all', N, 5, seed++);
          const a = await train(gpu(), json, batch, o);
          const b = await train(cpu, json, batch, o);
          expect(a.backend).toBe('webgpu');
          expect(a.steps).toBe(o.steps);
          expectTrajectory(
            a.history.map((h) => h.loss),
            b.history.map((h) => h.loss),
            `${cell} ${o.optimizer.kind} history`,
          );
          expectTrajectory(a.model.params, b.model.params, `${cell} ${o.optimizer.kind} params`);
          expect(a.history.at(-1)!.loss).toBeLessThan(a.history[0].loss);
        }
      }
    });
  },
  { gemmTile: SMALL_TILE },
);
