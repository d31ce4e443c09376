// The Train panel's playground in Chromium (test/helpers/browser.ts; WebGPU on SwiftShader, and the CPU fallback):
// Step and Play/Pause with plain SGD reach the same weights as one `train` call of as many steps in Node on the CPU
// reference; the predictions are the targets' count; Reset clears; the sine data with a validation split plots
// both losses; the seed network's walk goes forward and back stage by stage, and its per-day terms of dSSR/dw1
// add up to the engine's gradient. Screenshots at 1440 and 390 px go to test-artifacts/.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seedData, sineData, splitData } from '../src/data/index.ts';
import { modelToJSON } from '../src/model.ts';
import type { PlaygroundState } from '../src/page/panels/playground.ts';
import type { SeedResult } from '../src/page/panels/seed.ts';
import { randomModel } from '../src/random.ts';
import { randomPopulation, train, trainPopulation } from '../src/train/index.ts';
import type { PopulationPlaygroundState } from '../src/page/panels/population-playground.ts';
import { ARTIFACTS, describeBrowser, result, runs, sideways, useBrowserPage, waitRuns } from './helpers/browser.ts';

describeBrowser('the Train playground in Chromium', () => {
  const app = useBrowserPage();

  for (const withoutWebGpu of [false, true]) {
    it(`steps, plays, pauses and resets on ${withoutWebGpu ? 'the CPU fallback' : 'WebGPU'}, matching one train call in Node (plain SGD)`, async () => {
      const { page, errors } = await app.open({ withoutWebGpu });
      await page.locator('#tr-opt').selectOption('sgd');
      await page.locator('#tr-lr').fill('0.1');
      for (let k = 1; k <= 3; k++) {
        await page.locator('#pg-step').click();
        await waitRuns(page, 'playground', k);
      }
      let s = await result<PlaygroundState>(page, 'playground');
      expect(s.step).toBe(3);
      expect(s.backend).toBe(withoutWebGpu ? 'cpu' : 'webgpu');
      await page.locator('#pg-speed').selectOption('5');
      await page.locator('#pg-play').click();
      expect(await page.locator('#pg-play').getAttribute('aria-pressed')).toBe('true');
      await page.waitForFunction(() => (window.webgpuRnn!.results.playground as PlaygroundState).step >= 23, null, {
        timeout: 60_000,
      });
      await page.locator('#pg-play').click(); // Pause
      await expect.poll(() => page.locator('#pg-play').textContent()).toBe('Play');
      const n = await runs(page, 'playground');
      await page.waitForTimeout(300);
      expect(await runs(page, 'playground')).toBe(n); // paused: no more frames
      s = await result<PlaygroundState>(page, 'playground');
      expect((s.step - 3) % 5).toBe(0);
      expect(s.history.map((h) => h.step)).toEqual(Array.from({ length: s.step }, (_, k) => k));

      // One call of as many steps in Node, from the panel's initial weights (seed 1).
      const ref = await train(
        app.cpu,
        randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
        seedData(2).batch,
        {
          optimizer: { kind: 'sgd', lr: 0.1 },
          steps: s.step,
        },
      );
      const want = modelToJSON(ref.model).weights;
      const got = s.model.weights;
      const pairs: [number, number][] = [
        [got.Wx[0][0], want.Wx[0][0]],
        [got.bh[0], want.bh[0]],
        [got.Wh[0][0], want.Wh[0][0]],
        [got.Wy[0][0], want.Wy[0][0]],
        [got.by[0], want.by[0]],
      ];
      for (const [g, w] of pairs) expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w));
      // The predictions: both of the notes' sequences against their observed values.
      expect(s.target).toEqual([0, 1]);
      expect(s.predicted.length).toBe(2);
      expect(await page.locator('#pg-weights').textContent()).toContain('w2');
      if (!withoutWebGpu) {
        for (const [w, h] of [
          [1440, 900],
          [390, 844],
        ]) {
          await page.setViewportSize({ width: w, height: h });
          await page.waitForTimeout(300);
          expect(await sideways(page)).toBeLessThanOrEqual(0);
          await page.locator('#train .playground').screenshot({ path: join(ARTIFACTS, `page-playground-${w}.png`) });
        }
      }
      await page.locator('#pg-reset').click();
      expect(await page.locator('#pg-weights').textContent()).toBe('');
      await page.locator('#pg-step').click();
      await waitRuns(page, 'playground', n + 1);
      expect((await result<PlaygroundState>(page, 'playground')).step).toBe(1);
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('plots training and validation loss and held-out predictions for the sine data', async () => {
    const { page, errors } = await app.open();
    await page.locator('#tr-data').selectOption('sine');
    await page.locator('#tr-count').fill('64');
    await page.locator('#tr-val').fill('0.25');
    await page.locator('#pg-speed').selectOption('20');
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 1);
    await page.locator('#pg-play').click();
    await waitRuns(page, 'playground', 3, 60_000);
    await page.locator('#pg-play').click();
    await expect.poll(() => page.locator('#pg-play').textContent()).toBe('Play');
    const s = await result<PlaygroundState>(page, 'playground');
    expect(s.frames.every((f) => f.validation !== null && f.validation > 0 && f.train > 0)).toBe(true);
    // The held-out sequences are the validation split (16 of 64 sine windows, one target each), as in Node.
    const split = splitData(sineData({ count: 64, length: 16, seed: 1 }), { fraction: 0.25, mode: 'random', seed: 1 });
    expect(s.target).toEqual(Array.from(split.validation.targets!));
    expect(s.predicted.length).toBe(16);
    const series = await page.evaluate(() => window.webgpuRnn!.chartData('pg-loss')!.length);
    expect(series).toBe(3); // steps, training, validation
    await page.locator('#train .playground').screenshot({ path: join(ARTIFACTS, 'page-playground-sine.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("walks through the seed network forward and back, and the walk's terms add up to BPTT's dSSR/dw1", async () => {
    const { page, errors } = await app.open();
    for (const act of ['relu', 'tanh', 'identity']) {
      const before = Number(await page.evaluate(() => document.body.dataset.seedRuns));
      await page.locator('#seed-act').selectOption(act);
      await page.waitForFunction(
        ([n, a]) =>
          Number(document.body.dataset.seedRuns) > Number(n) &&
          (window.webgpuRnn!.results.seed as SeedResult).activation === a,
        [before, act] as const,
      );
      const r = await result<SeedResult>(page, 'seed');
      const sum = r.chainTerms.flat().reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - r.grads.w1), act).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(r.grads.w1)));
    }
    // Identity: the walk's terms are the notes' closed form, term by term: 2(predicted − observed)·w3·w2^k·x_(T−k).
    const r = await result<SeedResult>(page, 'seed');
    r.inputs.forEach((xs, n) => {
      const T = xs.length;
      xs.forEach((x, t) => {
        const k = T - 1 - t;
        const closed = 2 * (r.predicted[n] - r.observed[n]) * r.weights.w3 * r.weights.w2 ** k * x;
        expect(r.chainTerms[n][t]).toBeCloseTo(closed, 6);
      });
    });
    // Stage by stage on sequence 1 (2 days): forward ×2, the output, backward ×2.
    const texts: string[] = [];
    for (let k = 0; k < 5; k++) {
      await page.locator('#seed-walk-next').click();
      texts.push((await page.locator('#seed-walk').textContent()) ?? '');
      expect(await page.locator('#seed-net .lit').count()).toBeGreaterThan(0);
    }
    expect(texts[0]).toMatch(
      /^Stage 1 of 5\. Forward, day 1 of 2: h1 = w1·x1 \+ b1 \+ w2·h0 = 1\.8·1 \+ 0 \+ -0\.5·0 = 1\.8\./,
    );
    expect(texts[2]).toMatch(/Output: predicted = w3·h2 \+ b2/);
    expect(texts[4]).toMatch(/w2 appears 1 time: w2\^1 = -0\.5/);
    expect(texts[4]).toMatch(/= this sequence's dSSR\/dw1\.$/);
    await page.locator('#seed .net').screenshot({ path: join(ARTIFACTS, 'page-seed-walk.png') });
    await page.locator('#seed-walk-reset').click();
    expect(await page.locator('#seed-net .lit').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  for (const withoutWebGpu of [false, true]) {
    it(`steps and plays a population on ${withoutWebGpu ? 'the CPU fallback' : 'WebGPU'}, matching one trainPopulation call in Node (Adam: each frame resumes every model's optimizer state)`, async () => {
      const { page, errors } = await app.open({ withoutWebGpu });
      await page.locator('#pop-count').fill('40');
      await page.locator('#pop-opt').selectOption('adam');
      await page.locator('#pop-lr').fill('0.05');
      for (let k = 1; k <= 3; k++) {
        await page.locator('#pp-step').click();
        await waitRuns(page, 'populationPlayground', k);
      }
      const s = await result<PopulationPlaygroundState>(page, 'populationPlayground');
      expect(s.step).toBe(3);
      expect(s.backend).toBe(withoutWebGpu ? 'cpu' : 'webgpu');
      const base = randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 0);
      const ref = await trainPopulation(app.cpu, randomPopulation(base, 40, 1, 1), seedData(2).batch, {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 3,
        lossThreshold: 0.001,
      });
      expect(s.params.length).toBe(ref.params.length);
      s.params.forEach((v, i) =>
        expect(Math.abs(v - ref.params[i]), `param ${i}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(ref.params[i])),
      );
      await page.locator('#pp-speed').selectOption('10');
      await page.locator('#pp-play').click();
      await waitRuns(page, 'populationPlayground', 5, 60_000);
      await page.locator('#pp-play').click();
      await expect.poll(() => page.locator('#pp-play').textContent()).toBe('Play');
      const p = await result<PopulationPlaygroundState>(page, 'populationPlayground');
      expect(p.frames.length).toBeGreaterThanOrEqual(5);
      expect(p.losses.length).toBe(40);
      expect(p.frames.every((f) => f.reached >= 0 && f.reached <= 1)).toBe(true);
      // The median SSR of the finite losses: for an even count, the mean of the middle two.
      const finite = p.losses.filter(Number.isFinite).sort((a, b) => a - b);
      const mid = finite.length >> 1;
      const median = finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
      expect(p.frames[p.frames.length - 1].median).toBeCloseTo(median, 15);
      expect(await page.locator('#pp-hist canvas').count()).toBeGreaterThan(0);
      if (!withoutWebGpu)
        await page
          .locator('#population .playground')
          .screenshot({ path: join(ARTIFACTS, 'page-population-playground.png') });
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});
