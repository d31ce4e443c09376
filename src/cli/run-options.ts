// CLI options shared by grad, forward and verify for the WebGPU kernels: --strategy and --memory-budget, and the
// run statistics (strategy, chunks, peak bytes, checkpointing) that the commands report.

import { InvalidArgumentError, Option } from 'commander';
import type { RunStats } from '../gpu/backend.ts';
import { STRATEGY_CHOICES, type StrategyChoice } from '../gpu/strategy.ts';

export interface KernelCliOptions {
  strategy: StrategyChoice;
  memoryBudget?: number;
}

export function strategyOption(): Option {
  return new Option('--strategy <name>', 'WebGPU kernel strategy: auto (from the shape and the adapter), per-sequence, gemm or rtrl')
    .choices(STRATEGY_CHOICES)
    .default('auto');
}

/** Bytes, with an optional K/M/G suffix (binary: 1K = 1024). */
export function parseBytes(v: string): number {
  const m = /^\s*(\d+)\s*([kmg]i?b?)?\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError(`Expected a byte count such as 268435456, 512M or 2G, got "${v}".`);
  const mult = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(m[2] ?? '').charAt(0).toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`It must be a positive byte count, got "${v}".`);
  return n;
}

export function memoryBudgetOption(): Option {
  return new Option('--memory-budget <bytes>', 'WebGPU: bytes all chunk buffers of a run may take (e.g. 256M; default 512M or the adapter maxBufferSize)').argParser(parseBytes);
}

const mib = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** One line for stderr/text reports: `strategy gemm, 2 chunks of ≤ 8192 sequences, peak 412.0 MiB, a hidden state stored every 16 steps`. */
export function runStatsText(s: RunStats): string {
  const parts = [`strategy ${s.strategy}`, `${s.chunks} chunk${s.chunks === 1 ? '' : 's'} of ≤ ${s.sequencesPerChunk} sequences`, `peak ${mib(s.peakBytes)} of GPU buffers`];
  if (s.checkpointEvery !== undefined) parts.push(`hidden states stored every ${s.checkpointEvery} step${s.checkpointEvery === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** The `run` object of the JSON reports. */
export function runStatsJson(s: RunStats): Record<string, unknown> {
  return { ...s };
}
