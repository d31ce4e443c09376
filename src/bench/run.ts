// The benchmark driver (browser-safe): runs every peer on every workload and phase, checks each peer's loss and
// gradients against ours on the same weights and data, probes bandwidth, and returns one JSON-able report.

import type { Batch } from '../batch.ts';
import { paramLayout, PARAM_NAMES, type ModelJSON } from '../model.ts';
import { adapterIdentity, isSoftwareAdapter, knownPeak, type AdapterIdentity, type AdapterPeak } from './adapters.ts';
import { measure, type Measurement, type Summary } from './measure.ts';
import type { Peer, PeerRun } from './peer.ts';
import { cpuCopyProbe, gpuCopyProbe, type CopyProbe } from './probes.ts';
import { COST_FORMULAS, PHASES, stepCost, workloadBatch, workloadModel, type Phase, type Workload } from './workloads.ts';

export const REPORT_SCHEMA = 'webgpu-rnn-bench/1';

export interface BenchConfig {
  workloads: Workload[];
  N: number;
  T: number;
  /** Several (N, T) sizes, e.g. for the sweep; default [[N, T]]. */
  sizes?: [number, number][];
  repeats: number;
  /** Seconds each peer may spend on each workload and phase. */
  budgetSeconds: number;
  phases?: Phase[];
  quick?: boolean;
  /** Skip the bandwidth probes. */
  noProbes?: boolean;
  /** Bytes for the GPU copy probe (default 256 MiB, capped by the device limits). */
  probeBytes?: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number | null;
  platform: string;
}

export interface PeerStatus {
  id: string;
  label: string;
  ours: boolean;
  status: 'ok' | 'unavailable';
  detail: string;
  reason?: string;
}

/** A peer's loss and gradients beside ours on the same weights and data. */
export interface AgreementCheck {
  /** The peer the values are compared with (ours, or the CPU reference when WebGPU is unavailable). */
  against: string;
  /** Batch size of the compared runs (the calibration size for a cut-off peer). */
  N: number;
  loss: number;
  referenceLoss: number;
  /** |loss − reference| / max(|loss|, |reference|). */
  lossRelDiff: number;
  /** Largest over gradient blocks of max|g − g_ref| / max|g_ref| in that block; null for the forward phase. */
  gradsRelDiff: number | null;
  tolerance: number;
  ok: boolean;
}

export type CellStatus = 'ok' | 'cut-off' | 'failed' | 'unsupported' | 'unavailable';

export interface CellResult {
  workload: string;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  activation: string;
  N: number;
  T: number;
  phase: Phase;
  flopsPerStep: number;
  bytesPerStep: number;
  peer: string;
  status: CellStatus;
  reason?: string;
  /** Wall-clock seconds per run (upload, compute and readback). */
  wallSeconds: Summary | null;
  /** GPU seconds per run from timestamp queries (compute passes only). */
  gpuSeconds: Summary | null;
  /** Sequence-steps per second from the median wall time. */
  stepsPerSecond: number | null;
  /** Sequence-steps per second from the median GPU time. */
  gpuStepsPerSecond: number | null;
  /** For a cut-off cell: the rate its calibration implies at full size. */
  estimatedStepsPerSecond: number | null;
  /** Achieved rates from the median wall time, and from the GPU time where there is one. */
  gflops: number | null;
  gbps: number | null;
  gpuGflops: number | null;
  gpuGbps: number | null;
  /** Fractions of the adapter's known peak (ours only, from GPU time if timed, else wall). */
  fractionOfPeakBandwidth: number | null;
  fractionOfPeakFlops: number | null;
  calibration: Measurement['calibration'];
  loss: number | null;
  check: AgreementCheck | null;
  elapsedSeconds: number;
  /** The peer's first run on this cell (compilation, allocation), excluded from the budget. */
  firstRunSeconds: number | null;
  /** Whether a warm-up run preceded the timed runs at full size (calibration always warms up first). */
  fullSizeWarmUp: boolean;
}

export interface TargetCheck {
  target: string;
  workload: string;
  phase: Phase;
  peer: string;
  required: number;
  /** Our rate / the peer's (or estimated) rate; null when it could not be measured. */
  ratio: number | null;
  estimated: boolean;
  /** The issue's sizes (N=65,536, T=64) or others. */
  atIssueSize: boolean;
  met: boolean | null;
  note?: string;
}

export interface BenchReport {
  schema: string;
  date: string;
  config: { workloads: string[]; N: number; T: number; sizes: [number, number][]; repeats: number; budgetSeconds: number; phases: Phase[]; quick: boolean };
  machine: MachineInfo;
  adapter: (AdapterIdentity & { summary: string; timestampQuery: boolean; software: boolean; peak: AdapterPeak | null }) | null;
  versions: Record<string, string>;
  formulas: string[];
  probes: { gpuCopy: CopyProbe | null; gpuCopyError?: string; cpuCopy: { bytes: number; GBps: Summary } | null };
  peers: PeerStatus[];
  results: CellResult[];
  targets: TargetCheck[];
}

export interface BenchHooks {
  /** Called after each cell, e.g. to print progress. */
  onCell?(cell: CellResult): void;
  onNote?(text: string): void;
}

/** Relative tolerance of the peer check: float32 sums over N·T terms in every peer. */
export const CHECK_TOLERANCE = 1e-3;

function compare(model: ModelJSON, run: PeerRun, ref: PeerRun, against: string, N: number): AgreementCheck {
  const scale = Math.max(Math.abs(run.loss), Math.abs(ref.loss));
  const lossRelDiff = scale === 0 ? 0 : Math.abs(run.loss - ref.loss) / scale;
  let gradsRelDiff: number | null = null;
  if (run.grads && ref.grads) {
    gradsRelDiff = 0;
    const layout = paramLayout(model);
    for (const name of PARAM_NAMES) {
      const b = layout.blocks[name];
      let maxRef = 0;
      let maxDiff = 0;
      for (let k = b.offset; k < b.offset + b.size; k++) {
        maxRef = Math.max(maxRef, Math.abs(ref.grads[k]));
        maxDiff = Math.max(maxDiff, Math.abs(run.grads[k] - ref.grads[k]));
      }
      const rel = maxRef === 0 ? (maxDiff === 0 ? 0 : Infinity) : maxDiff / maxRef;
      gradsRelDiff = Math.max(gradsRelDiff, Number.isNaN(maxDiff) ? Infinity : rel);
    }
  } else if (ref.grads && !run.grads) gradsRelDiff = Infinity;
  const ok = lossRelDiff <= CHECK_TOLERANCE && (gradsRelDiff === null || gradsRelDiff <= CHECK_TOLERANCE);
  return { against, N, loss: run.loss, referenceLoss: ref.loss, lossRelDiff, gradsRelDiff, tolerance: CHECK_TOLERANCE, ok };
}

/** Runs the benchmark. `peers` are initialised here; one that fails to load is reported unavailable. */
export async function runBench(
  config: BenchConfig,
  peers: Peer[],
  env: { machine: MachineInfo; versions: Record<string, string>; unavailable?: PeerStatus[] },
  hooks: BenchHooks = {},
): Promise<BenchReport> {
  const phases = config.phases ?? [...PHASES];
  const statuses: PeerStatus[] = [...(env.unavailable ?? [])];
  const live: Peer[] = [];
  for (const p of peers) {
    try {
      await p.init();
      live.push(p);
      statuses.push({ id: p.id, label: p.label, ours: p.ours, status: 'ok', detail: p.detail });
    } catch (e) {
      statuses.push({ id: p.id, label: p.label, ours: p.ours, status: 'unavailable', detail: p.detail, reason: (e as Error).message });
      hooks.onNote?.(`${p.id}: unavailable: ${(e as Error).message}`);
    }
  }
  const ours = live.find((p) => p.ours) ?? null;
  const cpuRef = live.find((p) => p.id === 'cpu-ref') ?? null;

  // Adapter and probes (from our engine's device).
  const device = (ours as { engine?: { device: GPUDevice | null } } | null)?.engine?.device ?? null;
  let adapter: BenchReport['adapter'] = null;
  const probes: BenchReport['probes'] = { gpuCopy: null, cpuCopy: null };
  if (device) {
    const id = adapterIdentity(device.adapterInfo);
    adapter = { ...id, summary: ours!.detail, timestampQuery: device.features.has('timestamp-query'), software: isSoftwareAdapter(id), peak: knownPeak(id) };
  }
  if (!config.noProbes) {
    if (device) {
      try {
        probes.gpuCopy = await gpuCopyProbe(device, config.probeBytes ?? (config.quick ? 16 * 2 ** 20 : 256 * 2 ** 20), config.quick ? 2 : 5);
      } catch (e) {
        probes.gpuCopyError = (e as Error).message;
      }
    }
    if (!device || adapter?.software) probes.cpuCopy = cpuCopyProbe(config.quick ? 16 * 2 ** 20 : 128 * 2 ** 20, config.quick ? 2 : 5);
  }

  const results: CellResult[] = [];
  for (const w of config.workloads) {
    const model = workloadModel(w);
    for (const [N, T] of config.sizes ?? [[config.N, config.T]]) {
      const batches = new Map<number, Batch>();
      const batchOf = (n: number): Batch => {
        let b = batches.get(n);
        if (!b) batches.set(n, (b = workloadBatch(w, n, T)));
        return b;
      };
      // Checks compare with ours, or with the CPU reference where ours cannot run the workload.
      const reference = [ours, cpuRef].find((p) => p && !p.unsupported?.(model, 'gradient', N, T)) ?? null;
      for (const phase of phases) {
        const cost = stepCost(w, T, phase);
        const refRuns = new Map<number, PeerRun>();
        for (const p of live) {
          const cell: CellResult = {
            workload: w.id,
            inputSize: w.inputSize,
            hiddenSize: w.hiddenSize,
            outputSize: w.outputSize,
            activation: w.activation,
            N: N,
            T: T,
            phase,
            flopsPerStep: cost.flops,
            bytesPerStep: cost.bytes,
            peer: p.id,
            status: 'ok',
            wallSeconds: null,
            gpuSeconds: null,
            stepsPerSecond: null,
            gpuStepsPerSecond: null,
            estimatedStepsPerSecond: null,
            gflops: null,
            gbps: null,
            gpuGflops: null,
            gpuGbps: null,
            fractionOfPeakBandwidth: null,
            fractionOfPeakFlops: null,
            calibration: null,
            loss: null,
            check: null,
            elapsedSeconds: 0,
            firstRunSeconds: null,
            fullSizeWarmUp: false,
          };
          const why = p.unsupported?.(model, phase, N, T) ?? null;
          if (why) {
            cell.status = 'unsupported';
            cell.reason = why;
          } else {
            const m = await measure(p, model, batchOf, phase, { N: N, T: T, repeats: config.repeats, budgetSeconds: config.budgetSeconds });
            cell.status = m.status;
            cell.reason = m.reason;
            cell.wallSeconds = m.wall;
            cell.gpuSeconds = m.gpu;
            cell.calibration = m.calibration;
            cell.elapsedSeconds = m.elapsedSeconds;
            cell.firstRunSeconds = m.firstRunSeconds;
            cell.fullSizeWarmUp = m.fullSizeWarmUp;
            const steps = N * T;
            if (m.wall) {
              cell.stepsPerSecond = steps / m.wall.median;
              cell.gflops = (cell.stepsPerSecond * cost.flops) / 1e9;
              cell.gbps = (cell.stepsPerSecond * cost.bytes) / 1e9;
            }
            if (m.gpu && m.gpu.median > 0) {
              cell.gpuStepsPerSecond = steps / m.gpu.median;
              cell.gpuGflops = (cell.gpuStepsPerSecond * cost.flops) / 1e9;
              cell.gpuGbps = (cell.gpuStepsPerSecond * cost.bytes) / 1e9;
            }
            if (m.calibration && m.status === 'cut-off') cell.estimatedStepsPerSecond = steps / m.calibration.estimatedSeconds;
            const peak = adapter?.peak;
            if (peak && p.ours) {
              const gbps = cell.gpuGbps ?? cell.gbps;
              const gflops = cell.gpuGflops ?? cell.gflops;
              if (gbps !== null) cell.fractionOfPeakBandwidth = gbps / peak.bandwidthGBps;
              if (gflops !== null) cell.fractionOfPeakFlops = gflops / peak.fp32Gflops;
            }
            const run = m.last ?? m.calibrationRun;
            cell.loss = m.last?.loss ?? null;
            if (p === reference && m.last) refRuns.set(N, m.last);
            if (run && reference && p !== reference) {
              const n = m.last ? N : m.calibration!.N;
              let ref = refRuns.get(n);
              if (!ref) {
                try {
                  const prepared = await reference.prepare(model, batchOf(n), phase);
                  ref = await prepared.run();
                  prepared.dispose();
                  refRuns.set(n, ref);
                } catch (e) {
                  hooks.onNote?.(`${reference.id} failed at N=${n} for the check of ${p.id}: ${(e as Error).message}`);
                }
              }
              if (ref) cell.check = compare(model, run, ref, reference.id, n);
            }
          }
          results.push(cell);
          hooks.onCell?.(cell);
        }
      }
      batches.clear();
    }
  }
  for (const p of live) p.dispose();

  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    date: new Date().toISOString(),
    config: { workloads: config.workloads.map((w) => w.id), N: config.N, T: config.T, sizes: config.sizes ?? [[config.N, config.T]], repeats: config.repeats, budgetSeconds: config.budgetSeconds, phases, quick: !!config.quick },
    machine: env.machine,
    adapter,
    versions: env.versions,
    formulas: COST_FORMULAS,
    probes,
    peers: statuses,
    results,
    targets: [],
  };
  report.targets = evaluateTargets(report);
  return report;
}

/** Our rate over a peer's, for one workload and phase; estimated when the peer was cut off. */
export function ratioTo(report: BenchReport, workload: string, phase: Phase, peer: string, ours = 'webgpu'): { ratio: number | null; estimated: boolean } {
  const a = report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === ours);
  const b = report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === peer);
  if (!a?.stepsPerSecond || !b) return { ratio: null, estimated: false };
  if (b.stepsPerSecond) return { ratio: a.stepsPerSecond / b.stepsPerSecond, estimated: false };
  if (b.estimatedStepsPerSecond) return { ratio: a.stepsPerSecond / b.estimatedStepsPerSecond, estimated: true };
  return { ratio: null, estimated: false };
}

/** The issue's targets, evaluated on this run (wall-time rates). */
export function evaluateTargets(report: BenchReport): TargetCheck[] {
  const atIssueSize = report.config.N === 65_536 && report.config.T === 64;
  const specs: [string, string, Phase, string, number][] = [
    ['H=1 forward+gradient ≥ 300× tfjs-cpu', 'seed', 'gradient', 'tfjs-cpu', 300],
    ['H=1 forward+gradient ≥ 1000× tfjs-webgpu (same adapter)', 'seed', 'gradient', 'tfjs-webgpu', 1000],
    ['H=1 forward+gradient ≥ 1× our CPU reference', 'seed', 'gradient', 'cpu-ref', 1],
    ['H=64 forward+gradient ≥ 10× tfjs-cpu', 'h64', 'gradient', 'tfjs-cpu', 10],
  ];
  const out: TargetCheck[] = [];
  for (const [target, workload, phase, peer, required] of specs) {
    if (!report.config.workloads.includes(workload) || !report.config.phases.includes(phase)) continue;
    const { ratio, estimated } = ratioTo(report, workload, phase, peer);
    const cell = report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === peer);
    const oursCell = report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === 'webgpu');
    let note: string | undefined;
    if (ratio === null) note = !cell ? `${peer} did not run` : !oursCell?.stepsPerSecond ? `webgpu: ${oursCell?.reason ?? oursCell?.status ?? 'not run'}` : `${peer}: ${cell.reason ?? cell.status}`;
    else if (estimated) note = `${peer} was cut off; its rate is the calibration's estimate`;
    // A cut-off peer's estimate is an upper bound on its rate only approximately: say "met" only on measured ratios
    // or when the estimated ratio clears the target.
    out.push({ target, workload, phase, peer, required, ratio, estimated, atIssueSize, met: ratio === null ? null : ratio >= required, note });
  }
  const fwd = report.results.find((r) => r.workload === 'seed' && r.phase === 'forward' && r.peer === 'webgpu');
  if (fwd && report.config.workloads.includes('seed')) {
    const peak = report.adapter?.peak;
    out.push({
      target: 'H=1 forward ≥ 50% of the adapter memory bandwidth (real GPU)',
      workload: 'seed',
      phase: 'forward',
      peer: 'hardware',
      required: 0.5,
      ratio: fwd.fractionOfPeakBandwidth,
      estimated: false,
      atIssueSize,
      met: fwd.fractionOfPeakBandwidth === null ? null : fwd.fractionOfPeakBandwidth >= 0.5,
      note: peak ? `peak ${peak.bandwidthGBps} GB/s (${peak.name})` : report.adapter?.software ? 'software adapter: no GPU memory bandwidth to reach' : 'adapter not in the table of known peaks',
    });
  }
  return out;
}
