// The page's Model file panel in Chromium (src/page/panels/model-file.ts): a .safetensors file opened with the
// picker and an .onnx file dropped on the panel import as importModel does in Node; Verify agrees with the float64
// reference (on WebGPU for a one-layer GRU; a stacked bidirectional LSTM runs on the CPU and says why); the CSV run
// and further training give the numbers the same library gives here; Save .onnx and .safetensors download files that
// import back to the trained model (a screenshot of the panel goes to test-artifacts/).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cpuRun } from '../src/cpu/reference.ts';
import { csvData } from '../src/data/index.ts';
import { exportModel } from '../src/interop/export.ts';
import { importModel } from '../src/interop/import.ts';
import { modelFromJSON, modelToJSON, type ModelJSON } from '../src/model.ts';
import type { ModelFileResult } from '../src/page/panels/model-file.ts';
import { train } from '../src/train/index.ts';
import { parseModel } from '../src/validate.ts';
import { ARTIFACTS, describeBrowser, result, useBrowserPage, waitRuns } from './helpers/browser.ts';
import { randomLayeredModelJSON } from './helpers/layered-cases.ts';
import { Rng } from './helpers/random-cases.ts';

const rng = new Rng(99);
const canonical = (j: ModelJSON): ModelJSON => modelToJSON(modelFromJSON(parseModel(j)));
const f32 = (j: ModelJSON): ModelJSON => {
  const m = modelFromJSON(j);
  m.params = m.params.map(Math.fround);
  return modelToJSON(m);
};
const series = Array.from({ length: 40 }, (_, t) => Math.sin(t / 3) + 0.1 * Math.cos(t));
const CSV = `v\n${series.join('\n')}\n`;

describeBrowser('the Model file panel in Chromium', () => {
  const app = useBrowserPage();

  it('CPU: opens a stacked bidirectional LSTM from .safetensors, verifies, runs and trains it on a CSV, saves it', async () => {
    const { page, errors } = await app.open({ withoutWebGpu: true });
    const json = f32(
      canonical(
        randomLayeredModelJSON(rng, {
          cell: 'lstm',
          numLayers: 2,
          bidirectional: true,
          inputSize: 1,
          hiddenSize: 3,
          outputSize: 1,
          output: 'last',
        }),
      ),
    );
    await page.locator('#mf-file').setInputFiles({
      name: 'lstm.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(exportModel(json, 'safetensors').bytes),
    });
    await waitRuns(page, 'modelFile', 1);
    const opened = await result<ModelFileResult>(page, 'modelFile');
    expect(opened).toMatchObject({ action: 'open', format: 'safetensors', notes: [] });
    expect(opened.model).toEqual(json);
    expect(await page.locator('#mf-summary').textContent()).toBe(
      'LSTM, 2 layers, bidirectional; I 1, H 3, O 1; activation tanh, output last',
    );

    await page.locator('#mf-verify').click();
    await waitRuns(page, 'modelFile', 2);
    expect(await result<ModelFileResult>(page, 'modelFile')).toMatchObject({
      action: 'verify',
      ok: true,
      backend: 'cpu',
    });

    await page.locator('#mf-csv').fill(CSV);
    await page.locator('#mf-window').fill('6');
    await page.locator('#mf-csv-run').click();
    await waitRuns(page, 'modelFile', 3);
    const ran = await result<ModelFileResult>(page, 'modelFile');
    const batch = csvData(CSV, { window: 6 }).batch;
    const expected = cpuRun(modelFromJSON(json), batch, { gradients: false }).loss!;
    expect(Math.abs(ran.loss! - expected)).toBeLessThanOrEqual(1e-12 * expected);

    await page.locator('#mf-steps').fill('15');
    await page.locator('#mf-lr').fill('0.02');
    await page.locator('#mf-train').click();
    await waitRuns(page, 'modelFile', 4);
    const trained = await result<ModelFileResult>(page, 'modelFile');
    const ref = await train(app.cpu, json, batch, { optimizer: { kind: 'adam', lr: 0.02 }, steps: 15 });
    expect(trained.initialLoss).toBeCloseTo(expected, 12);
    expect(Math.abs(trained.loss! - ref.finalLoss)).toBeLessThanOrEqual(1e-9 * ref.finalLoss);
    expect(trained.loss!).toBeLessThan(expected);
    // The same weights (Chromium's and Node's Math.tanh and Math.exp may differ in the last bit).
    expect({ ...trained.model, weights: null }).toEqual({ ...modelToJSON(ref.model), weights: null });
    const [ours, theirs] = [modelFromJSON(trained.model).params, ref.model.params];
    expect(ours.length).toBe(theirs.length);
    ours.forEach((v, k) =>
      expect(Math.abs(v - theirs[k]), `param ${k}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v))),
    );

    for (const format of ['onnx', 'safetensors'] as const) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator(`[data-save="${format}"]`).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`lstm.${format}`);
      const back = importModel(readFileSync(await download.path()), { format });
      expect(back.model).toEqual(f32(trained.model));
    }
    await page.locator('#model-file').screenshot({ path: join(ARTIFACTS, 'page-model-file-1440-cpu.png') });
    expect(errors).toEqual([]);
  }, 240_000);

  it('WebGPU: a one-layer GRU dropped as .onnx verifies on WebGPU against the CPU reference', async () => {
    const { page, errors } = await app.open();
    const json = f32(
      canonical(
        randomLayeredModelJSON(rng, {
          cell: 'gru',
          numLayers: 1,
          bidirectional: false,
          inputSize: 2,
          hiddenSize: 4,
          outputSize: 2,
          output: 'all',
        }),
      ),
    );
    const bytes = Array.from(exportModel(json, 'onnx').bytes);
    await page.evaluate((b) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], 'gru.onnx'));
      document.getElementById('model-file')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
    }, bytes);
    await waitRuns(page, 'modelFile', 1);
    const opened = await result<ModelFileResult>(page, 'modelFile');
    expect(opened).toMatchObject({ action: 'open', format: 'onnx' });
    expect(opened.model).toEqual(json);
    await page.locator('#mf-verify').click();
    await waitRuns(page, 'modelFile', 2);
    const v = await result<ModelFileResult>(page, 'modelFile');
    expect(v).toMatchObject({ action: 'verify', ok: true });
    expect(v.backend).toBe(await page.evaluate(() => window.webgpuRnn!.session.engine.backend));
    expect(v.backend).toBe('webgpu');
    expect(errors).toEqual([]);
  }, 240_000);
});
