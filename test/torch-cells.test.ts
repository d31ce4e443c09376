// PyTorch as an independent implementation: nn.LSTM, nn.GRU and nn.RNN in float64 (test/torch/cells.py) run the
// same weights, moved with no reshape at all (Wx = weight_ih_l0, Wh = weight_hh_l0, bx = bias_ih_l0,
// bh = bias_hh_l0), and must agree with the CPU reference's loss, predictions and every gradient. Needs python3 with
// torch (Debian's python3-torch, which scripts/setup.sh installs); without it the file says why and is skipped,
// except under CI=true, where a missing torch is a failure.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import type { CellName } from '../src/cells/index.ts';
import { compareArrays, describeComparison } from '../src/compare.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { modelFromJSON, paramName, type ModelJSON, type OutputMode } from '../src/model.ts';
import { Rng, randomData, randomModelJSON } from './helpers/random-cases.ts';

const SCRIPT = new URL('./torch/cells.py', import.meta.url).pathname;

function python(): string | null {
  for (const p of [process.env.WEBGPU_RNN_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!p || (p.startsWith('/') && !existsSync(p))) continue;
    const r = spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return null;
}

const PY = python();
if (!PY && process.env.CI === 'true')
  throw new Error('python3 with torch is missing (scripts/setup.sh installs python3-torch)');
if (!PY) console.warn('torch-cells: python3 with torch not found; skipping the PyTorch cross-check');

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
      const check = (
        what: string,
        a: ArrayLike<number>,
        b: ArrayLike<number>,
        nameOf?: (k: number) => string,
      ): void => {
        const cmp = compareArrays(a, b, tol);
        expect(cmp.ok, describeComparison(what, cmp, a, b, tol, nameOf)).toBe(true);
      };
      check('loss', [ours.loss!], [theirs.loss]);
      check('outputs', ours.outputs!, theirs.outputs);
      check('gradients', ours.grads!, theirs.grads, (k) => paramName(model, k));
    }, 60_000);
  }
});
