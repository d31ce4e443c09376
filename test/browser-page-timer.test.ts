// The experiments page stays responsive: a 50 ms timer on the page's main thread shows no gap over 100 ms while any
// panel runs, on WebGPU (SwiftShader) and on the CPU fallback (test/helpers/page-timer.ts: a gap during which the
// page's own worker thread stalled too is the machine's, and that part is not counted against the page). Buttons
// are pressed with the element's click() inside the page: Playwright's own click first runs its actionability
// scripts there (a 30 ms task on SwiftShader), which a person's click does not. This file runs on its own after the
// other suites (npm run test:timer), so no other test's browser or GPU work competes for the two cores, and each
// run counts the best of up to three measurements (a busy loop in the page shows that a blocking page still fails).
// The larger sizes (a sine of 8 tanh units, a population of 100,000 models) are measured over their first seconds,
// then stopped: the measurement includes the Stop and the drawing of the results reached, until they are painted
// (the part from the moment the Train panel receives its report is checked on its own too); then the Population
// playground plays those 100,000 models for a few frames (the population stays in the worker between frames).

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, runs, useBrowserPage, waitRuns } from './helpers/browser.ts';
import {
  compareTicks,
  describeTimer,
  since,
  startPageTimer,
  stopPageTimer,
  type TimerReport,
} from './helpers/page-timer.ts';

/** Each panel's run, started by its button with the page's defaults (some made shorter), and its published name. */
const RUNS: { what: string; button: string; name: string; fields?: Record<string, string> }[] = [
  // Blank loss floor: all 2000 steps run (the notes' data reaches the default floor 1e-12 after a few hundred).
  { what: 'Train', button: 'tr-run', name: 'train', fields: { 'tr-steps': '2000', 'tr-floor': '' } },
  { what: 'Population', button: 'pop-run', name: 'population', fields: { 'pop-count': '200', 'pop-steps': '200' } },
  { what: 'Loss landscape', button: 'ls-run', name: 'landscape' },
  { what: 'Unroll study', button: 'ur-run', name: 'unroll' },
  { what: 'Cells study', button: 'uc-run', name: 'cells' },
  {
    what: 'Throughput',
    button: 'tp-run',
    name: 'throughput',
    fields: { 'tp-sizes': '256, 1024', 'tp-reps': '2', 'tp-budget': '3' },
  },
  { what: 'Verify', button: 'vf-run', name: 'verify' },
];

/** Presses a button as a person would, without Playwright's actionability scripts running in the page first. */
const press = (page: Page, id: string): Promise<void> => page.evaluate((b) => document.getElementById(b)!.click(), id);

/** How many times a run is measured at most (the best counts). */
const ATTEMPTS = 3;

/** Plays a playground for a while, then pauses it and waits until it has paused (its button says Play again). */
async function play(page: Page, playId: string, name: string, timeout = 60_000): Promise<void> {
  const before = await runs(page, name);
  await press(page, playId);
  await page.waitForFunction(
    ([k, n]) => Number(document.body.dataset[`${k}Runs`] ?? 0) > n + 3,
    [name, before] as const,
    { timeout },
  );
  await press(page, playId);
  await page.waitForFunction(
    (id) => {
      const b = document.getElementById(id) as HTMLButtonElement;
      return !b.disabled && b.textContent === 'Play';
    },
    playId,
    { timeout },
  );
}

/**
 * Measures `run` (which starts the work and waits for its end) up to three times, until one has no gap over 100 ms:
 * other processes on a shared two-core machine can take the CPU from the page now and then (the worker's ticks catch
 * only part of that), while a page that blocks does so every time.
 */
async function measure(page: Page, what: string, run: () => Promise<void>): Promise<TimerReport> {
  let best: TimerReport | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await startPageTimer(page);
    await run();
    const r = await stopPageTimer(page);
    console.log(describeTimer(r, `${what}, attempt ${attempt}`) + ` — gaps ${r.gaps.join(' ')}`);
    if (!best || r.longestPageGap < best.longestPageGap) best = r;
    if (r.longestPageGap < 100) break;
  }
  return best!;
}

/** Two animation frames and `ms` more: what a run drew by then has been laid out and painted. */
const painted = (page: Page, ms: number): Promise<void> =>
  page.evaluate(
    (wait) =>
      new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, wait)))),
    ms,
  );

/** Runs at larger sizes: measured for at most `seconds` after the button is pressed, then stopped. */
const LARGE: {
  what: string;
  button: string;
  stop: string;
  name: string;
  seconds: number;
  fields: Record<string, string>;
}[] = [
  {
    what: 'Train, noisy sine, H = 8 (512 windows of 16 steps, 1000 steps)',
    button: 'tr-run',
    stop: 'tr-stop',
    name: 'train',
    seconds: 6,
    fields: { 'tr-data': 'sine', 'tr-hidden': '8', 'tr-act': 'tanh', 'tr-lr': '0.01', 'tr-steps': '1000' },
  },
  {
    what: 'Population, 100,000 models × 1000 steps',
    button: 'pop-run',
    stop: 'pop-stop',
    name: 'population',
    seconds: 6,
    fields: { 'pop-count': '100000', 'pop-steps': '1000' },
  },
];

describeBrowser('the experiments page stays responsive while it runs', () => {
  const app = useBrowserPage();

  it('counts a main-thread gap against the page unless the worker stalled over it too', () => {
    const every = (from: number, to: number, step: number): number[] =>
      Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
    const steady = every(0, 1000, 10);
    // A 300 ms gap on the main thread while the worker ticked on: the page's.
    const blocked = [...every(0, 200, 50), 500, 550, 600];
    expect(compareTicks(blocked, steady).longestPageGap).toBe(300);
    // The same gap while the worker stalled for 280 ms of it: the machine's; 20 ms of it is left to the page, so
    // the page's longest gap is that of its regular 50 ms ticks.
    const stalled = [...every(0, 210, 10), ...every(490, 1000, 10)];
    const r = compareTicks(blocked, stalled);
    expect(r.longestGap).toBe(300);
    expect(r.longestPageGap).toBe(50);
    expect(r.longestWorkerGap).toBe(280);
    expect(compareTicks([0, 200, 500], stalled).longestPageGap).toBe(200);
    // A worker's normal 10–20 ms rhythm excuses nothing.
    expect(compareTicks([0, 50, 170, 220], steady).longestPageGap).toBe(120);
  });

  for (const withoutWebGpu of [false, true]) {
    it(`has no gap over 100 ms while each panel runs and the playgrounds play (${withoutWebGpu ? 'CPU fallback' : 'WebGPU'})`, async () => {
      const backend = withoutWebGpu ? 'CPU fallback' : 'WebGPU';
      const { page, errors } = await app.open({ withoutWebGpu });
      // After the page's idle warm-up (the CPU worker started; on WebGPU, the kernels built), as a person would meet it.
      await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 120_000 });
      // The timer catches a page that blocks: a 150 ms task on the main thread is a gap of at least 150 ms.
      await startPageTimer(page);
      await page.evaluate(
        () =>
          new Promise<void>((done) =>
            setTimeout(() => {
              const t = performance.now();
              while (performance.now() - t < 150);
              setTimeout(done, 100);
            }, 60),
          ),
      );
      const blocked = await stopPageTimer(page);
      console.log(describeTimer(blocked, `a 150 ms busy loop (${backend})`));
      expect(blocked.longestPageGap).toBeGreaterThanOrEqual(150);

      const reports: [string, TimerReport][] = [];
      for (const r of RUNS) {
        for (const [id, value] of Object.entries(r.fields ?? {})) await page.locator(`#${id}`).fill(value);
        await page.locator(`#${r.button}`).scrollIntoViewIfNeeded();
        reports.push([
          r.what,
          await measure(page, `${r.what} (${backend})`, async () => {
            const before = await runs(page, r.name);
            await press(page, r.button);
            await waitRuns(page, r.name, before + 1, 180_000);
          }),
        ]);
      }
      for (const [what, playId, name] of [
        ['Train playground', 'pg-play', 'playground'],
        ['Population playground', 'pp-play', 'populationPlayground'],
      ] as const) {
        await page.locator(`#${playId}`).scrollIntoViewIfNeeded();
        reports.push([what, await measure(page, `${what} (${backend})`, () => play(page, playId, name))]);
      }
      for (const [what, r] of reports)
        expect(
          r.longestPageGap,
          `the page's longest gap between 50 ms ticks during ${what} on ${backend}, best of ${ATTEMPTS} (ms)`,
        ).toBeLessThan(100);
      expect(errors).toEqual([]);
      await page.close();
    });
  }
  for (const withoutWebGpu of [false, true]) {
    it(`has no gap over 100 ms during the first seconds of a sine of 8 units and of 100,000 models, their Stop and drawing, and while 100,000 models play (${withoutWebGpu ? 'CPU fallback' : 'WebGPU'})`, async () => {
      const backend = withoutWebGpu ? 'CPU fallback' : 'WebGPU';
      const { page, errors } = await app.open({ withoutWebGpu });
      await page.waitForFunction(() => document.body.dataset.warm === 'true', null, { timeout: 120_000 });
      for (const r of LARGE) {
        for (const [id, value] of Object.entries(r.fields)) {
          const el = page.locator(`#${id}`);
          if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
          else await el.fill(value);
        }
        await page.locator(`#${r.button}`).scrollIntoViewIfNeeded();
        // Best of up to three attempts, as above.
        let report: TimerReport | null = null;
        /** From the moment the panel received its report (the `train-results` mark) to the end: its drawing. */
        let drawing: TimerReport | null = null;
        for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
          const before = await runs(page, r.name);
          await startPageTimer(page);
          const t0 = Date.now();
          await press(page, r.button);
          // Until it ends by itself or `seconds` have passed; then Stop, and wait for the results reached to be drawn.
          await page
            .waitForFunction(
              ([k, n]) => Number(document.body.dataset[`${k}Runs`] ?? 0) > Number(n),
              [r.name, before] as const,
              { timeout: r.seconds * 1000 },
            )
            .catch(() => press(page, r.stop));
          await waitRuns(page, r.name, before + 1, 120_000);
          // The results are published once drawn; their charts lay out and paint in the frames after.
          await painted(page, 300);
          const one = await stopPageTimer(page);
          console.log(
            describeTimer(
              one,
              `${r.what} (${backend}), ${((Date.now() - t0) / 1000).toFixed(1)} s, attempt ${attempt}`,
            ) + ` — gaps ${one.gaps.join(' ')}`,
          );
          const results =
            r.name === 'train'
              ? await page.evaluate(() => {
                  const m = performance.getEntriesByName('train-results', 'mark').at(-1);
                  return m ? performance.timeOrigin + m.startTime : null;
                })
              : null;
          const drew = results === null ? null : since(one, results);
          if (drew) console.log(describeTimer(drew, `  its results drawn (${backend}), attempt ${attempt}`));
          if (!report || one.longestPageGap < report.longestPageGap) [report, drawing] = [one, drew];
          if (one.longestPageGap < 100) break;
        }
        const res = await page.evaluate(
          (k) => window.webgpuRnn!.results[k] as { backend: string; count?: number },
          r.name,
        );
        expect(res.backend).toBe(withoutWebGpu ? 'cpu' : 'webgpu');
        if (r.name === 'population') expect(res.count).toBe(100_000);
        // The work ran in a worker, not on the page.
        expect(await page.evaluate(() => document.body.dataset.longLane)).toBe('worker');
        expect(
          report!.longestPageGap,
          `the page's longest gap between 50 ms ticks during ${r.what} on ${backend}, best of ${ATTEMPTS} (ms)`,
        ).toBeLessThan(100);
        if (r.name === 'train') {
          // The Train panel marks when its report arrives: what follows is the drawing of its results.
          expect(drawing, 'the train-results mark of the Train panel').not.toBeNull();
          expect(drawing!.ticks, 'main-thread ticks while the results were drawn').toBeGreaterThan(3);
          expect(
            drawing!.longestPageGap,
            `the page's longest gap while the results of ${r.what} were drawn on ${backend} (ms)`,
          ).toBeLessThan(100);
        }
      }
      // The Population playground plays the 100,000 models set above for a few frames of 10 steps: they stay in
      // the worker between frames, and the page draws each frame's histogram and share.
      await page.locator('#pp-speed').selectOption('10');
      await page.locator('#pp-play').scrollIntoViewIfNeeded();
      const played = await measure(page, `Population playground, 100,000 models (${backend})`, () =>
        play(page, 'pp-play', 'populationPlayground', 180_000),
      );
      const s = await page.evaluate(() => {
        const p = window.webgpuRnn!.results.populationPlayground as { count: number; backend: string; step: number };
        return { count: p.count, backend: p.backend, step: p.step };
      });
      expect(s.count).toBe(100_000);
      expect(s.backend).toBe(withoutWebGpu ? 'cpu' : 'webgpu');
      expect(s.step).toBeGreaterThanOrEqual(40);
      expect(await page.evaluate(() => document.body.dataset.longLane)).toBe('worker');
      expect(
        played.longestPageGap,
        `the page's longest gap between 50 ms ticks while 100,000 models play on ${backend}, best of ${ATTEMPTS} (ms)`,
      ).toBeLessThan(100);
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});
