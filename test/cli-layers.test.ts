// The CLI on stacked and bidirectional models and carried states (in process, CPU backend): `grad --json` gives
// the layered gradients of the library, the text report names every layer's blocks, `forward --states-out` and
// `--states-in` run a series in chunks with the outputs and final states of one run, and bad layered models and
// states files exit 2 naming the field.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nestStates } from '../src/batch.ts';
import { cpuRun } from '../src/cpu/reference.ts';
import { layerCount, unflattenParams } from '../src/model.ts';
import { cli, expectInputError, json } from './helpers/cli.ts';
import type { ForwardReport, GradReport } from './helpers/reports.ts';
import { layeredCase, type LayeredShape } from './helpers/layered-cases.ts';
import { Rng } from './helpers/random-cases.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-cli-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name: string): string => join(dir, `${fileNo++}-${name}`);
const write = (name: string, value: unknown): string => {
  const path = tmp(name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

const SHAPE: LayeredShape = {
  cell: 'lstm',
  inputSize: 2,
  hiddenSize: 3,
  outputSize: 2,
  output: 'all',
  numLayers: 2,
  bidirectional: true,
  h0: true,
};

describe('grad and forward on a stacked bidirectional model', () => {
  const c = layeredCase(new Rng(1), SHAPE, [4, 2, 3]);
  const model = write('model.json', c.json);
  const data = write('data.json', c.data);

  it('grad --json: grads.layers[k] and Wy, by equal to the library', async () => {
    const out = await json<GradReport>('grad', '--model', model, '--data', data, '--backend', 'cpu', '--outputs');
    const ref = cpuRun(c.model, c.batch, { gradients: true, outputs: true });
    expect(out.backend).toBe('cpu');
    expect(out.loss).toBe(ref.loss);
    expect(out.grads).toEqual(unflattenParams(c.model, ref.grads!));
    expect(Object.keys(out.grads as object)).toEqual(['layers', 'Wy', 'by']);
    expect((out.outputs as number[][][]).flat(2)).toEqual(Array.from(ref.outputs!));
    expect(out.run).toBeUndefined();
  });

  it('the text report names the stacking and every block of every layer', async () => {
    const r = await cli('grad', '--model', model, '--data', data, '--backend', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model     I=2 H=3 O=2, lstm, 2 layers, bidirectional, output "all"');
    expect(r.stdout).toContain('layers[0].Wx (12×2)');
    expect(r.stdout).toContain('layers[3].Wx (12×6)');
    expect(r.stdout).toContain('layers[3].bh (12)');
    expect(r.stdout).toContain('Wy (2×6)');
  });

  it('a block of the wrong shape exits 2 naming it', async () => {
    const bad = structuredClone(c.json);
    bad.weights.layers![3].Wx = bad.weights.layers![3].Wx.map((row) => row.slice(0, 3));
    const r = await cli('grad', '--model', write('bad.json', bad), '--data', data, '--backend', 'cpu');
    expectInputError(r, 'weights.layers[3].Wx: expected 12×6 (4H×D·H for lstm layer 1), got 12×3');
  });
});

describe('forward --states-in / --states-out', () => {
  for (const cell of ['elman', 'lstm', 'gru'] as const)
    for (const numLayers of [1, 2])
      it(`${cell}, numLayers ${numLayers}: two chunks carrying their states give one run's outputs and final states`, async () => {
        const c = layeredCase(new Rng(10 + numLayers), { ...SHAPE, cell, numLayers, bidirectional: false }, [6, 5]);
        const model = write('model.json', c.json);
        const cut = [2, 3];
        const part = (from: (n: number) => number, to: (n: number) => number): string =>
          write('part.json', {
            inputs: c.data.inputs.map((s, n) => s.slice(from(n), to(n))),
            targets: (c.data.targets as number[][][]).map((s, n) => s.slice(from(n), to(n))),
          });
        const whole = await json<ForwardReport>(
          'forward',
          '--model',
          model,
          '--data',
          write('d.json', c.data),
          '--backend',
          'cpu',
        );
        const s1 = tmp('s1.json');
        const a = await json<ForwardReport>(
          'forward',
          '--model',
          model,
          '--data',
          part(
            () => 0,
            (n) => cut[n],
          ),
          '--backend',
          'cpu',
          '--states-out',
          s1,
        );
        const s2 = tmp('s2.json');
        const b = await json<ForwardReport>(
          'forward',
          '--model',
          model,
          '--data',
          part(
            (n) => cut[n],
            (n) => c.data.inputs[n].length,
          ),
          '--backend',
          'cpu',
          '--states-in',
          s1,
          '--states-out',
          s2,
        );
        const joined = (a.outputs as number[][][]).map((s, n) => [...s, ...(b.outputs as number[][][])[n]]);
        expect(joined).toEqual(whole.outputs);
        const ref = cpuRun(c.model, c.batch, { finalStates: true });
        const K = layerCount(c.model);
        const states = JSON.parse(readFileSync(s2, 'utf8')) as { h: number[][][]; c?: number[][][] };
        expect(states.h).toEqual(nestStates(ref.finalStates!.h, K, 2, 3));
        if (cell === 'lstm') expect(states.c).toEqual(nestStates(ref.finalStates!.c!, K, 2, 3));
        else expect(states.c).toBeUndefined();
      });

  it('the text report says where the states came from and went', async () => {
    const c = layeredCase(new Rng(20), { ...SHAPE, bidirectional: false }, [3]);
    const model = write('model.json', c.json);
    const data = write('d.json', c.data);
    const out = tmp('s.json');
    const r = await cli('forward', '--model', model, '--data', data, '--backend', 'cpu', '--states-out', out);
    expect(r.code).toBe(0);
    const r2 = await cli('forward', '--model', model, '--data', data, '--backend', 'cpu', '--states-in', out);
    expect(r2.stdout).toContain(`states    initial from ${out}\n`);
    expect(r.stdout).toContain(`states    final written to ${out}\n`);
  });

  it('a bad states file or output name exits 2 naming the field', async () => {
    const c = layeredCase(new Rng(30), { ...SHAPE, bidirectional: false }, [3, 3]);
    const model = write('model.json', c.json);
    const data = write('d.json', c.data);
    const h = [0, 1].map(() => [0, 1].map(() => [0, 0, 0]));
    const states = write('s.json', { h, c: [h[0], [[0, 0, 0]]] });
    expectInputError(
      await cli('forward', '--model', model, '--data', data, '--backend', 'cpu', '--states-in', states),
      `${states}: c[1]: expected 2 entries (one per sequence of the data), got 1`,
    );
    expectInputError(
      await cli('forward', '--model', model, '--data', data, '--backend', 'cpu', '--states-in', write('s.json', { h })),
      'c: missing: the lstm cell carries h and c',
    );
    expectInputError(
      await cli('forward', '--model', model, '--data', data, '--backend', 'cpu', '--states-out', tmp('s.txt')),
      '--states-out: must end in .json',
    );
  });
});
