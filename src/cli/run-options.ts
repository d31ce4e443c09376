// The run statistics of a WebGPU run (strategy, chunks, peak bytes, checkpointing) as grad, forward and verify
// report them. (The --strategy and --memory-budget options are in src/cli/options.ts.)

import type { RunStats } from '../gpu/backend.ts';

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
