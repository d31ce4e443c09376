// The experiments page: starts one engine (WebGPU when the browser has an adapter, else the CPU reference, with a
// visible notice), shows which backend and adapter run, wires the panels, and offers the CPU after a GPU error
// without reloading. Every panel calls the same library code as Node.

import { initLandscape } from './panels/landscape.ts';
import { initPopulation } from './panels/population.ts';
import { initSeed } from './panels/seed.ts';
import { initThroughput } from './panels/throughput.ts';
import { initTrain } from './panels/train.ts';
import { initUnroll } from './panels/unroll.ts';
import { initVerify } from './panels/verify.ts';
import { Session } from './session.ts';
import { $ } from './ui.ts';

declare global {
  interface Window {
    /** The page's engines and the last result of each panel, for tests and the console. */
    webgpuRnn?: { session: Session; results: Record<string, unknown>; runs: Record<string, () => Promise<void>> };
  }
}

function showBackend(session: Session): void {
  const line = $('backend-line');
  const fallback = $('fallback');
  const e = session.engine;
  line.dataset.backend = e.backend;
  line.dataset.adapter = e.adapter;
  if (e.backend === 'webgpu') {
    line.textContent = `Backend: WebGPU — ${e.adapter}`;
    fallback.hidden = true;
  } else {
    line.textContent = `Backend: CPU reference (float64 JavaScript) — no WebGPU: ${session.cpuReason ?? 'chosen'}`;
    fallback.hidden = false;
    fallback.textContent = e.fallbackReason
      ? `WebGPU is not available in this browser, so every panel runs on the CPU reference. (${e.fallbackReason})`
      : `The page left WebGPU after an error and runs every panel on the CPU reference. (${session.cpuReason})`;
  }
}

async function start(): Promise<void> {
  let session: Session;
  try {
    session = await Session.create();
  } catch (e) {
    $('backend-line').textContent = `The engine could not start: ${(e as Error).message}`;
    $('backend-line').className = 'backend error';
    return;
  }
  showBackend(session);
  session.onChange(() => showBackend(session));

  const box = $('gpu-error');
  let retry: (() => void) | null = null;
  session.onGpuError = (message, again) => {
    const m = message.trim();
    $('gpu-error-text').textContent = `WebGPU failed: ${m}${/[.!?)]$/.test(m) ? '' : '.'} You can go on with the CPU reference without reloading.`;
    box.hidden = false;
    retry = again;
    $('gpu-error-cpu').focus();
  };
  $('gpu-error-cpu').addEventListener('click', () => {
    session.switchToCpu('the WebGPU device failed and the page switched to the CPU');
    box.hidden = true;
    const again = retry;
    retry = null;
    again?.();
  });

  const results: Record<string, unknown> = {};
  const publish =
    (name: string) =>
    (r: unknown): void => {
      results[name] = r;
      document.body.dataset[`${name}Runs`] = String(Number(document.body.dataset[`${name}Runs`] ?? 0) + 1);
    };
  const runs: Record<string, () => Promise<void>> = {};
  runs.seed = initSeed(session, publish('seed')).run;
  runs.train = initTrain(session, publish('train')).run;
  runs.population = initPopulation(session, publish('population')).run;
  runs.landscape = initLandscape(session, publish('landscape')).run;
  runs.unroll = initUnroll(session, publish('unroll')).run;
  runs.throughput = initThroughput(session, publish('throughput')).run;
  runs.verify = initVerify(session, publish('verify')).run;
  window.webgpuRnn = { session, results, runs };
  document.body.dataset.ready = 'true';
  await runs.seed();
}

void start();
