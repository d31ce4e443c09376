// The page's Layers field and Direction switch in Chromium on WebGPU (SwiftShader): a stacked or bidirectional model
// in Train, Population and the loss landscape runs on WebGPU (the per-sequence strategy's layered kernels) and gives
// the numbers the library gives here in Node on the CPU within the GPU's float32 tolerance; one beyond those
// kernels' sizes (an LSTM with H = 9) trains on WebGPU through the gemm strategy, as does its playground, with no
// CPU note, and gives the library's numbers within the same tolerance; a bad Layers value is a one-line error naming
// the field.

import { expect, it } from 'vitest';
import { seedData, sineData } from '../src/data/index.ts';
import { paramName, type Model } from '../src/model.ts';
import type { LandscapeView } from '../src/page/panels/landscape.ts';
import type { PopulationResult } from '../src/page/panels/population.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import { initialWeights } from '../src/train/init.ts';
import { lossLandscape, randomPopulation, train, trainPopulation, zeroModel } from '../src/train/index.ts';
import { describeBrowser, result, useBrowserPage, waitRuns } from './helpers/browser.ts';

const close = (a: number, b: number, rel: number): boolean =>
  Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/** A 1-H-1 model of that stacking (Elman unless `cell` says) with every weight uniform in ±scale (the CLI's --layers draws). */
function stacked(
  H: number,
  act: 'relu' | 'tanh',
  output: 'last' | 'all',
  L: number,
  bi: boolean,
  seed: number,
  scale: number,
  cell: 'elman' | 'lstm' = 'elman',
): Model {
  const base = zeroModel(
    cell,
    {
      inputSize: 1,
      hiddenSize: H,
      outputSize: 1,
      output,
      ...(L > 1 ? { numLayers: L } : {}),
      ...(bi ? { bidirectional: true } : {}),
    },
    act,
  );
  return initialWeights(base, seed, scale);
}

describeBrowser('the page with stacked and bidirectional models in Chromium', () => {
  const app = useBrowserPage();

  it('WebGPU: Train, Population and the landscape run 2–3 layer and bidirectional models there; a larger one, and its playground, on WebGPU through gemm', async () => {
    const { page, errors } = await app.open();
    expect(await page.locator('#backend-line').getAttribute('data-backend')).toBe('webgpu');

    // A bad value: one line naming the field, nothing run.
    await page.locator('#tr-layers').fill('9');
    await page.locator('#tr-run').click();
    await expect.poll(() => page.locator('#tr-status').textContent()).toMatch(/^Not run: Layers: .*9.*1 to 8/);
    expect(await page.locator('#tr-layers').getAttribute('aria-invalid')).toBe('true');

    // Train: the sine, 2 layers, bidirectional, 40 steps of Adam.
    await page.locator('#tr-data').selectOption('sine');
    await page.locator('#tr-count').fill('32');
    await page.locator('#tr-layers').fill('2');
    await page.locator('#tr-dir').selectOption('bi');
    await page.locator('#tr-hidden').fill('3');
    await page.locator('#tr-steps').fill('40');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    expect(r.backend).toBe('webgpu');
    expect(r.fallbackReason ?? null).toBeNull();
    expect(r.model.numLayers).toBe(2);
    expect(r.model.bidirectional).toBe(true);
    const note = page.locator('#tr-cpu-note');
    expect(await note.isVisible()).toBe(false);
    expect(await page.locator('#tr-table').textContent()).toContain('H 3, O 1, 2 layers, bidirectional');
    const set = sineData({ count: 32, length: 16, seed: 1 });
    const init = stacked(3, 'tanh', set.suggest.output, 2, true, 1, 0.5);
    const ref = await train(app.cpu, init, set.batch, { optimizer: { kind: 'adam', lr: 0.01 }, steps: 40 });
    // float32 on the GPU against the float64 reference, over 40 steps of Adam.
    expect(close(r.finalLoss, ref.finalLoss, 1e-3)).toBe(true);
    expect(r.finalLoss).toBeLessThan(r.initialLoss);

    // An LSTM with H = 9 is past the per-sequence layered kernels' limit (8): it trains on WebGPU through gemm.
    await page.locator('#tr-cell').selectOption('lstm');
    await page.locator('#tr-hidden').fill('9');
    await page.locator('#tr-steps').fill('10');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 2);
    const big = await result<TrainResult>(page, 'train');
    expect(big.backend).toBe('webgpu');
    expect(big.fallbackReason ?? null).toBeNull();
    expect(await note.isVisible()).toBe(false);
    const bigRef = await train(app.cpu, stacked(9, 'tanh', set.suggest.output, 2, true, 1, 0.5, 'lstm'), set.batch, {
      optimizer: { kind: 'adam', lr: 0.01 },
      steps: 10,
    });
    // float32 on the GPU against the float64 reference, over 10 steps of Adam.
    expect(close(big.finalLoss, bigRef.finalLoss, 1e-3)).toBe(true);

    // The playground steps the same model: its weights table has a row per layer and direction.
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 1);
    const blocks = await page.locator('#pg-weights tbody tr th, #pg-weights tbody tr td:first-child').allTextContents();
    expect(blocks.join(' ')).toContain('Wh l1_reverse');
    expect(await page.locator('#pg-status').textContent()).toMatch(/^Step 1 on WebGPU \(adam, learning rate 0\.01\): /);

    // Population: 3 layers, one direction, 12 models × 25 steps.
    await page.locator('#pop-count').fill('12');
    await page.locator('#pop-steps').fill('25');
    await page.locator('#pop-layers').fill('3');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    const pop = await result<PopulationResult>(page, 'population');
    expect(pop.backend).toBe('webgpu');
    expect(pop.fallbackReason ?? null).toBeNull();
    const base = stacked(1, 'relu', 'last', 3, false, 0, 0.5);
    expect(pop.paramCount).toBe(base.params.length);
    const lib = await trainPopulation(app.cpu, randomPopulation(base, 12, 1, 1), seedData(2).batch, {
      optimizer: { kind: 'adam', lr: 0.05 },
      steps: 25,
      lossThreshold: 0.001,
    });
    // float32 against float64; a model that stopped at the 0.001 threshold may stop a step apart.
    pop.finalLoss.forEach((v, k) =>
      expect(close(v, lib.finalLoss[k], 1e-2) || (v <= 0.0011 && lib.finalLoss[k] <= 0.0011)).toBe(true),
    );
    expect(await page.locator('#pop-cpu-note').isVisible()).toBe(false);

    // The landscape: one layer, bidirectional, an 8 × 8 grid of w1 and w2 without the path.
    await page.locator('#ls-dir').selectOption('bi');
    await page.locator('#ls-grid').fill('8');
    await page.locator('#ls-path').uncheck();
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    const ls = await result<LandscapeView>(page, 'landscape');
    expect(ls.backend).toBe('webgpu');
    expect(ls.bidirectional).toBe(true);
    expect(ls.fallbackReason ?? null).toBeNull();
    expect(ls.xName).toBe('layers[0].Wx[0][0]');
    expect(ls.yName).toBe('layers[0].Wh[0][0]');
    // The notes' weights in the first layer's forward unit and the readout's first weight, the rest as drawn.
    const m = stacked(1, 'relu', 'last', 1, true, 0, 0.5);
    const at = (name: string): number =>
      Array.from({ length: m.params.length }, (_, p) => paramName(m, p)).indexOf(name);
    const notes = {
      'layers[0].Wx[0][0]': 1.8,
      'layers[0].bh[0]': 0,
      'layers[0].Wh[0][0]': -0.5,
      'Wy[0][0]': 1.1,
      'by[0]': 0,
    };
    for (const [k, v] of Object.entries(notes)) m.params[at(k)] = v;
    const min = Number(await page.locator('#ls-xmin').inputValue());
    const max = Number(await page.locator('#ls-xmax').inputValue());
    const ymin = Number(await page.locator('#ls-ymin').inputValue());
    const ymax = Number(await page.locator('#ls-ymax').inputValue());
    const want = await lossLandscape(
      app.cpu,
      m,
      seedData(2).batch,
      { param: 'layers[0].Wx[0][0]', min, max, steps: 8 },
      { param: 'layers[0].Wh[0][0]', min: ymin, max: ymax, steps: 8 },
    );
    ls.losses.forEach((v, k) =>
      expect(close(v, want.losses[k], 1e-4) || Math.abs(v - want.losses[k]) < 1e-6).toBe(true),
    );
    // Not flat: the reverse direction and the stacked readout still leave a landscape over the notes' weights.
    expect(Math.max(...ls.losses) / Math.min(...ls.losses)).toBeGreaterThan(10);
    expect(await page.locator('#ls-cpu-note').isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
