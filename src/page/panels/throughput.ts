// Panel "Throughput": the benchmark's browser runner (src/benchmark `runBrowserBench`) at each chosen batch size: our
// WebGPU engine and the float64 CPU reference on the same workload, sequence-steps/s from the median wall time
// (and from timestamp-query GPU time) with the spread of the repeats, the ratio, achieved GB/s and GFLOP/s, and
// the share of the adapter's peak where the adapter's peak is known. A software adapter is named as one. Chart
// (uPlot, log axes, ticks at the measured sizes), table and a text summary.

import { runBrowserBench } from '../../benchmark/browser.ts';
import type { BenchReport, CellResult } from '../../benchmark/run.ts';
import type { Phase } from '../../benchmark/workloads.ts';
import { lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import { workerCpuRefPeer } from '../engine-client.ts';
import {
  $,
  clearMarksOnEdit,
  FieldError,
  fillTable,
  rate,
  readList,
  readNumber,
  StatusLine,
  softwareAdapter,
  timeLeftText,
} from '../ui.ts';

export interface ThroughputRow {
  sequences: number;
  steps: number;
  /** WebGPU sequence-steps/s from the median wall time; null where WebGPU did not run. */
  gpu: number | null;
  /** The same from timestamp-query GPU time, where the adapter has it. */
  gpuTimed: number | null;
  cpu: number | null;
  gbps: number | null;
  gflops: number | null;
  /** Share of the adapter's known peak bandwidth (null when the peak is not known). */
  shareOfPeak: number | null;
  /** The WebGPU loss agrees with the CPU reference (the benchmark's check), or null without a check. */
  agrees: boolean | null;
  /** The slowest and fastest of the timed repeats (sequence-steps/s from the longest and shortest wall time). */
  gpuRange: [number, number] | null;
  cpuRange: [number, number] | null;
  /** Timed repeats behind each median. */
  gpuRuns: number;
  cpuRuns: number;
}

export interface ThroughputResult {
  adapter: string | null;
  workload: string;
  length: number;
  phase: Phase;
  repeats: number;
  rows: ThroughputRow[];
  /** Copy-bandwidth probe of the adapter, GB/s (median), when measured. */
  probeGBps: number | null;
  /** How the CPU reference ran (the benchmark's peer detail: in the page's worker, or on the main thread without one). */
  cpuDetail: string | null;
  peakKnown: boolean;
  /** A software adapter named as one (`SwiftShader: WebGPU emulated on the CPU`), or null. */
  software: string | null;
  /** Stopped before every batch size was measured. */
  aborted: boolean;
}

const MAX_STEPS = 8_000_000;

export function initThroughput(session: Session, publish: (r: ThroughputResult) => void): { run: () => Promise<void> } {
  const section = $('throughput');
  const status = new StatusLine($('tp-status'));
  const button = $<HTMLButtonElement>('tp-run');
  const stopButton = $<HTMLButtonElement>('tp-stop');
  const progress = $<HTMLProgressElement>('tp-progress');
  const progressText = $('tp-progress-text');
  let controller: AbortController | null = null;

  function read() {
    const sizesField = $<HTMLInputElement>('tp-sizes');
    const sizes = readList(sizesField, { min: 1, max: 1_000_000, integer: true }, 8);
    const T = readNumber($<HTMLInputElement>('tp-t'), { min: 1, max: 1024, integer: true });
    const repeats = readNumber($<HTMLInputElement>('tp-reps'), { min: 1, max: 20, integer: true });
    const budget = readNumber($<HTMLInputElement>('tp-budget'), { min: 0.5, max: 120 });
    const biggest = Math.max(...sizes);
    if (biggest * T > MAX_STEPS)
      throw new FieldError(
        sizesField,
        `Batch sizes: ${biggest} × ${T} steps is more than this page measures (${MAX_STEPS / 1e6} M steps)`,
      );
    return {
      sizes: [...new Set(sizes)].sort((a, b) => a - b),
      T,
      repeats,
      budget,
      workload: $<HTMLSelectElement>('tp-workload').value,
      phase: $<HTMLSelectElement>('tp-work').value as Phase,
      probe: $<HTMLInputElement>('tp-probe').checked,
    };
  }

  function rowOf(N: number, T: number, cells: CellResult[]): ThroughputRow {
    const gpu = cells.find((c) => c.peer === 'webgpu' && c.status === 'ok');
    const cpu = cells.find((c) => c.peer === 'cpu-ref' && c.status === 'ok');
    return {
      sequences: N,
      steps: N * T,
      gpu: gpu?.stepsPerSecond ?? null,
      gpuTimed: gpu?.gpuStepsPerSecond ?? null,
      cpu: cpu?.stepsPerSecond ?? null,
      gbps: gpu?.gpuGbps ?? gpu?.gbps ?? null,
      gflops: gpu?.gpuGflops ?? gpu?.gflops ?? null,
      shareOfPeak: gpu?.fractionOfPeakBandwidth ?? null,
      // The benchmark checks every other peer's loss against ours (WebGPU): the CPU reference's check says whether they agree.
      agrees: gpu && cpu?.check ? cpu.check.ok : null,
      gpuRange: range(gpu),
      cpuRange: range(cpu),
      gpuRuns: gpu?.wallSeconds?.runs ?? 0,
      cpuRuns: cpu?.wallSeconds?.runs ?? 0,
    };
  }

  /** Sequence-steps/s of the slowest and the fastest timed repeat. */
  function range(c: CellResult | undefined): [number, number] | null {
    const w = c?.wallSeconds;
    if (!c || !w || !(w.min > 0)) return null;
    const work = c.N * c.T;
    return [work / w.max, work / w.min];
  }

  function show(r: ThroughputResult): void {
    const xs = r.rows.map((x) => x.sequences);
    const series: { label: string; points: boolean; dash?: number[] }[] = [];
    const data: (number | null)[][] = [xs];
    if (r.rows.some((x) => x.gpu !== null)) {
      series.push({ label: 'WebGPU (wall time)', points: true });
      data.push(r.rows.map((x) => x.gpu));
    }
    if (r.rows.some((x) => x.gpuTimed !== null)) {
      series.push({ label: 'WebGPU (GPU time)', points: true, dash: [6, 4] });
      data.push(r.rows.map((x) => x.gpuTimed));
    }
    series.push({ label: 'CPU reference (float64 JS)', points: true });
    data.push(r.rows.map((x) => x.cpu));
    lineChart(
      $('tp-chart'),
      {
        xLabel: 'sequences in the batch',
        yLabel: 'sequence-steps/s',
        logX: true,
        logY: true,
        series,
        xTicks: xs,
      },
      data as never,
    );
    const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);
    // The median with the slowest and fastest repeat: `1.2 M (0.9 M–1.4 M, 3 runs)`.
    const spread = (v: number | null, rg: [number, number] | null, runs: number): string =>
      v === null ? '—' : rg && runs > 1 ? `${rate(v)} (${rate(rg[0])}–${rate(rg[1])}, ${runs} runs)` : rate(v);
    const ratio = (x: ThroughputRow): string => {
      if (x.gpu === null || !x.cpu) return '—';
      const mid = `${(x.gpu / x.cpu).toFixed(2)}×`;
      if (!x.gpuRange || !x.cpuRange || (x.gpuRuns < 2 && x.cpuRuns < 2)) return mid;
      return `${mid} (${(x.gpuRange[0] / x.cpuRange[1]).toFixed(2)}–${(x.gpuRange[1] / x.cpuRange[0]).toFixed(2)}×)`;
    };
    // A share of the peak only where the adapter's peak is known: no column of "unknown".
    fillTable(
      $<HTMLTableElement>('tp-table'),
      [
        'sequences',
        'WebGPU steps/s (wall)',
        'WebGPU steps/s (GPU time)',
        'CPU steps/s',
        'WebGPU / CPU',
        'GB/s',
        'GFLOP/s',
        ...(r.peakKnown ? ['share of peak bandwidth'] : []),
        'loss agrees',
      ],
      r.rows.map((x) => [
        x.sequences,
        spread(x.gpu, x.gpuRange, x.gpuRuns),
        rate(x.gpuTimed ?? NaN),
        spread(x.cpu, x.cpuRange, x.cpuRuns),
        ratio(x),
        x.gbps === null ? '—' : x.gbps.toFixed(2),
        x.gflops === null ? '—' : x.gflops.toFixed(2),
        ...(r.peakKnown ? [pct(x.shareOfPeak)] : []),
        x.agrees === null ? '—' : x.agrees ? 'yes' : 'NO',
      ]),
      `${r.software ? `${r.software}: these are CPU timings, not a GPU's; ` : ''}workload ${r.workload}, T = ${r.length}, ${r.phase === 'gradient' ? 'forward + BPTT + reduction' : 'forward'}, median of ${r.repeats} after a warm-up${r.repeats > 1 ? ', in brackets the slowest and fastest repeat' : ''}` +
        (r.probeGBps !== null ? `; copy probe on this adapter: ${r.probeGBps.toFixed(1)} GB/s` : ''),
    );
    const big = r.rows[r.rows.length - 1];
    $('tp-summary').textContent =
      big.gpu !== null && big.cpu
        ? `At ${big.sequences} sequences WebGPU ran ${rate(big.gpu)} sequence-steps/s (wall time) and the CPU reference ${rate(big.cpu)}: ${(big.gpu / big.cpu).toFixed(2)}× the CPU. ` +
          `Across the sizes the ratio goes from ${r.rows[0].gpu && r.rows[0].cpu ? (r.rows[0].gpu / r.rows[0].cpu).toFixed(2) : '—'}× to ${(big.gpu / big.cpu).toFixed(2)}×.` +
          (r.software
            ? ` The adapter is ${r.software}: the "WebGPU" figures time a CPU emulating a GPU, sharing the cores with the CPU reference, so their ratio says little about a GPU.`
            : '') +
          (r.peakKnown
            ? ''
            : ' The adapter reports no peak bandwidth (it is not in the table of known peaks), so no share of the peak is given.')
        : `No WebGPU here: the CPU reference ran ${rate(big.cpu ?? NaN)} sequence-steps/s at ${big.sequences} sequences.`;
  }

  async function run(): Promise<void> {
    if (controller) return;
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        controller = new AbortController();
        const signal = controller.signal;
        stopButton.disabled = false;
        progress.value = 0;
        progressText.textContent = '';
        const result: ThroughputResult = {
          adapter: null,
          workload: p.workload,
          length: p.T,
          phase: p.phase,
          repeats: p.repeats,
          rows: [],
          probeGBps: null,
          peakKnown: false,
          software: softwareAdapter(session.gpu?.adapter),
          cpuDetail: null,
          aborted: false,
        };
        // Work of each size in sequence-steps: the time left is estimated from the time per sequence-step so far.
        const total = p.sizes.reduce((a, n) => a + n, 0);
        let done = 0;
        await session.exclusive(
          async () => {
            const t0 = performance.now();
            for (const [k, N] of p.sizes.entries()) {
              if (signal.aborted) {
                result.aborted = true;
                break;
              }
              status.info(`Measuring ${N} sequences (${k + 1} of ${p.sizes.length})…`);
              progressText.textContent = `${k} of ${p.sizes.length} sizes, ${k === 0 ? 'estimating the time left…' : timeLeftText(done, total, (performance.now() - t0) / 1000)}; Stop ends after the size being measured`;
              const gpu = session.gpu;
              const { report }: { report: BenchReport } = await runBrowserBench({
                workloads: [p.workload],
                N,
                T: p.T,
                repeats: p.repeats,
                budgetSeconds: p.budget,
                phases: [p.phase],
                // Our engine's device; without one (no WebGPU, or the page left it) only the CPU reference runs.
                device: gpu?.device ?? undefined,
                noProbes: !(p.probe && k === 0),
                // The float64 reference runs in the CPU worker, so the page stays responsive while it is measured.
                cpuReference: false,
                peers: [workerCpuRefPeer()],
              });
              if (!gpu) report.results = report.results.filter((c) => c.peer !== 'webgpu');
              result.adapter = gpu ? (report.adapter?.summary ?? gpu.adapter) : null;
              result.peakKnown = !!report.adapter?.peak;
              result.software = gpu ? softwareAdapter(`${result.adapter ?? ''} ${gpu.adapter}`) : null;
              result.cpuDetail = report.peers.find((x) => x.id === 'cpu-ref')?.detail ?? null;
              if (k === 0 && report.probes.gpuCopy)
                result.probeGBps = report.probes.gpuCopy.gpuGBps?.median ?? report.probes.gpuCopy.wallGBps.median;
              result.rows.push(rowOf(N, p.T, report.results));
              done += N;
              progress.value = done / total;
              progressText.textContent = `${k + 1} of ${p.sizes.length} sizes${k + 1 < p.sizes.length ? `, ${timeLeftText(done, total, (performance.now() - t0) / 1000)}` : ''}`;
              show(result);
              // Let the page paint (and take a click on Stop) between sizes.
              await new Promise((res) => setTimeout(res, 0));
            }
          },
          { status, panel: 'Throughput' },
          // Its timings need the page otherwise idle: it waits for the runs of both lanes and holds both.
          'all',
        );
        if (result.rows.length === 0) {
          status.info('Stopped before the first batch size was measured.');
          return;
        }
        publish(result);
        const where = result.adapter ? 'WebGPU and the CPU reference' : 'the CPU reference (no WebGPU)';
        status.done(
          `${result.aborted ? 'Stopped: measured' : 'Measured'} ${result.rows.length} of ${p.sizes.length} batch sizes on ${where} with the benchmark's browser runner.`,
        );
      });
    } finally {
      controller = null;
      button.disabled = false;
      stopButton.disabled = true;
    }
  }

  clearMarksOnEdit(section);
  stopButton.addEventListener('click', () => controller?.abort());
  $<HTMLFormElement>('tp-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
