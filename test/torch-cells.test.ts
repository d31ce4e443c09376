// PyTorch as an independent implementation: nn.LSTM, nn.GRU and nn.RNN in float64 (test/torch/cells.py) run the
// same weights, moved with no reshape at all (Wx = weight_ih_l0, Wh = weight_hh_l0, bx = bias_ih_l0,
// bh = bias_hh_l0), and must agree with the CPU reference's loss, predictions and every gradient. Needs python3 with
// torch (Debian's python3-torch, which scripts/setup.sh installs); without it the file says why and is skipped,
// except under CI=true, where a missing torch is a failure. Stacked and bidirectional models (num_layers 1–3,
// bidirectional, weights.layers in PyTorch's order) run as one packed batch (pack_padded_sequence, ragged lengths)
// in one python process for all cases, and must also agree on h_n and c_n (our final states), from the model's h0
// and from per-sequence initial states.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchFromArrays, type RnnStates } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { layerCount, modelFromJSON, paramName, type ModelJSON, type OutputMode } from '../src/model.ts';
import { expectClose } from './helpers/compare.ts';
import { torchPython } from './helpers/torch.ts';
import { layeredCase } from './helpers/layered-cases.ts';
import { Rng, randomData, randomModelJSON } from './helpers/random-cases.ts';

const SCRIPT = new URL('./torch/cells.py', import.meta.url).pathname;

const PY = torchPython('torch-cells', 'the PyTorch cross-check');

function torchRun(
  model: ModelJSON,
  inputs: number[][][],
  targets: unknown,
): { loss: number; outputs: number[]; grads: number[] } {
  const r = spawnSync(PY!, [SCRIPT], {
    input: JSON.stringify({ model, inputs, targets }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`torch failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { loss: number; outputs: number[]; grads: number[] };
}

const CASES: { cell: CellName; output: OutputMode; activation: 'tanh' | 'relu' }[] = [
  { cell: 'lstm', output: 'last', activation: 'tanh' },
  { cell: 'lstm', output: 'all', activation: 'tanh' },
  { cell: 'gru', output: 'last', activation: 'tanh' },
  { cell: 'gru', output: 'all', activation: 'tanh' },
  { cell: 'elman', output: 'all', activation: 'tanh' },
];

describe.skipIf(!PY)('PyTorch (float64) agrees with the CPU reference', () => {
  for (const c of CASES) {
    it(`${c.cell}, output ${c.output}: loss, predictions and dSSR/dθ for every parameter`, () => {
      const rng = new Rng(101 + c.cell.length + c.output.length);
      const json = randomModelJSON(rng, {
        inputSize: 3,
        hiddenSize: 4,
        outputSize: 2,
        activation: c.activation,
        output: c.output,
        cell: c.cell,
        h0: true,
      });
      const data = randomData(rng, json, [5, 2, 8]);
      const model = modelFromJSON(json);
      const ours = cpuRun(model, batchFromArrays(data.inputs, data.targets, c.output), {
        gradients: true,
        outputs: true,
      });
      const theirs = torchRun(json, data.inputs, data.targets);
      const tol = { atol: 1e-12, rtol: 1e-10 };
      const check = (what: string, a: ArrayLike<number>, b: ArrayLike<number>, nameOf?: (k: number) => string) =>
        expectClose(what, a, b, tol, nameOf);
      check('loss', [ours.loss!], [theirs.loss]);
      check('outputs', ours.outputs!, theirs.outputs);
      check('gradients', ours.grads!, theirs.grads, (k) => paramName(model, k));
    }, 60_000);
  }
});

interface TorchLayered {
  loss: number;
  outputs: number[];
  grads: number[];
  h_n: number[];
  c_n?: number[];
  biasGradsAgree: boolean;
}

const LAYERED: [number, boolean][] = [
  [1, false],
  [1, true],
  [2, false],
  [2, true],
  [3, false],
  [3, true],
];

describe.skipIf(!PY)('PyTorch (float64) agrees with the CPU reference on stacked and bidirectional networks', () => {
  const rng = new Rng(707);
  const H = 4;
  const lengths = [5, 2, 8, 1];
  interface LayeredTorchCase {
    cell: CellName;
    numLayers: number;
    bidirectional: boolean;
    output: OutputMode;
    /** Per-sequence initial states in the batch (in place of the model's h0, c0). */
    states: boolean;
  }
  const cases = (['elman', 'lstm', 'gru'] as CellName[]).flatMap((cell): LayeredTorchCase[] => [
    ...LAYERED.flatMap(([numLayers, bidirectional]) =>
      (['last', 'all'] as OutputMode[]).map((output) => ({ cell, numLayers, bidirectional, output, states: false })),
    ),
    { cell, numLayers: 2, bidirectional: true, output: 'all', states: true },
  ]);
  const made = cases.map((c) => {
    const shape = { ...c, inputSize: 3, hiddenSize: H, outputSize: 2, h0: true, bx: c.cell === 'elman' };
    const lc = layeredCase(rng, shape, lengths);
    let states: RnnStates | undefined;
    let nested: { h: number[][][]; c?: number[][][] } | undefined;
    if (c.states) {
      const K = layerCount(lc.model);
      const N = lengths.length;
      const draw = (): number[][][] =>
        Array.from({ length: K }, () =>
          Array.from({ length: N }, () => Array.from({ length: H }, () => rng.uniform(-1, 1))),
        );
      nested = { h: draw(), ...(c.cell === 'lstm' ? { c: draw() } : {}) };
      states = {
        h: Float64Array.from(nested.h.flat(2)),
        ...(nested.c ? { c: Float64Array.from(nested.c.flat(2)) } : {}),
      };
      lc.batch.initialStates = states;
    }
    return { c, lc, nested };
  });
  // One python process for every case, started by the first test that needs it.
  let results: TorchLayered[] | null = null;
  const torchResults = (): TorchLayered[] => {
    if (results) return results;
    const r = spawnSync(PY!, [SCRIPT], {
      input: JSON.stringify({
        cases: made.map(({ lc, nested }) => ({
          model: lc.json,
          inputs: lc.data.inputs,
          targets: lc.data.targets,
          ...(nested ? { states: nested } : {}),
        })),
      }),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`torch failed: ${r.stderr}`);
    results = (JSON.parse(r.stdout) as { results: TorchLayered[] }).results;
    expect(results.length).toBe(made.length);
    return results;
  };

  made.forEach(({ c, lc }, i) => {
    const name = `${c.cell}, numLayers ${c.numLayers}${c.bidirectional ? ', bidirectional' : ''}, output ${c.output}${c.states ? ', per-sequence initial states' : ''}`;
    it(`${name}: loss, predictions, every gradient, h_n${c.cell === 'lstm' ? ' and c_n' : ''}`, () => {
      const theirs = torchResults()[i];
      const ours = cpuRun(lc.model, lc.batch, { gradients: true, outputs: true, finalStates: true });
      const tol = { atol: 1e-12, rtol: 1e-10 };
      const check = (what: string, a: ArrayLike<number>, b: ArrayLike<number>, nameOf?: (k: number) => string) =>
        expectClose(what, a, b, tol, nameOf);
      check('loss', [ours.loss!], [theirs.loss]);
      check('outputs', ours.outputs!, theirs.outputs);
      check('gradients', ours.grads!, theirs.grads, (k) => paramName(lc.model, k));
      check('h_n', ours.finalStates!.h, theirs.h_n);
      if (c.cell === 'lstm') check('c_n', ours.finalStates!.c!, theirs.c_n!);
      expect(theirs.biasGradsAgree).toBe(true);
    }, 120_000);
  });
});
