// Timing one peer on one workload (browser-safe): calibration on growing small batches, an estimate for the full
// size, a cut-off when that estimate exceeds the time budget, then a warm-up and the median of repeated runs.

import type { Batch } from '../batch.ts';
import type { ModelJSON } from '../model.ts';
import { median } from '../stats.ts';
import type { Peer, PeerRun } from './peer.ts';
import type { Phase } from './workloads.ts';

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** The median, extremes and count of timed runs (seconds, or rates); null when nothing ran. */
export function summarize(xs: number[]): Summary | null {
  if (xs.length === 0) return null;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

export interface MeasureOptions {
  N: number;
  T: number;
  /** Timed runs after the warm-up. */
  repeats: number;
  /** Seconds this peer may spend on this cell, calibration included, its very first run (compilation) excluded. */
  budgetSeconds: number;
  /** Smallest calibration batch (sequences). Default 16. */
  calibrationStart?: number;
}

export type MeasureStatus = 'ok' | 'cut-off' | 'failed';

export interface Measurement {
  status: MeasureStatus;
  /** Why it was cut off or failed. */
  reason?: string;
  /** Seconds per run: wall clock (includes upload and readback), or the peer's own timing where it reports one. */
  wall: Summary | null;
  /** GPU seconds per run from timestamp queries (compute passes only), when the peer reports them. */
  gpu: Summary | null;
  /** Result of the last full-size run. */
  last: PeerRun | null;
  /** Calibration: the largest batch run before the full size, its seconds per run, and the estimate for N. */
  calibration: { N: number; seconds: number; estimatedSeconds: number } | null;
  /** The result at the calibration size, kept to check a cut-off peer's loss against ours at that size. */
  calibrationRun: PeerRun | null;
  /** Seconds spent on this cell in total. */
  elapsedSeconds: number;
  /** The first run at the first size (compilation, allocation, first use): not counted against the budget. */
  firstRunSeconds: number | null;
  /** Whether a warm-up run preceded the timed runs at full size (skipped when one run is long against the budget). */
  fullSizeWarmUp: boolean;
  /** The strategy the peer reported for its last run (ours: RunStats.strategy), or null. */
  strategy: string | null;
  /** The longest pipeline creation the peer reported for one run of this cell (its first, cold run), or null. */
  pipelineMilliseconds: number | null;
}

/** A run's duration: the peer's own timing where it reports one (timed inside its process), else the wall time. */
export function runSeconds(result: PeerRun, wallSeconds: number): number {
  return result.selfSeconds != null && Number.isFinite(result.selfSeconds) ? result.selfSeconds : wallSeconds;
}

const now = (): number => performance.now() / 1000;

/**
 * Measures `peer` on `model`. `batchOf(n)` gives the batch of n sequences (n = N for the measured runs).
 * Calibration runs batches of 16, 64, 256, … sequences (a warm-up, then the faster of two timed runs) until one
 * takes a fifteenth of the budget (and there are two points, where the budget allows) or the next would reach N. The full-size time is extrapolated with a straight
 * line through the last two calibration points (fixed cost + cost per sequence), or proportionally from a single
 * point. The cell is cut off when a calibration run alone shows that a full run and its warm-up cannot fit the
 * budget, or when the estimate from the last calibration size says so; it is reported with the estimate.
 */
export async function measure(
  peer: Peer,
  model: ModelJSON,
  batchOf: (n: number) => Batch,
  phase: Phase,
  o: MeasureOptions,
): Promise<Measurement> {
  const start = now();
  const m: Measurement = {
    status: 'ok',
    wall: null,
    gpu: null,
    last: null,
    calibration: null,
    calibrationRun: null,
    elapsedSeconds: 0,
    firstRunSeconds: null,
    fullSizeWarmUp: false,
    strategy: null,
    pipelineMilliseconds: null,
  };
  const note = (r: PeerRun): PeerRun => {
    if (r.strategy) m.strategy = r.strategy;
    if (r.pipelineMilliseconds != null)
      m.pipelineMilliseconds = Math.max(m.pipelineMilliseconds ?? 0, r.pipelineMilliseconds);
    return r;
  };
  const done = (): Measurement => ((m.elapsedSeconds = now() - start), m);
  // A full-size warm-up only for runs short against the budget: calibration has compiled and warmed up already.
  const warmUpAt = (seconds: number): boolean => seconds <= o.budgetSeconds / 5;
  const runsNeeded = (seconds: number): number => (warmUpAt(seconds) ? 2 : 1);
  try {
    // Calibration.
    const points: [number, number][] = [];
    for (let n = Math.min(o.N, o.calibrationStart ?? 16); n < o.N; n *= 4) {
      const prepared = await peer.prepare(model, batchOf(n), phase);
      let seconds = Infinity;
      let result: PeerRun | null = null;
      try {
        const tw = now();
        note(await prepared.run()); // warm-up: compilation, allocation
        if (m.firstRunSeconds === null) m.firstRunSeconds = now() - tw;
        for (let k = 0; k < 2; k++) {
          const t0 = now();
          result = note(await prepared.run());
          seconds = Math.min(seconds, runSeconds(result, now() - t0));
          if (seconds > o.budgetSeconds / 15) break; // slow enough to be measured once
        }
      } finally {
        prepared.dispose();
      }
      points.push([n, seconds]);
      m.calibrationRun = result;
      const estimatedSeconds = extrapolate(points, o.N);
      m.calibration = { N: n, seconds, estimatedSeconds };
      const spent = now() - start - m.firstRunSeconds;
      // Slow enough to extrapolate from, but a single point says nothing about fixed costs: take a second one at 4n
      // (at most 4× as long, twice) when the budget allows.
      const slow = seconds > o.budgetSeconds / 15;
      const secondPoint = points.length < 2 && spent + 8 * seconds <= o.budgetSeconds;
      // The next size costs about a warm-up and a run of up to 4× this one: stop calibrating if that cannot fit.
      const nextFits = spent + 8 * seconds <= o.budgetSeconds;
      const last = n * 4 >= o.N || (slow && !secondPoint) || !nextFits;
      // A full run takes at least as long as this smaller one; beyond that, trust only the last calibration size.
      if (
        spent + runsNeeded(seconds) * seconds > o.budgetSeconds ||
        (last && spent + runsNeeded(estimatedSeconds) * estimatedSeconds > o.budgetSeconds)
      ) {
        m.status = 'cut-off';
        m.reason = `one run of N=${o.N} estimated at ${fmtSeconds(estimatedSeconds)} (calibrated at N=${points.map((p) => p[0]).join(', ')}: ${points.map((p) => fmtSeconds(p[1])).join(', ')}); budget ${fmtSeconds(o.budgetSeconds)}`;
        return done();
      }
      if (last) break;
    }
    // Full size: a warm-up (unless one run is long against the budget), then repeats while the budget lasts
    // (at least one).
    const prepared = await peer.prepare(model, batchOf(o.N), phase);
    try {
      let first = m.calibration?.estimatedSeconds ?? 0;
      if (!m.calibration || warmUpAt(m.calibration.estimatedSeconds)) {
        const t0 = now();
        const r = note(await prepared.run());
        first = runSeconds(r, now() - t0);
        m.fullSizeWarmUp = true;
        if (m.firstRunSeconds === null) m.firstRunSeconds = first;
      }
      m.firstRunSeconds ??= 0;
      const wall: number[] = [];
      const gpu: number[] = [];
      for (let r = 0; r < o.repeats; r++) {
        const elapsed = now() - start - m.firstRunSeconds;
        if (r > 0 && elapsed + (wall.length ? Math.max(...wall) : first) > o.budgetSeconds) break;
        const t1 = now();
        const result = note(await prepared.run());
        wall.push(runSeconds(result, now() - t1));
        if (result.gpuSeconds != null) gpu.push(result.gpuSeconds);
        m.last = result;
      }
      m.wall = summarize(wall);
      m.gpu = gpu.length === wall.length ? summarize(gpu) : null;
    } finally {
      prepared.dispose();
    }
    return done();
  } catch (e) {
    m.status = 'failed';
    m.reason = (e as Error).message ?? String(e);
    return done();
  }
}

/** Seconds for N sequences from calibration points [n, seconds]: a line through the last two, or proportional. */
export function extrapolate(points: [number, number][], N: number): number {
  const [n2, t2] = points[points.length - 1];
  if (points.length < 2) return (t2 * N) / n2;
  const [n1, t1] = points[points.length - 2];
  const slope = Math.max(0, (t2 - t1) / (n2 - n1));
  return Math.max(t2, t2 + slope * (N - n2));
}

export function fmtSeconds(s: number): string {
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 1) return `${s.toFixed(1)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(1)} ms`;
  return `${(s * 1e6).toFixed(0)} µs`;
}
