// The page timer of the browser tests: a 50 ms interval on the page's main thread records when each tick ran, and a
// 10 ms interval in a dedicated worker of the same page does the same. A main-thread gap over 100 ms is the page's
// fault unless the worker stalled over the same time too: then the whole renderer was off the CPU (the machine was
// busy with other processes), which no page code causes. The check subtracts the worker's overlapping stall from
// each main-thread gap, so on an idle machine it is exactly "no gap over 100 ms".

import type { Page } from 'playwright-core';

interface TimerWindow {
  pageTimer?: { ticks: number[]; id: number; worker: Worker };
}

/** Starts both timers on the page. */
export async function startPageTimer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as TimerWindow;
    const src =
      'const t=[];const id=setInterval(()=>t.push(performance.timeOrigin+performance.now()),10);onmessage=()=>{clearInterval(id);t.push(performance.timeOrigin+performance.now());postMessage(t);};';
    const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    const ticks = [performance.timeOrigin + performance.now()];
    const id = window.setInterval(() => ticks.push(performance.timeOrigin + performance.now()), 50);
    w.pageTimer = { ticks, id, worker };
  });
}

export interface TimerReport {
  /** The longest interval between two main-thread ticks (ms). */
  longestGap: number;
  /** The longest main-thread gap less the worker's stall over the same time (ms): the page's own part. */
  longestPageGap: number;
  /** The longest interval between two worker ticks (ms). */
  longestWorkerGap: number;
  ticks: number;
  /** Every interval between main-thread ticks, in order (ms, rounded). */
  gaps: number[];
  /** The ticks themselves (ms since the epoch): the main thread's and the worker's. */
  main: number[];
  worker: number[];
}

/** Stops both timers and compares them. */
export async function stopPageTimer(page: Page): Promise<TimerReport> {
  const { main, worker } = await page.evaluate(async () => {
    const w = window as unknown as TimerWindow;
    const t = w.pageTimer!;
    clearInterval(t.id);
    t.ticks.push(performance.timeOrigin + performance.now());
    const workerTicks = await new Promise<number[]>((resolve) => {
      t.worker.onmessage = (e: MessageEvent<number[]>) => resolve(e.data);
      t.worker.postMessage('stop');
    });
    t.worker.terminate();
    delete w.pageTimer;
    return { main: t.ticks, worker: workerTicks };
  });
  return compareTicks(main, worker);
}

/** The longest stall of the worker overlapping [a, b]: the longest part of [a, b] with no worker tick in it. */
function workerStall(worker: number[], a: number, b: number): number {
  let longest = 0;
  let last = a;
  for (const t of worker) {
    if (t <= a) continue;
    if (t >= b) break;
    longest = Math.max(longest, t - last);
    last = t;
  }
  return Math.max(longest, b - last);
}

export function compareTicks(main: number[], worker: number[]): TimerReport {
  let longestGap = 0;
  let longestPageGap = 0;
  let longestWorkerGap = 0;
  for (let i = 1; i < worker.length; i++) longestWorkerGap = Math.max(longestWorkerGap, worker[i] - worker[i - 1]);
  for (let i = 1; i < main.length; i++) {
    const gap = main[i] - main[i - 1];
    longestGap = Math.max(longestGap, gap);
    // Worker ticks come every 10 ms: a stall under 20 ms is its normal rhythm, not the machine's.
    const stall = workerStall(worker, main[i - 1], main[i]);
    longestPageGap = Math.max(longestPageGap, stall > 20 ? gap - stall : gap);
  }
  const gaps = main.slice(1).map((t, i) => Math.round(t - main[i]));
  return { longestGap, longestPageGap, longestWorkerGap, ticks: main.length, gaps, main, worker };
}

/** `r` over the part of it from `from` (ms since the epoch) on: the gaps that end after it. */
export function since(r: TimerReport, from: number): TimerReport {
  const after = r.main.findIndex((t) => t > from);
  const first = after === -1 ? r.main.length - 1 : Math.max(0, after - 1);
  return compareTicks(r.main.slice(first), r.worker);
}

/** One line for the test log. */
export const describeTimer = (r: TimerReport, what: string): string =>
  `[page timer] ${what}: longest gap ${r.longestGap.toFixed(0)} ms, the page's part ${r.longestPageGap.toFixed(0)} ms (worker's longest stall ${r.longestWorkerGap.toFixed(0)} ms, ${r.ticks} ticks)`;
