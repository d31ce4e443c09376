// Panel "Throughput": sequence-steps per second of the engine on WebGPU and on the CPU reference across batch
// sizes, on the same seeded random batch: one warm-up run, then the median of the repeats (wall time including
// upload and readback). Chart (uPlot, log axes), table with ratios, and a text summary.

import { modelFromJSON } from '../../model.ts';
import { randomBatch, randomModel } from '../../random.ts';
import { lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import { $, FieldError, fillTable, median, rate, readList, readNumber, StatusLine, yieldToBrowser } from '../ui.ts';

export interface ThroughputRow {
  sequences: number;
  steps: number;
  /** sequence-steps/s, median of the repeats; null where WebGPU is absent. */
  gpu: number | null;
  cpu: number;
}

export interface ThroughputResult {
  adapter: string | null;
  hidden: number;
  length: number;
  work: 'forward' | 'bptt';
  repeats: number;
  rows: ThroughputRow[];
}

const MAX_STEPS = 8_000_000;

/** Median sequence-steps/s of `repeats` runs after one warm-up. */
async function measure(run: () => Promise<unknown>, steps: number, repeats: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    await yieldToBrowser();
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  return steps / median(times);
}

export function initThroughput(session: Session, publish: (r: ThroughputResult) => void): { run: () => Promise<void> } {
  const section = $('throughput');
  const status = new StatusLine($('tp-status'));
  const button = $<HTMLButtonElement>('tp-run');

  function read() {
    const sizesField = $<HTMLInputElement>('tp-sizes');
    const sizes = readList(sizesField, { min: 1, max: 1_000_000, integer: true }, 8);
    const T = readNumber($<HTMLInputElement>('tp-t'), { min: 1, max: 1024, integer: true });
    const H = readNumber($<HTMLInputElement>('tp-h'), { min: 1, max: 16, integer: true });
    const repeats = readNumber($<HTMLInputElement>('tp-reps'), { min: 1, max: 20, integer: true });
    const biggest = Math.max(...sizes);
    if (biggest * T > MAX_STEPS) throw new FieldError(sizesField, `Batch sizes: ${biggest} × ${T} steps is more than this page measures (${MAX_STEPS / 1e6} M steps)`);
    return { sizes: [...new Set(sizes)].sort((a, b) => a - b), T, H, repeats, work: $<HTMLSelectElement>('tp-work').value as 'forward' | 'bptt' };
  }

  function show(r: ThroughputResult): void {
    const xs = r.rows.map((x) => x.sequences);
    const hasGpu = r.rows.some((x) => x.gpu !== null);
    const series = [{ label: 'CPU reference (float64 JS)' }];
    const data: (number | null)[][] = [xs, r.rows.map((x) => x.cpu)];
    if (hasGpu) {
      series.unshift({ label: `WebGPU (${r.adapter})` });
      data.splice(1, 0, r.rows.map((x) => x.gpu));
    }
    lineChart($('tp-chart'), { xLabel: 'sequences in the batch', yLabel: 'sequence-steps/s', logX: true, logY: true, series: series.map((s) => ({ ...s, points: true })) }, data as never);
    fillTable(
      $<HTMLTableElement>('tp-table'),
      ['sequences', 'sequence-steps', 'WebGPU steps/s', 'CPU steps/s', 'WebGPU / CPU'],
      r.rows.map((x) => [x.sequences, x.steps, x.gpu === null ? '—' : rate(x.gpu), rate(x.cpu), x.gpu === null ? '—' : `${(x.gpu / x.cpu).toFixed(2)}×`]),
      `H = ${r.hidden}, T = ${r.length}, ${r.work === 'bptt' ? 'forward + BPTT + reduction' : 'forward'}, median of ${r.repeats} after a warm-up; the share of the hardware limit is not known on this adapter`,
    );
    const big = r.rows[r.rows.length - 1];
    $('tp-summary').textContent = hasGpu
      ? `At ${big.sequences} sequences WebGPU ran ${rate(big.gpu!)} sequence-steps/s and the CPU ${rate(big.cpu)}: ${(big.gpu! / big.cpu).toFixed(2)}× the CPU. ` +
        `Across the sizes the ratio goes from ${(r.rows[0].gpu! / r.rows[0].cpu).toFixed(2)}× to ${(big.gpu! / big.cpu).toFixed(2)}×.`
      : `No WebGPU here: the CPU reference ran ${rate(big.cpu)} sequence-steps/s at ${big.sequences} sequences.`;
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        const result: ThroughputResult = { adapter: session.gpu?.adapter ?? null, hidden: p.H, length: p.T, work: p.work, repeats: p.repeats, rows: [] };
        const model = modelFromJSON(randomModel({ inputSize: 1, hiddenSize: p.H, outputSize: 1 }, 'tanh', 'last', 7));
        await session.exclusive(async () => {
          for (const N of p.sizes) {
            const batch = randomBatch({ count: N, inputSize: 1, outputSize: 1, output: 'last', minLength: p.T, seed: 11, withTargets: true });
            const steps = N * p.T;
            const opts = { gradients: p.work === 'bptt' };
            const gpu = session.gpu;
            let g: number | null = null;
            if (gpu) {
              status.info(`Measuring WebGPU at ${N} sequences…`);
              g = await measure(() => gpu.run(model, batch, opts), steps, p.repeats);
            }
            status.info(`Measuring the CPU reference at ${N} sequences…`);
            const c = await measure(() => session.cpu.run(model, batch, opts), steps, p.repeats);
            result.rows.push({ sequences: N, steps, gpu: g, cpu: c });
            show(result);
          }
        });
        publish(result);
        status.done(`Measured ${result.rows.length} batch sizes on ${result.adapter ? 'WebGPU and the CPU' : 'the CPU (no WebGPU)'}.`);
      });
    } finally {
      button.disabled = false;
    }
  }

  $<HTMLFormElement>('tp-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
