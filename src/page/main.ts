// The experiments page (first panel: the seed notes). Uses the same library as Node; shows which backend and
// adapter ran, and a visible notice when it fell back to the CPU. Later panels (training, landscapes, throughput)
// build on this page.

import { Engine } from '../engine.ts';
import type { BackendChoice } from '../backend.ts';
import { formatStatquest, statquestReport, type StatquestReport } from '../statquest.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const fallback = $<HTMLParagraphElement>('fallback');
const report = $<HTMLPreElement>('report');
const runButton = $<HTMLButtonElement>('run');
const backendSelect = $<HTMLSelectElement>('backend');

declare global {
  interface Window {
    /** The last report, for tests and the console. */
    webgpuRnnReport?: StatquestReport;
  }
}

async function run(): Promise<void> {
  runButton.disabled = true;
  status.textContent = 'Running…';
  status.className = '';
  fallback.hidden = true;
  let engine: Engine | null = null;
  try {
    engine = await Engine.create({ backend: backendSelect.value as BackendChoice });
    if (engine.fallbackReason) {
      fallback.hidden = false;
      fallback.textContent = `WebGPU is not available here, so this ran on the CPU reference. (${engine.fallbackReason})`;
    }
    const r = await statquestReport(engine);
    window.webgpuRnnReport = r;
    report.textContent = formatStatquest(r);
    status.textContent = `Ran on ${r.backend}: ${r.adapter}`;
    status.dataset.backend = r.backend;
    status.dataset.adapter = r.adapter;
  } catch (e) {
    status.textContent = `Error: ${(e as Error).message}`;
    status.className = 'error';
    if (backendSelect.value !== 'cpu') status.textContent += ' — choose "CPU reference" to run without WebGPU.';
  } finally {
    engine?.dispose();
    runButton.disabled = false;
  }
}

runButton.addEventListener('click', () => void run());
void run();
