// Timing one peer on one workload (browser-safe): calibration on growing small batches, an estimate for the full
// size, a cut-off when that estimate exceeds the time budget, then a warm-up and the median of repeated runs.

import type { Batch } from '../batch.ts';
import type { ModelJSON } from '../model.ts';
import type { Peer, PeerRun } from './peer.ts';
import type { Phase } from './workloads.ts';

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(xs: number[]): Summary | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length };
}

export interface MeasureOptions {
  N: number;
  T: number;
  /** Timed runs after the warm-up. */
  repeats: number;
  /** Seconds this peer may spend on this cell, calibration included. */
  budgetSeconds: number;
  /** Smallest calibration batch (sequences). Default 16. */
  calibrationStart?: number;
}

export type MeasureStatus = 'ok' | 'cut-off' | 'failed';

export interface Measurement {
  status: MeasureStatus;
  /** Why it was cut off or failed. */
  reason?: string;
  /** Wall-clock seconds per run (includes upload and readback). */
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
}

const now = (): number => performance.now() / 1000;

/**
 * Measures `peer` on `model`. `batchOf(n)` gives the batch of n sequences (n = N for the measured runs).
 * Calibration runs batches of 16, 64, 256, … sequences (each twice, the first as warm-up) until one takes a
 * tenth of the budget or reaches N; the full-size time is extrapolated linearly in N. If one full run (plus its
 * warm-up) is estimated past the budget, the cell is cut off and reported with the estimate.
 */
export async function measure(peer: Peer, model: ModelJSON, batchOf: (n: number) => Batch, phase: Phase, o: MeasureOptions): Promise<Measurement> {
  const start = now();
  const m: Measurement = { status: 'ok', wall: null, gpu: null, last: null, calibration: null, calibrationRun: null, elapsedSeconds: 0 };
  const done = (): Measurement => ((m.elapsedSeconds = now() - start), m);
  try {
    // Calibration.
    let n = Math.min(o.N, o.calibrationStart ?? 16);
    while (n < o.N) {
      const prepared = await peer.prepare(model, batchOf(n), phase);
      let seconds: number;
      let result: PeerRun;
      try {
        await prepared.run(); // warm-up: compilation, allocation
        const t0 = now();
        result = await prepared.run();
        seconds = now() - t0;
      } finally {
        prepared.dispose();
      }
      const estimatedSeconds = (seconds * o.N) / n;
      m.calibration = { N: n, seconds, estimatedSeconds };
      m.calibrationRun = result;
      const spent = now() - start;
      if (spent + 2 * estimatedSeconds > o.budgetSeconds) {
        m.status = 'cut-off';
        m.reason = `one run of N=${o.N} estimated at ${fmtSeconds(estimatedSeconds)} (from ${fmtSeconds(seconds)} at N=${n}); budget ${fmtSeconds(o.budgetSeconds)}`;
        return done();
      }
      if (seconds > o.budgetSeconds / 10 || n * 4 > o.N) break;
      n *= 4;
    }
    // Full size: one warm-up, then repeats while the budget lasts (at least one).
    const prepared = await peer.prepare(model, batchOf(o.N), phase);
    try {
      const t0 = now();
      await prepared.run();
      const first = now() - t0;
      const wall: number[] = [];
      const gpu: number[] = [];
      for (let r = 0; r < o.repeats; r++) {
        const elapsed = now() - start;
        if (r > 0 && elapsed + (wall.length ? Math.max(...wall) : first) > o.budgetSeconds) break;
        const t1 = now();
        const result = await prepared.run();
        wall.push(now() - t1);
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

export function fmtSeconds(s: number): string {
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 1) return `${s.toFixed(1)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(1)} ms`;
  return `${(s * 1e6).toFixed(0)} µs`;
}
