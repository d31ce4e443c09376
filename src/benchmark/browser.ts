// The benchmark in the browser (for the experiments page): the same workloads, measurement and report as
// `webgpu-rnn bench`, with our WebGPU engine (navigator.gpu) and the CPU reference, plus any peers the page adds
// (e.g. tfjs ones from bench/peers/browser.ts). Returns the report and its text and Markdown forms.

import { formatMarkdown, formatText } from './format.ts';
import { CpuRefPeer, WebGpuPeer, type Peer } from './peer.ts';
import { runBench, type BenchReport, type CellResult } from './run.ts';
import { parseWorkloads, type Phase } from './workloads.ts';

/** The peers the in-browser benchmark (`bench --browser`) offers beside our engine. */
export const BROWSER_PEER_IDS = ['cpu-ref', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu', 'ort-webgpu'] as const;

export interface BrowserBenchOptions {
  /** Workload ids (default ['seed', 'h16']). */
  workloads?: string[];
  /** Sequences (default 16,384) and steps (default 64). */
  N?: number;
  T?: number;
  /** Timed runs after the warm-up (default 3). */
  repeats?: number;
  /** Seconds per peer and cell before a cut-off (default 10). */
  budgetSeconds?: number;
  phases?: Phase[];
  /** Run the float64 CPU reference as a peer (default true). It blocks the page's main thread while it runs. */
  cpuReference?: boolean;
  /** More peers, e.g. `await browserTfjsPeers(['cpu', 'webgpu'])` from bench/peers/browser.ts. */
  peers?: Peer[];
  /** A device to use instead of requesting one. */
  device?: GPUDevice;
  /** Skip the copy-bandwidth probes. */
  noProbes?: boolean;
  /** Called after each peer × workload × phase cell. */
  onCell?: (cell: CellResult) => void;
}

/** Runs the benchmark in this browser tab. Throws an InputError for an unknown workload or non-positive sizes. */
export async function runBrowserBench(
  o: BrowserBenchOptions = {},
): Promise<{ report: BenchReport; text: string; markdown: string }> {
  const workloads = parseWorkloads((o.workloads ?? ['seed', 'h16']).join(','));
  const N = o.N ?? 16_384;
  const T = o.T ?? 64;
  const repeats = o.repeats ?? 3;
  const budgetSeconds = o.budgetSeconds ?? 10;
  for (const [k, v] of Object.entries({ N, T, repeats }))
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  if (!(budgetSeconds > 0)) throw new RangeError(`budgetSeconds must be positive, got ${budgetSeconds}`);
  const peers: Peer[] = [new WebGpuPeer('webgpu', undefined, o.device)];
  if (o.cpuReference ?? true) peers.push(new CpuRefPeer());
  peers.push(...(o.peers ?? []));
  const nav = (
    globalThis as {
      navigator?: { hardwareConcurrency?: number; userAgent?: string; deviceMemory?: number; platform?: string };
    }
  ).navigator;
  const machine = {
    cpu: nav?.userAgent ?? 'unknown browser',
    cores: nav?.hardwareConcurrency ?? 0,
    memoryBytes: nav?.deviceMemory ? nav.deviceMemory * 2 ** 30 : null,
    platform: nav?.platform ?? 'browser',
  };
  const report = await runBench(
    { workloads, N, T, repeats, budgetSeconds, phases: o.phases, noProbes: o.noProbes },
    peers,
    { machine, versions: { browser: nav?.userAgent ?? 'unknown' } },
    { onCell: o.onCell },
  );
  const command = `runBrowserBench(${JSON.stringify({ workloads: workloads.map((w) => w.id), N, T, repeats, budgetSeconds })})`;
  return { report, text: formatText(report), markdown: formatMarkdown(report, command) };
}
