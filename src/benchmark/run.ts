// The benchmark driver (browser-safe): runs every peer on every workload and phase, checks each peer's loss and
// gradients against ours on the same weights and data, probes the adapter (copy bandwidth, multiply-add rate),
// reports every cell as a fraction of those probes, and evaluates the targets; returns one JSON-able report.

import type { Batch } from '../batch.ts';
import { paramLayout, paramNames, type ModelJSON } from '../model.ts';
import {
  adapterIdentity,
  adapterMismatch,
  isSoftwareAdapter,
  knownPeak,
  type AdapterChoice,
  type AdapterIdentity,
  type AdapterPeak,
} from './adapters.ts';
import { GpuError } from '../errors.ts';
import { measure, type Measurement, type Summary } from './measure.ts';
import type { Peer, PeerRun } from './peer.ts';
import { cpuCopyProbe, gpuCopyProbe, gpuFmaProbe, type CopyProbe, type FmaProbe } from './probes.ts';
import {
  COST_FORMULAS,
  PHASES,
  PHASE_NAME,
  stepCost,
  workloadBatch,
  workloadModel,
  type Phase,
  type Workload,
} from './workloads.ts';

export const REPORT_SCHEMA = 'webgpu-rnn-bench/2';

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
  /** Skip the copy and multiply-add probes. */
  noProbes?: boolean;
  /** Bytes for the GPU copy probe (default 256 MiB, capped by the device limits). */
  probeBytes?: number;
  /** The adapter asked for (`--adapter`): the run stops with an error when our engine got another one. */
  adapter?: AdapterChoice;
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
  /**
   * GFLOP/s ÷ the adapter's multiply-add probe and GB/s ÷ its copy probe (each probe in GPU time where timed).
   * The cell's rate is from GPU time where timed (ours), else its wall time (or the peer's own timing); for a
   * cut-off cell, from the calibration's estimate (see `probeFractionsEstimated`).
   */
  fractionOfFmaProbe: number | null;
  fractionOfCopyProbe: number | null;
  probeFractionsEstimated: boolean;
  /** Whether the rates of this cell come from GPU time (timestamp queries). */
  gpuTimed: boolean;
  /** The strategy the peer reported (ours: RunStats.strategy; torch-cpu: nn.RNN and its thread count). */
  strategy: string | null;
  /** Pipeline creation time of the cell's cold run (ours: RunStats.pipelineMilliseconds; null where not reported). */
  pipelineMilliseconds: number | null;
  calibration: Measurement['calibration'];
  loss: number | null;
  check: AgreementCheck | null;
  elapsedSeconds: number;
  /** The peer's first run on this cell (compilation, allocation), excluded from the budget. */
  firstRunSeconds: number | null;
  /** Whether a warm-up run preceded the timed runs at full size (calibration always warms up first). */
  fullSizeWarmUp: boolean;
}

export type TargetGroup = 'compute-bound' | 'memory-bound' | 'against peers' | 'real GPU' | 'compile time';

export interface TargetCheck {
  group: TargetGroup;
  target: string;
  workload: string | null;
  phase: Phase | null;
  /** The threshold: a fraction (of a probe or a peak), a ratio (ours ÷ a peer) or milliseconds (at most). */
  required: number;
  unit: 'fraction' | 'ratio' | 'ms';
  /** The figure of this run; null when it could not be measured (see note). */
  value: number | null;
  /** What the figure is relative to, e.g. `FMA probe 5.4 GFLOP/s (GPU time)` or `tfjs-wasm`. */
  against: string | null;
  /** True when a cut-off cell's calibration estimate went into the figure. */
  estimated: boolean;
  /** The target sizes (N=65,536, T=64) or others. */
  atTargetSize: boolean;
  met: boolean | null;
  note?: string;
}

export interface BenchReport {
  schema: string;
  date: string;
  config: {
    workloads: string[];
    N: number;
    T: number;
    sizes: [number, number][];
    repeats: number;
    budgetSeconds: number;
    phases: Phase[];
    quick: boolean;
    adapter: AdapterChoice;
  };
  machine: MachineInfo;
  adapter:
    | (AdapterIdentity & {
        summary: string;
        timestampQuery: boolean;
        software: boolean;
        peak: AdapterPeak | null;
        diskShaderCache?: boolean | null;
      })
    | null;
  versions: Record<string, string>;
  formulas: string[];
  probes: {
    gpuCopy: CopyProbe | null;
    gpuCopyError?: string;
    gpuFma: FmaProbe | null;
    gpuFmaError?: string;
    cpuCopy: { bytes: number; GBps: Summary } | null;
  };
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
    for (const name of paramNames(model)) {
      const b = layout.blocks[name]!;
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
  return {
    against,
    N,
    loss: run.loss,
    referenceLoss: ref.loss,
    lossRelDiff,
    gradsRelDiff,
    tolerance: CHECK_TOLERANCE,
    ok,
  };
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
      statuses.push({
        id: p.id,
        label: p.label,
        ours: p.ours,
        status: 'unavailable',
        detail: p.detail,
        reason: (e as Error).message,
      });
      hooks.onNote?.(`${p.id}: unavailable: ${(e as Error).message}`);
    }
  }
  const ours = live.find((p) => p.ours) ?? null;
  const cpuRef = live.find((p) => p.id === 'cpu-ref') ?? null;

  // Adapter and probes (from our engine's device).
  const device = (ours as { engine?: { device: GPUDevice | null } } | null)?.engine?.device ?? null;
  let adapter: BenchReport['adapter'] = null;
  const probes: BenchReport['probes'] = { gpuCopy: null, gpuFma: null, cpuCopy: null };
  if (device) {
    const id = adapterIdentity(device.adapterInfo);
    adapter = {
      ...id,
      summary: ours!.detail,
      timestampQuery: device.features.has('timestamp-query'),
      software: isSoftwareAdapter(id),
      peak: knownPeak(id),
      diskShaderCache: mesaDiskCache(ours!.detail),
    };
  }
  if (config.adapter && config.adapter !== 'auto') {
    const why = device
      ? adapterMismatch(config.adapter, adapter!)
      : `asked for the ${config.adapter} adapter but WebGPU is unavailable`;
    if (why) {
      for (const p of live) p.dispose();
      throw new GpuError(`--adapter ${config.adapter}: ${why}`);
    }
  }
  if (!config.noProbes) {
    if (device) {
      try {
        probes.gpuCopy = await gpuCopyProbe(
          device,
          config.probeBytes ?? (config.quick ? 16 * 2 ** 20 : 256 * 2 ** 20),
          config.quick ? 2 : 5,
        );
      } catch (e) {
        probes.gpuCopyError = (e as Error).message;
      }
      try {
        probes.gpuFma = await gpuFmaProbe(
          device,
          config.quick ? { invocations: [2 ** 14, 2 ** 16], targetSeconds: 0.05, repeats: 2 } : {},
        );
      } catch (e) {
        probes.gpuFmaError = (e as Error).message;
      }
    }
    if (!device || adapter?.software)
      probes.cpuCopy = cpuCopyProbe(config.quick ? 16 * 2 ** 20 : 128 * 2 ** 20, config.quick ? 2 : 5);
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
            fractionOfFmaProbe: null,
            fractionOfCopyProbe: null,
            probeFractionsEstimated: false,
            gpuTimed: false,
            strategy: null,
            pipelineMilliseconds: null,
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
            const m = await measure(p, model, batchOf, phase, {
              N: N,
              T: T,
              repeats: config.repeats,
              budgetSeconds: config.budgetSeconds,
            });
            cell.status = m.status;
            cell.reason = m.reason;
            cell.wallSeconds = m.wall;
            cell.gpuSeconds = m.gpu;
            cell.calibration = m.calibration;
            cell.elapsedSeconds = m.elapsedSeconds;
            cell.firstRunSeconds = m.firstRunSeconds;
            cell.fullSizeWarmUp = m.fullSizeWarmUp;
            cell.strategy = m.strategy;
            cell.pipelineMilliseconds = m.pipelineMilliseconds;
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
            if (m.calibration && m.status === 'cut-off')
              cell.estimatedStepsPerSecond = steps / m.calibration.estimatedSeconds;
            cell.gpuTimed = cell.gpuGflops !== null;
            const rate = cell.gpuStepsPerSecond ?? cell.stepsPerSecond ?? cell.estimatedStepsPerSecond;
            cell.probeFractionsEstimated = cell.stepsPerSecond === null && rate !== null;
            const fma = probeRate(probes.gpuFma);
            const copy = probeRate(probes.gpuCopy);
            if (rate !== null && fma) cell.fractionOfFmaProbe = (rate * cost.flops) / 1e9 / fma;
            if (rate !== null && copy) cell.fractionOfCopyProbe = (rate * cost.bytes) / 1e9 / copy;
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
    config: {
      workloads: config.workloads.map((w) => w.id),
      N: config.N,
      T: config.T,
      sizes: config.sizes ?? [[config.N, config.T]],
      repeats: config.repeats,
      budgetSeconds: config.budgetSeconds,
      phases,
      quick: !!config.quick,
      adapter: config.adapter ?? 'auto',
    },
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

/** A probe's rate: GPU time where timed, else wall. */
export function probeRate(p: CopyProbe | FmaProbe | null): number | null {
  if (!p) return null;
  return 'wallGBps' in p ? (p.gpuGBps ?? p.wallGBps).median : (p.gpuGflops ?? p.wallGflops).median;
}

/** A cell's wall-time rate (steps/s), or its calibration estimate when it was cut off. */
function cellRate(c: CellResult | undefined): { rate: number | null; estimated: boolean } {
  if (!c) return { rate: null, estimated: false };
  if (c.stepsPerSecond) return { rate: c.stepsPerSecond, estimated: false };
  if (c.estimatedStepsPerSecond) return { rate: c.estimatedStepsPerSecond, estimated: true };
  return { rate: null, estimated: false };
}

/** Our rate over a peer's, for one workload and phase; estimated when either was cut off. */
export function ratioTo(
  report: BenchReport,
  workload: string,
  phase: Phase,
  peer: string,
  ours = 'webgpu',
): { ratio: number | null; estimated: boolean } {
  const a = cellRate(report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === ours));
  const b = cellRate(report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === peer));
  if (a.rate === null || b.rate === null) return { ratio: null, estimated: false };
  return { ratio: a.rate / b.rate, estimated: a.estimated || b.estimated };
}

/** The CPU peers a target compares with: the fastest of these in the same run. */
export const CPU_PEERS = ['torch-cpu', 'ort-cpu', 'tfjs-wasm', 'tfjs-cpu'] as const;

/** Target workloads: H → the workload id that has it. */
const TARGET_WORKLOADS: [number, string][] = [
  [1, 'seed'],
  [16, 'h16'],
  [64, 'h64'],
  [256, 'h256'],
];

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}

/** The targets, evaluated on this run: met, missed or not measurable (null), each with its figure. */
export function evaluateTargets(report: BenchReport): TargetCheck[] {
  const atTargetSize = report.config.N === 65_536 && report.config.T === 64;
  const out: TargetCheck[] = [];
  const ours = (workload: string, phase: Phase): CellResult | undefined =>
    report.results.find((r) => r.workload === workload && r.phase === phase && r.peer === 'webgpu');
  const ran = (workload: string, phase: Phase): boolean =>
    report.config.workloads.includes(workload) && report.config.phases.includes(phase);
  const whyNot = (c: CellResult | undefined, workload: string, phase: Phase): string =>
    !ran(workload, phase)
      ? `${workload} ${phase} not in this run`
      : !c
        ? 'webgpu did not run'
        : `webgpu: ${c.reason ?? c.status}`;
  const push = (t: Omit<TargetCheck, 'atTargetSize' | 'met'> & { met?: boolean | null }): void => {
    const met =
      t.met !== undefined
        ? t.met
        : t.value === null
          ? null
          : t.unit === 'ms'
            ? t.value < t.required
            : t.value >= t.required;
    out.push({ ...t, atTargetSize, met });
  };
  const sw = report.adapter?.software ?? false;

  // Compute-bound: forward+gradient at H = 64 and 256 against the multiply-add probe.
  const fma = report.probes.gpuFma;
  const fmaRate = probeRate(fma);
  const fmaText = fma
    ? `FMA probe ${fmaRate!.toFixed(fmaRate! >= 100 ? 0 : 2)} GFLOP/s (${fma.gpuGflops ? 'GPU time' : 'wall'})`
    : null;
  for (const [H, w] of TARGET_WORKLOADS.filter(([H]) => H >= 64)) {
    const c = ours(w, 'gradient');
    const value = c?.fractionOfFmaProbe ?? null;
    push({
      group: 'compute-bound',
      target: `H=${H} forward+gradient ≥ 50% of the adapter's FMA probe`,
      workload: w,
      phase: 'gradient',
      required: 0.5,
      unit: 'fraction',
      value,
      against: fmaText,
      estimated: !!c?.probeFractionsEstimated,
      note: !fma
        ? `no FMA probe${report.probes.gpuFmaError ? `: ${report.probes.gpuFmaError}` : ''}`
        : value === null
          ? whyNot(c, w, 'gradient')
          : c?.probeFractionsEstimated
            ? 'webgpu was cut off; its rate is the calibration estimate (wall time)'
            : undefined,
    });
  }

  // Memory-bound: H = 1 forward against the copy probe, both in GPU time.
  {
    const copy = report.probes.gpuCopy;
    const c = ours('seed', 'forward');
    const value = c?.gpuGbps != null && copy?.gpuGBps ? c.gpuGbps / copy.gpuGBps.median : null;
    push({
      group: 'memory-bound',
      target: "H=1 forward ≥ 50% of the adapter's copy probe (GPU time)",
      workload: 'seed',
      phase: 'forward',
      required: 0.5,
      unit: 'fraction',
      value,
      against: copy?.gpuGBps ? `copy probe ${copy.gpuGBps.median.toFixed(2)} GB/s (GPU time)` : null,
      estimated: false,
      note: !copy
        ? `no copy probe${report.probes.gpuCopyError ? `: ${report.probes.gpuCopyError}` : ''}`
        : !copy.gpuGBps
          ? 'no timestamp-query on this adapter: no GPU time'
          : value === null
            ? c?.status === 'ok'
              ? 'webgpu run not timed on the GPU'
              : whyNot(c, 'seed', 'forward')
            : undefined,
    });
  }

  // Against peers: every H and both phases ≥ 1× the fastest CPU peer of this run.
  for (const [H, w] of TARGET_WORKLOADS) {
    for (const phase of PHASES) {
      const c = ours(w, phase);
      const a = cellRate(c);
      let best: { peer: string; rate: number; estimated: boolean } | null = null;
      for (const peer of CPU_PEERS) {
        const r = cellRate(report.results.find((x) => x.workload === w && x.phase === phase && x.peer === peer));
        if (r.rate !== null && (!best || r.rate > best.rate)) best = { peer, rate: r.rate, estimated: r.estimated };
      }
      const value = a.rate !== null && best ? a.rate / best.rate : null;
      const estimated = value !== null && (a.estimated || best!.estimated);
      push({
        group: 'against peers',
        target: `H=${H} ${PHASE_NAME[phase]} ≥ 1× the fastest CPU peer`,
        workload: w,
        phase,
        required: 1,
        unit: 'ratio',
        value,
        against: best?.peer ?? null,
        estimated,
        note:
          a.rate === null
            ? whyNot(c, w, phase)
            : !best
              ? `no CPU peer (${CPU_PEERS.join(', ')}) ran`
              : estimated
                ? 'a cut-off rate is the calibration estimate'
                : undefined,
      });
    }
  }

  // A real GPU: fractions of the data-sheet peak.
  {
    const peak = report.adapter?.peak ?? null;
    const why = sw
      ? 'not measurable on a software adapter (it runs on the CPU: no GPU memory or FP32 peak)'
      : !report.adapter
        ? 'no adapter'
        : 'adapter not in the table of known peaks (src/benchmark/adapters.ts)';
    const c = ours('seed', 'forward');
    const v1 = peak ? (c?.fractionOfPeakBandwidth ?? null) : null;
    push({
      group: 'real GPU',
      target: 'H=1 forward ≥ 50% of the memory bandwidth (data sheet)',
      workload: 'seed',
      phase: 'forward',
      required: 0.5,
      unit: 'fraction',
      value: v1,
      against: peak ? `${peak.name}, ${peak.bandwidthGBps} GB/s` : null,
      estimated: false,
      note: !peak ? why : v1 === null ? whyNot(c, 'seed', 'forward') : undefined,
    });
    const big = report.results.filter((r) => r.peer === 'webgpu' && r.phase === 'gradient' && r.hiddenSize >= 128);
    const rows = big.length ? big : [undefined];
    for (const b of rows) {
      const v = peak && b ? b.fractionOfPeakFlops : null;
      push({
        group: 'real GPU',
        target: `H${b ? `=${b.hiddenSize}` : ' ≥ 128'} forward+gradient ≥ 30% of FP32 peak (data sheet)`,
        workload: b?.workload ?? null,
        phase: 'gradient',
        required: 0.3,
        unit: 'fraction',
        value: v,
        against: peak ? `${peak.name}, ${(peak.fp32Gflops / 1000).toFixed(1)} TFLOP/s FP32` : null,
        estimated: false,
        note: !peak
          ? why
          : !b
            ? 'no workload with H ≥ 128 in this run'
            : v === null
              ? whyNot(b, b.workload, 'gradient')
              : undefined,
      });
    }
  }

  // Compile time: every pipeline created in under 2 s, cold. Mesa's on-disk shader cache (lavapipe) serves
  // pipelines that earlier processes built, so with it on the figures are not cold: no verdict then.
  {
    const warmCache = report.adapter?.diskShaderCache === true;
    const mine = report.results.filter((r) => r.peer === 'webgpu');
    const cells = mine.filter((r) => r.pipelineMilliseconds !== null);
    const worst = cells.reduce<CellResult | null>(
      (a, b) => (!a || b.pipelineMilliseconds! > a.pipelineMilliseconds! ? b : a),
      null,
    );
    // Without pipelineMilliseconds, the note gives each cell's cold first run (at the smallest calibration size:
    // compilation, allocation and one small run), which shows the compile time but not pipelines made at later sizes.
    const firstRuns = mine.filter((r) => r.firstRunSeconds !== null);
    const slowest = firstRuns.reduce<CellResult | null>(
      (a, b) => (!a || b.firstRunSeconds! > a.firstRunSeconds! ? b : a),
      null,
    );
    const bound = slowest ? slowest.firstRunSeconds! * 1000 : null;
    push({
      group: 'compile time',
      target: 'every pipeline created in < 2 s (cold)',
      workload: worst?.workload ?? null,
      phase: worst?.phase ?? null,
      required: 2000,
      unit: 'ms',
      value: worst?.pipelineMilliseconds ?? null,
      against: null,
      estimated: false,
      met: worst && !warmCache ? worst.pipelineMilliseconds! < 2000 : null,
      note: warmCache
        ? `not cold: Mesa's on-disk shader cache was on, so pipelines built by earlier runs were loaded, not compiled (${worst ? `${(worst.pipelineMilliseconds! / 1000).toFixed(1)} s at most, ${worst.workload} ${worst.phase}` : 'no figure'}); run with MESA_SHADER_CACHE_DISABLE=true for cold figures`
        : worst
          ? `the most in one run: ${worst.workload} ${worst.phase}${worst.strategy ? ` (${worst.strategy})` : ''}; the figure is all pipelines that run created, so each one took at most this`
          : `the engine does not report RunStats.pipelineMilliseconds${slowest ? `; the slowest cold first run (compilation + allocation + one small run) took ${(bound! / 1000).toFixed(1)} s: ${slowest.workload} ${slowest.phase}${slowest.strategy ? ` (${slowest.strategy})` : ''}` : ''}`,
    });
  }
  return out;
}

/** Human-readable figure of a target: a percentage, a ratio or milliseconds. */
export function targetValueText(t: TargetCheck): string {
  if (t.value === null) return '–';
  const v =
    t.unit === 'fraction'
      ? pct(t.value)
      : t.unit === 'ratio'
        ? `${t.value >= 10 ? t.value.toFixed(1) : t.value.toFixed(2)}×`
        : `${t.value.toFixed(0)} ms`;
  return `${t.estimated ? '≈' : ''}${v}`;
}

/** Whether Mesa's on-disk shader cache is on for a lavapipe adapter (its default); null for other adapters. */
function mesaDiskCache(adapterText: string): boolean | null {
  if (!/llvmpipe|lavapipe/i.test(adapterText)) return null;
  const v = typeof process !== 'undefined' ? process.env?.MESA_SHADER_CACHE_DISABLE : undefined;
  return !(v === 'true' || v === '1');
}
