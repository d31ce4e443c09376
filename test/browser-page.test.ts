// The experiments page in a real browser (test/helpers/browser.ts: Vite build, local server, Debian's Chromium with
// WebGPU on SwiftShader): the backend header, the seed, verify and throughput panels on WebGPU, checks the seed
// panel against the CPU reference computed here in Node with the same library, shows inline errors for bad input,
// recovers from a lost device on the CPU, and computes with navigator.gpu removed. One browser for the file;
// screenshots of each panel go to test-artifacts/ (ignored by git).

import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { batchFromArrays } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import {
  closedFormDssrDw1,
  scalarModel,
  statquestReport,
  type ScalarWeights,
  type StatquestReport,
} from '../src/statquest.ts';
import type { SeedResult } from '../src/page/panels/seed.ts';
import type { ThroughputResult } from '../src/page/panels/throughput.ts';
import type { VerifyReport } from '../src/verify.ts';
import { ARTIFACTS, describeBrowser, result, runs, useBrowserPage, waitRuns } from './helpers/browser.ts';

/** The seed panel's numbers for weights `w`, computed in Node on the CPU reference. */
async function cpuSeed(cpu: Engine, w: ScalarWeights, inputs: number[][], observed: number[]) {
  const steps = inputs.map((s) => s.map((v) => [v]));
  const targets = observed.map((v) => [v]);
  const run = await cpu.run(scalarModel(w, 'relu'), batchFromArrays(steps, targets, 'last'), {
    outputs: true,
    gradients: true,
  });
  const hid = await cpu.run(
    scalarModel({ ...w, w3: 1, b2: 0 }, 'relu', 'all'),
    batchFromArrays(steps, null, 'all', 1),
    { outputs: true },
  );
  const g = run.grads!;
  return {
    predicted: Array.from(run.outputs!),
    hidden: Array.from(hid.outputs!),
    ssr: run.loss!,
    grads: { w1: g.Wx[0][0], b1: g.bh[0], w2: g.Wh[0][0], w3: g.Wy[0][0], b2: g.by[0] },
    closedForm: closedFormDssrDw1({ inputs, observed }, w),
  };
}

describeBrowser('the experiments page in Chromium: seed, verify, throughput, fallbacks', () => {
  const app = useBrowserPage();
  let cpuReport: StatquestReport;

  beforeAll(async () => {
    cpuReport = await statquestReport(app.cpu);
  });

  const openPage = (withoutWebGpu: boolean) => app.open({ withoutWebGpu });

  function expectSeedNumbers(r: SeedResult, ref: Awaited<ReturnType<typeof cpuSeed>>, digits: number): void {
    r.predicted.forEach((p, k) => expect(p).toBeCloseTo(ref.predicted[k], digits));
    r.hidden.flat().forEach((h, k) => expect(h).toBeCloseTo(ref.hidden[k], digits));
    expect(r.ssr).toBeCloseTo(ref.ssr, digits);
    for (const key of ['w1', 'b1', 'w2', 'w3', 'b2'] as const)
      expect(r.grads[key], key).toBeCloseTo(ref.grads[key], digits);
    expect(r.closedForm).toBeCloseTo(ref.closedForm, 12);
  }

  it('reports WebGPU on SwiftShader and runs the seed panel with the CPU reference numbers; edits recompute; bad input is refused', async () => {
    const { page, errors } = await openPage(false);
    expect(await page.locator('#backend-line').textContent()).toMatch(/^Backend: WebGPU — .*swiftshader/i);
    expect(await page.locator('#fallback').isHidden()).toBe(true);

    // The notes' numbers.
    let r = await result<SeedResult>(page, 'seed');
    expect(r.backend).toBe('webgpu');
    expect(r.predicted[0]).toBe(0);
    r.predicted.forEach((p, k) => expect(p).toBeCloseTo(cpuReport.forward[k].predicted, 6));
    expect(r.ssr).toBeCloseTo(cpuReport.ssr.ssr, 9);
    for (const k of Object.keys(cpuReport.ssr.grads) as (keyof ScalarWeights)[])
      expect(r.grads[k], k).toBeCloseTo(cpuReport.ssr.grads[k], 6);
    expect(await page.locator('#seed-forward').textContent()).toContain('0.99');

    // Move w1 and edit a sequence: the page recomputes, and matches the reference computed here.
    const before = await runs(page, 'seed');
    await page.locator('#seed-w1').fill('1.2');
    await page.locator('#seed-days-0').fill('1, 0.25, 0.5');
    await page.waitForFunction(
      (n) =>
        Number(document.body.dataset.seedRuns) > n &&
        (window.webgpuRnn!.results.seed as SeedResult).inputs[0].length === 3 &&
        (window.webgpuRnn!.results.seed as SeedResult).weights.w1 === 1.2,
      before,
    );
    r = await result<SeedResult>(page, 'seed');
    const w = { w1: 1.2, b1: 0, w2: -0.5, w3: 1.1, b2: 0 };
    expect(r.weights).toEqual(w);
    expectSeedNumbers(
      r,
      await cpuSeed(
        app.cpu,
        w,
        [
          [1, 0.25, 0.5],
          [0, 0.5],
        ],
        [0, 1],
      ),
      5,
    );
    expect(await page.locator('#seed-closed').textContent()).toContain('closed form');
    await page.locator('#seed').screenshot({ path: join(ARTIFACTS, 'panel-seed.png') });

    // Bad input: an inline message names the field, and nothing runs.
    const count = await runs(page, 'seed');
    await page.locator('#seed-days-1').fill('0, abc');
    await expect
      .poll(() => page.locator('#seed-status').textContent())
      .toMatch(/Sequence 2, day 2: "abc" is not a number/);
    expect(await page.locator('#seed-days-1').getAttribute('aria-invalid')).toBe('true');
    await page.locator('#seed-w2').fill('500');
    await page.locator('#seed-days-1').fill('0, 0.5');
    await expect.poll(() => page.locator('#seed-status').textContent()).toMatch(/w2.*500 is out of range/);
    expect(await runs(page, 'seed')).toBe(count);
    await page.locator('#seed-status').screenshot({ path: join(ARTIFACTS, 'panel-seed-bad-input.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('verifies WebGPU against the CPU reference and measures throughput on both', async () => {
    const { page, errors } = await openPage(false);
    await page.locator('#vf-n').fill('300');
    await page.locator('#vf-run').click();
    await waitRuns(page, 'verify', 1);
    const v = await result<VerifyReport>(page, 'verify');
    expect(v.actual.backend).toBe('webgpu');
    expect(v.expected.backend).toBe('cpu');
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.name)).toEqual(['loss', 'outputs', 'Wx', 'Wh', 'bh', 'Wy', 'by']);
    expect(v.checks[0].comparison.maxRel).toBeLessThan(1e-5); // the loss, a sum over all sequences
    expect(await page.locator('#vf-status').textContent()).toMatch(/^Pass/);
    await page.locator('#verify').screenshot({ path: join(ARTIFACTS, 'panel-verify.png') });

    // Another kernel strategy with truncated BPTT, checked the same way.
    await page.locator('#vf-h').fill('32');
    await page.locator('#vf-n').fill('100');
    await page.locator('#vf-strategy').selectOption('gemm');
    await page.locator('#vf-trunc').fill('5');
    await page.locator('#vf-run').click();
    await waitRuns(page, 'verify', 2);
    const g = await result<VerifyReport & { strategy: string }>(page, 'verify');
    expect(g.strategy).toBe('gemm');
    expect(g.ok).toBe(true);
    expect(await page.locator('#vf-table caption').textContent()).toMatch(/strategy gemm.*truncated after 5 steps/);

    // Bad input: longest shorter than shortest.
    await page.locator('#vf-min').fill('50');
    await page.locator('#vf-run').click();
    await expect
      .poll(() => page.locator('#vf-status').textContent())
      .toMatch(/Longest sequence: 40 is shorter than the shortest sequence \(50\)/);
    expect(await runs(page, 'verify')).toBe(2);

    await page.locator('#tp-sizes').fill('64, 512, 2048');
    await page.locator('#tp-t').fill('16');
    await page.locator('#tp-reps').fill('1');
    await page.locator('#tp-run').click();
    await waitRuns(page, 'throughput', 1);
    const t = await result<ThroughputResult>(page, 'throughput');
    expect(t.rows.map((x) => x.sequences)).toEqual([64, 512, 2048]);
    for (const x of t.rows) {
      expect(x.steps).toBe(x.sequences * 16);
      expect(x.gpu).toBeGreaterThan(0);
      expect(x.gpuTimed).toBeGreaterThan(0); // SwiftShader has timestamp queries
      expect(x.cpu).toBeGreaterThan(0);
      expect(x.agrees).toBe(true);
      expect(x.gbps).toBeGreaterThan(0);
    }
    expect(t.probeGBps).toBeNull(); // the copy probe is off by default
    expect(t.cpuDetail).toMatch(/in a worker/); // the float64 reference did not hold the page's main thread
    expect(await page.locator('#tp-chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#tp-summary').textContent()).toMatch(/WebGPU ran .* sequence-steps\/s/);
    await page.locator('#throughput').screenshot({ path: join(ARTIFACTS, 'panel-throughput.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('offers the CPU after a lost device and goes on there without reloading', async () => {
    const { page, errors } = await openPage(false);
    // After the warm-up (during it the seed panel computes on the CPU reference, not waiting for the kernels).
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    await page.evaluate(() => window.webgpuRnn!.session.gpu!.device!.destroy());
    await page.locator('#seed-w1').fill('1.5');
    await expect.poll(() => page.locator('#gpu-error').isVisible()).toBe(true);
    expect(await page.locator('#gpu-error-text').textContent()).toMatch(/lost/);
    await page.locator('header').screenshot({ path: join(ARTIFACTS, 'page-gpu-error.png') });
    const before = await runs(page, 'seed');
    await page.locator('#gpu-error-cpu').click();
    await waitRuns(page, 'seed', before + 1);
    expect(await page.locator('#backend-line').textContent()).toMatch(/^Backend: CPU reference/);
    const r = await result<SeedResult>(page, 'seed');
    expect(r.backend).toBe('cpu');
    expectSeedNumbers(
      r,
      await cpuSeed(
        app.cpu,
        { w1: 1.5, b1: 0, w2: -0.5, w3: 1.1, b2: 0 },
        [
          [1, 0.5],
          [0, 0.5],
        ],
        [0, 1],
      ),
      12,
    );
    expect(await page.locator('#gpu-error').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to the CPU with a visible notice when navigator.gpu is absent, and every panel still computes', async () => {
    const { page, errors } = await openPage(true);
    expect(await page.locator('#backend-line').textContent()).toMatch(/^Backend: CPU reference/);
    expect(await page.locator('#fallback').isVisible()).toBe(true);
    expect(await page.locator('#fallback').textContent()).toMatch(/WebGPU is not available/);
    const r = await result<SeedResult>(page, 'seed');
    expect(r.backend).toBe('cpu');
    expectSeedNumbers(
      r,
      await cpuSeed(
        app.cpu,
        { w1: 1.8, b1: 0, w2: -0.5, w3: 1.1, b2: 0 },
        [
          [1, 0.5],
          [0, 0.5],
        ],
        [0, 1],
      ),
      12,
    );

    await page.locator('#vf-n').fill('200');
    await page.locator('#vf-run').click();
    await waitRuns(page, 'verify', 1);
    const v = await result<VerifyReport>(page, 'verify');
    expect(v.actual.adapter).toMatch(/float32/);
    expect(v.ok).toBe(true);

    await page.locator('#tp-sizes').fill('64, 256');
    await page.locator('#tp-t').fill('8');
    await page.locator('#tp-reps').fill('1');
    await page.locator('#tp-run').click();
    await waitRuns(page, 'throughput', 1);
    const t = await result<ThroughputResult>(page, 'throughput');
    expect(t.rows.every((x) => x.gpu === null && x.cpu! > 0)).toBe(true);

    // The experiment panels on the CPU too (their numbers are checked on WebGPU in browser-experiments.test.ts).
    await page.locator('#tr-steps').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const tr = await result<{ backend: string; finalLoss: number; initialLoss: number }>(page, 'train');
    expect(tr.backend).toBe('cpu');
    expect(tr.finalLoss).toBeLessThan(tr.initialLoss);
    await page.locator('#pop-count').fill('50');
    await page.locator('#pop-steps').fill('100');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    expect(await result<{ backend: string; count: number }>(page, 'population')).toMatchObject({
      backend: 'cpu',
      count: 50,
    });
    await page.locator('#ls-grid').fill('16');
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    const ls = await result<{ backend: string; losses: number[] }>(page, 'landscape');
    expect(ls.backend).toBe('cpu');
    expect(ls.losses.length).toBe(256);
    await page.locator('#ur-run').click();
    await waitRuns(page, 'unroll', 1);
    const ur = await result<{ method: string; maxRelDiff: number[] }>(page, 'unroll');
    expect(ur.method).toBe('cpu');
    expect(Math.max(...ur.maxRelDiff)).toBeLessThan(1e-12);
    await page.screenshot({ path: join(ARTIFACTS, 'page-cpu-fallback.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
