// The run statistics of a WebGPU run (strategy, chunks, peak bytes, checkpointing) as grad, forward and verify
// report them (the --strategy and --memory-budget options are in src/cli/options.ts), --adapter, which every
// command that can run WebGPU takes, and the global --verbose.

import { Option } from 'commander';
import type { RunStats } from '../gpu/backend.ts';
import { dawnVerbose, setDawnVerbose } from '../gpu/dawn-log.ts';
import { resolveAdapterChoice } from '../gpu/device.ts';
import { ADAPTER_CHOICES, type AdapterChoice } from '../gpu/tuning.ts';

/** --adapter: which WebGPU adapter (docs/adapters.md). Unset: WEBGPU_RNN_ADAPTER, else auto. */
export function adapterOption(): Option {
  return new Option(
    '--adapter <name>',
    'WebGPU adapter: auto (a GPU, else the faster software driver), hardware, swiftshader or lavapipe (default: $WEBGPU_RNN_ADAPTER, else auto)',
  ).choices(ADAPTER_CHOICES);
}

/** The running command's --adapter (or WEBGPU_RNN_ADAPTER), set before its action; engines are made with it. */
export const cliAdapter: { value?: AdapterChoice } = {};

/**
 * Adds --adapter to every command with --backend (and verify), and checks it (or WEBGPU_RNN_ADAPTER) before the
 * action: bad names exit 2. With `--backend cpu` no adapter is opened, so WEBGPU_RNN_ADAPTER is not read (a bad
 * value there does not refuse a CPU run); an explicit --adapter is still checked by its choices.
 */
export function addAdapterOption(program: import('commander').Command): void {
  for (const cmd of program.commands) {
    if (cmd.options.some((opt) => opt.long === '--backend') || cmd.name() === 'verify') cmd.addOption(adapterOption());
  }
  cliAdapter.value = undefined;
  program.hook('preAction', (_program, action) => {
    const adapter = action.options.some((opt) => opt.long === '--adapter');
    const opts = action.opts<{ adapter?: string; backend?: string }>();
    const cpuOnly = opts.backend === 'cpu' && opts.adapter === undefined;
    cliAdapter.value = adapter && !cpuOnly ? resolveAdapterChoice(opts.adapter) : undefined;
    if (adapter) dawnVerbose(); // a bad WEBGPU_RNN_LOG: exit 2, as a bad WEBGPU_RNN_ADAPTER is
  });
}

/** The global --verbose (Dawn's own stderr lines unfiltered, as WEBGPU_RNN_LOG=dawn), set before every action. */
export function addVerboseOption(program: import('commander').Command): void {
  setDawnVerbose(false);
  program.hook('preAction', (prog) => setDawnVerbose(prog.opts().verbose === true));
}

/** GpuOptions for the command's adapter. */
export function adapterGpuOptions(): { adapter?: AdapterChoice } {
  return cliAdapter.value ? { adapter: cliAdapter.value } : {};
}

const mib = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** One line for stderr/text reports: `strategy gemm, 2 chunks of ≤ 8192 sequences, peak 412.0 MiB, a hidden state stored every 16 steps`. */
export function runStatsText(s: RunStats): string {
  const parts = [
    `strategy ${s.strategy}`,
    `${s.chunks} chunk${s.chunks === 1 ? '' : 's'} of ≤ ${s.sequencesPerChunk} sequences`,
    `peak ${mib(s.peakBytes)} of GPU buffers`,
  ];
  if (s.checkpointEvery !== undefined)
    parts.push(`hidden states stored every ${s.checkpointEvery} step${s.checkpointEvery === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** The `run` object of the JSON reports. */
export function runStatsJson(s: RunStats): Record<string, unknown> {
  return { ...s };
}
