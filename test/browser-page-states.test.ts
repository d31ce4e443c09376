// What the experiments page's panels say in each state, in Chromium (test/helpers/browser.ts; WebGPU on
// SwiftShader, and the CPU fallback): fields that do not apply stay hidden, unreadable numbers are errors naming the
// field and quoting the text, red marks clear on edit, zero losses stay on the log chart, a diverging run is
// reported at the same step on both backends (on the CPU in the page's worker), queued runs say what they wait for,
// stale results are dimmed, a start point outside the landscape is a warning, one overflowing w2 does not sink the
// unroll study, and long runs stop. (The layout at 390 px is test/browser-page-layout.test.ts; the page timer during
// runs, test/browser-page-timer.test.ts.)

import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { seedData } from '../src/data/index.ts';
import type { LandscapeView } from '../src/page/panels/landscape.ts';
import type { TrainResult } from '../src/page/panels/train.ts';
import type { UnrollView } from '../src/page/panels/unroll.ts';
import { randomModel } from '../src/random.ts';
import { train } from '../src/train/index.ts';
import { unrollStudyCpu } from '../src/study/unroll.ts';
import { ARTIFACTS, describeBrowser, result, runs, useBrowserPage, waitRuns, workerJobs } from './helpers/browser.ts';

const status = (page: Page, id: string): Promise<string> =>
  page
    .locator(`#${id}`)
    .textContent()
    .then((t) => t ?? '');

/** Clicks a Stop button unless its run has already ended (the button is then disabled); whether it clicked. */
async function clickIfEnabled(button: ReturnType<Page['locator']>): Promise<boolean> {
  try {
    await button.click({ timeout: 5_000 });
    return true;
  } catch (e) {
    if (await button.isEnabled()) throw e;
    return false;
  }
}

describeBrowser('the experiments page: fields, errors, charts and the state of runs', () => {
  const app = useBrowserPage();

  it('shows only the fields that apply, refuses unreadable numbers by name, clears red marks on edit, marks the CSV text', async () => {
    const { page, errors } = await app.open();
    // The notes' data: no sequence count or window; CSV: a window, no count; sine: both.
    expect(await page.locator('#tr-count').isVisible()).toBe(false);
    expect(await page.locator('#tr-len').isVisible()).toBe(false);
    await page.locator('#tr-data').selectOption('csv');
    expect(await page.locator('#tr-count').isVisible()).toBe(false);
    expect(await page.locator('#tr-len').isVisible()).toBe(true);
    await page.locator('#tr-data').selectOption('sine');
    expect(await page.locator('#tr-count').isVisible()).toBe(true);
    await page.locator('#tr-data').selectOption('seed');

    // Unreadable numbers: an error naming the field and quoting the text; nothing trains.
    for (const typed of ['1e', '--']) {
      await page.locator('#tr-batch').fill(typed);
      await page.locator('#tr-run').click();
      await expect
        .poll(() => status(page, 'tr-status'))
        .toContain(`Mini-batch (blank: all): "${typed}" is not a number`);
      expect(await page.locator('#tr-batch').getAttribute('aria-invalid')).toBe('true');
    }
    expect(await runs(page, 'train')).toBe(0);
    // Correcting the field clears its mark at once.
    await page.locator('#tr-batch').fill('');
    expect(await page.locator('#tr-batch').getAttribute('aria-invalid')).toBeNull();
    await page.locator('#vf-trunc').fill('abc');
    await page.locator('#vf-run').click();
    await expect
      .poll(() => status(page, 'vf-status'))
      .toContain('Truncate BPTT after (steps; blank: full): "abc" is not a number');
    expect(await runs(page, 'verify')).toBe(0);
    await page.locator('#vf-trunc').fill('5');
    expect(await page.locator('#vf-trunc').getAttribute('aria-invalid')).toBeNull();

    // A malformed CSV marks the text area (as the README says), and editing it clears the mark.
    await page.locator('#tr-data').selectOption('csv');
    await page.locator('#tr-csv').fill('price\n1\n2\nabc\n4\n5\n6\n7');
    await page.locator('#tr-len').fill('3');
    await page.locator('#tr-run').click();
    await expect
      .poll(() => status(page, 'tr-status'))
      .toMatch(/row 4, column 1 \("price"\): expected a number, got "abc"/);
    expect(await page.locator('#tr-csv').getAttribute('aria-invalid')).toBe('true');
    await page.locator('#tr-csv').fill('price\n1\n2\n3\n4\n5\n6\n7');
    expect(await page.locator('#tr-csv').getAttribute('aria-invalid')).toBeNull();

    // The notes' panel explains the activation chosen.
    await page.locator('#seed-act').selectOption('tanh');
    await expect.poll(() => status(page, 'seed-closed-note')).toMatch(/tanh′ = 1 − hidden²/);
    expect(await status(page, 'seed-closed-note')).not.toMatch(/ReLU′/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws zero losses on the log chart, and reports a diverging run at the same step as the CPU run in Node', async () => {
    const { page, errors } = await app.open();
    // The page builds its training kernels once after loading (that holds the main thread on a software adapter).
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    await page.locator('#tr-floor').fill(''); // no loss floor: every step, down to the SSRs float32 records as 0
    await page.locator('#tr-run').click(); // the defaults otherwise: the notes' data, Adam, 1000 steps
    await waitRuns(page, 'train', 1);
    const r = await result<TrainResult>(page, 'train');
    // The same run in Node on the CPU reference (float64 history) reaches an SSR that float32 records as 0.
    const ref = await train(
      app.cpu,
      randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
      seedData(2).batch,
      {
        optimizer: { kind: 'adam', lr: 0.05 },
        steps: 1000,
        historyEvery: 1,
      },
    );
    expect(ref.history.some((h) => Math.fround(h.loss) === 0)).toBe(true);
    expect(r.history.length).toBe(1000);
    expect(r.history.filter((h) => h.loss === 0).length).toBeGreaterThan(0);
    // Every recorded step is drawn, zeros at the floor 1e-14; the curve reaches the last step.
    expect(r.chartPoints).toBe(r.history.length);
    const data = await page.evaluate(() => window.webgpuRnn!.chartData('tr-chart'));
    expect(data![0].at(-1)).toBe(999);
    expect(data![1].at(-1)).toBe(1e-14);
    expect(data![1].every((v) => v !== null && v > 0)).toBe(true);
    expect(await status(page, 'tr-summary')).toMatch(/including 0, at 1e-14/);

    // SGD with learning rate 100 diverges: the SSR leaves the float32 range at step 8.
    await page.locator('#tr-opt').selectOption('sgd');
    await page.locator('#tr-lr').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 2);
    const d = await result<TrainResult>(page, 'train');
    const refD = await train(
      app.cpu,
      randomModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 }, 'relu', 'last', 1, 1),
      seedData(2).batch,
      {
        optimizer: { kind: 'sgd', lr: 100 },
        steps: 1000,
        historyEvery: 1,
      },
    );
    // The CPU keeps its history in float64: the step where its SSR leaves the float32 range (or is not finite).
    const F32_MAX = 3.4028234663852886e38;
    const refStep = refD.history.find((h) => !(Math.abs(h.loss) <= F32_MAX))!.step;
    expect(refStep).toBe(8);
    expect(d.diverged).toBe(true);
    expect(d.overflowStep).toBe(refStep);
    expect(await status(page, 'tr-status')).toMatch(/^Diverged: the SSR left the float32 range at step 8\./);
    const table = await status(page, 'tr-table');
    expect(table).not.toMatch(/NaN/);
    expect(table).toMatch(/not finite: the SSR overflows at those weights too/);
    // The y axis carries labels (at least three).
    const ticks = (await page.evaluate(() => window.webgpuRnn!.chartTicks('tr-chart')))!;
    expect(ticks.y.filter((t) => t !== '').length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks.y).size).toBe(ticks.y.length);
    await page.locator('#train').screenshot({ path: join(ARTIFACTS, 'panel-train-diverged.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reports a diverging run at the same step on the CPU fallback, in the CPU worker', async () => {
    const { page, errors } = await app.open({ withoutWebGpu: true });
    expect(await status(page, 'backend-line')).toBe('Backend: CPU reference (float64 JavaScript)');
    const notice = await status(page, 'fallback');
    expect(notice).toMatch(/^WebGPU is not available here, so every panel runs on the CPU reference\./);
    expect(notice).not.toMatch(/use the CPU backend/);
    await page.locator('#tr-opt').selectOption('sgd');
    await page.locator('#tr-lr').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    const d = await result<TrainResult>(page, 'train');
    expect(d.backend).toBe('cpu');
    expect(d.overflowStep).toBe(8);
    expect(await status(page, 'tr-status')).toMatch(
      /^Diverged: the SSR left the float32 range at step 8 \(the float64 CPU reference went on until step \d+/,
    );
    expect((await workerJobs(page)).train).toBe(1);

    await page.locator('#pop-count').fill('50');
    await page.locator('#pop-steps').fill('50');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    // Training and populations on the CPU ran in the page's worker, off the main thread.
    expect(await workerJobs(page)).toMatchObject({ train: 1, population: 1 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs a landscape beside a population, says when a run waits for another, dims stale results, warns about a start point off the grid, and stops', async () => {
    const { page, errors } = await app.open();
    await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 60_000 });
    // A long population run holds the long lane (training, in the WebGPU worker); the landscape, on the short lane
    // and its own device there, computes beside it without waiting, while a Train run queued behind the population
    // says what it waits for.
    await page.locator('#pop-steps').fill('100000');
    await page.locator('#pop-run').click();
    await expect.poll(() => page.locator('#pop-stop').isEnabled()).toBe(true);
    await page.locator('#ls-grid').fill('16');
    await page.locator('#ls-sx').fill('5'); // outside -1 … 3
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    expect(await page.locator('#pop-stop').isEnabled()).toBe(true);
    await page.locator('#tr-run').click();
    await expect
      .poll(() => status(page, 'tr-status'))
      .toMatch(/^Waiting: the Population panel is running; this run starts when it finishes\./);
    await expect.poll(() => page.locator('#pop-progress-text').textContent()).toMatch(/left|estimating/);
    expect(await page.locator('#population').evaluate((e) => e.classList.contains('running'))).toBe(true);
    await page.locator('#pop-stop').click();
    await waitRuns(page, 'population', 1);
    expect(await status(page, 'pop-status')).toMatch(/^Stopped 2000 models/);
    await waitRuns(page, 'train', 1);
    const l = await result<LandscapeView>(page, 'landscape');
    expect(l.startOutside).toBe(true);
    expect(await page.locator('#ls-status').getAttribute('data-state')).toBe('warn');
    expect(await status(page, 'ls-status')).toMatch(/The start point \(w1 = 5, w2 = 1\.5\) lies outside the grid/);

    // A failed run leaves the old results dimmed and labelled.
    await page.locator('#ls-xmax').fill('x');
    await page.locator('#ls-run').click();
    await expect.poll(() => status(page, 'ls-status')).toContain('Horizontal to: "x" is not a number');
    expect(await page.locator('#landscape').evaluate((e) => e.classList.contains('stale'))).toBe(true);
    await expect
      .poll(() => page.locator('#landscape .outputs').evaluate((e) => Number(getComputedStyle(e).opacity)))
      .toBeLessThan(0.5);
    await page.locator('#ls-xmax').fill('3');
    await page.locator('#ls-sx').fill('0.3');

    // A big landscape stops between bands of rows, with an estimate of the time left.
    await page.locator('#ls-grid').fill('512');
    await page.locator('#ls-path').uncheck();
    await page.locator('#ls-run').click();
    await expect
      .poll(() => page.locator('#ls-progress-text').textContent(), { timeout: 60_000 })
      .toMatch(/rows, (about .* left|estimating)/);
    // The run may finish before the click lands (Stop is then disabled): both outcomes are checked below.
    await clickIfEnabled(page.locator('#ls-stop'));
    await waitRuns(page, 'landscape', 2);
    const s = await result<LandscapeView>(page, 'landscape');
    expect(await page.locator('#landscape').evaluate((e) => e.classList.contains('stale'))).toBe(false);
    if (s.aborted) {
      expect(await status(page, 'ls-status')).toMatch(/^Stopped: \d+ of 512 rows/);
      expect(s.losses.some(Number.isNaN)).toBe(true);
    }
    // Throughput stops after the size being measured.
    await page.locator('#tp-sizes').fill('64, 128, 256, 512');
    await page.locator('#tp-t').fill('8');
    await page.locator('#tp-reps').fill('1');
    await page.locator('#tp-run').click();
    await expect.poll(() => page.locator('#tp-stop').isEnabled()).toBe(true);
    const stopped = await clickIfEnabled(page.locator('#tp-stop'));
    await expect.poll(() => page.locator('#tp-run').isEnabled(), { timeout: 60_000 }).toBe(true);
    if (stopped) expect(await status(page, 'tp-status')).toMatch(/^Stopped/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('returns the unroll rows that did not overflow and names the one that did', async () => {
    const { page, errors } = await app.open();
    await page.locator('#ur-t').fill('200');
    await page.locator('#ur-w2').fill('10, 0.5');
    await page.locator('#ur-run').click();
    await waitRuns(page, 'unroll', 1);
    const u = await result<UnrollView>(page, 'unroll');
    expect(u.w2).toEqual([0.5]);
    expect(u.overflowed.map((o) => o.w2)).toEqual([10]);
    const ref = unrollStudyCpu({ inputs: new Array(200).fill(0.5), w2: [0.5] });
    u.contributions[0].forEach((c, k) =>
      expect(Math.abs(c - ref.rows[0].contributions[k])).toBeLessThanOrEqual(
        1e-5 * Math.abs(ref.rows[0].contributions[0]),
      ),
    );
    expect(await page.locator('#ur-status').getAttribute('data-state')).toBe('warn');
    expect(await status(page, 'ur-status')).toMatch(/Left out, because their values overflowed: w2 = 10 /);
    expect(await page.locator('#ur-table tbody tr').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
