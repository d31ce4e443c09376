// The CPU trainer keeps its loss history in float64: a finite loss above float32's range (3.4e38) is reported as
// that number (not Infinity, `null` in JSON), with `diverged: false`, and the SVG draws its curve; the population
// curves are float64 too.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import { Engine } from '../src/engine.ts';
import { modelFromJSON, preset } from '../src/model.ts';
import { train, trainPopulation } from '../src/train/index.ts';
import { allElements, parseXml } from './helpers/xml.ts';
import { cli } from './helpers/cli.ts';
import { tempFiles } from './helpers/files.ts';

const { tmp } = tempFiles('webgpu-rnn-history64-');
const SUNSPOTS = new URL('../data/sunspots.csv', import.meta.url).pathname;
const F32_MAX = 3.4028234663852886e38;

interface Report {
  history: { step: number; loss: number | null }[];
  diverged: boolean;
  finalLoss: number;
  initialLoss: number | null;
}

describe('losses above float32 range on the CPU', () => {
  it('train --scale 1e30 --json: every history loss is the finite float64 value, and the SVG has the curve', async () => {
    const svg = tmp('curve.svg');
    const r = await cli(
      'train',
      '--backend',
      'cpu',
      '--data',
      SUNSPOTS,
      '--scale',
      '1e30',
      '--steps',
      '5',
      '--json',
      '--svg',
      svg,
    );
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.diverged).toBe(false);
    expect(rep.history.length).toBe(5);
    for (const h of rep.history) {
      expect(h.loss).not.toBeNull();
      expect(h.loss!).toBeGreaterThan(F32_MAX);
      expect(Number.isFinite(h.loss)).toBe(true);
    }
    expect(rep.initialLoss).toBe(rep.history[0].loss);
    const paths = allElements(parseXml(readFileSync(svg, 'utf8'))).filter((e) => e.attrs.class === 'series');
    expect(paths.length).toBe(1);
    expect(paths[0].attrs.d).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){4}$/);
  });

  it('variant: the library, one model and a population, keeps the float64 loss exactly', async () => {
    const engine = await Engine.create({ backend: 'cpu' });
    const m = modelFromJSON(preset('statquest'));
    const big = { ...m, params: Float64Array.from(m.params, (p) => p * 1e20) };
    const expected = (await engine.run(big, seedData().batch, { gradients: false })).loss!;
    expect(expected).toBeGreaterThan(F32_MAX);
    const opts = { optimizer: { kind: 'sgd' as const, lr: 1e-300, momentum: 0 }, steps: 3, historyEvery: 1 };
    const one = await train(engine, big, seedData().batch, opts);
    expect(one.history[0].loss).toBe(expected);
    expect(one.diverged).toBe(false);
    const pop = await trainPopulation(engine, [big, big], seedData().batch, { ...opts, curveEvery: 1 });
    expect(pop.curves).toBeInstanceOf(Float64Array);
    expect(pop.curves[0]).toBe(expected);
    expect(pop.curves[pop.curveSteps.length]).toBe(expected);
    engine.dispose();
  });
});
