// `webgpu-rnn verify`: runs WebGPU and the float64 CPU reference on the same batch and compares loss, outputs and
// each gradient block; exit 4 when they differ beyond the documented tolerance. A stacked or bidirectional model,
// which WebGPU does not run yet, exits 2 saying so.

import type { Command } from 'commander';
import { Engine } from '../../engine.ts';
import { cpuOnlyRun } from '../../cpu-only.ts';
import { GpuError, InputError } from '../../errors.ts';
import { readDataFile, readModelFile } from '../../io/files.ts';
import { modelFromJSON } from '../../model.ts';
import { compareResults } from '../../verify.ts';
import { jsonText } from '../format.ts';
import { MismatchError, printable, type CliIO } from '../io.ts';
import { memoryBudgetOption, strategyOption, type KernelCliOptions } from '../options.ts';
import { checkFloat32Files, runWithProgress, withEngine } from '../run.ts';
import { adapterGpuOptions } from '../run-options.ts';
import { runStatsJson, runStatsText } from '../run-options.ts';
import { verifyJson, verifyText } from '../verify.ts';

export function registerVerify(program: Command, io: CliIO): void {
  program
    .command('verify')
    .description(
      'run WebGPU and the float64 CPU reference on the same batch and compare loss, outputs and each gradient block',
    )
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file (.json or .rnnb)')
    .option('--json', 'print the comparison as JSON')
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action(async (o: { model: string; data: string; json?: boolean } & KernelCliOptions) => {
      const modelJson = readModelFile(o.model);
      const batch = readDataFile(o.data, modelJson);
      const model = modelFromJSON(modelJson);
      // A run only the CPU serves: nothing to compare (before asking for an adapter).
      const cpuOnly = cpuOnlyRun(model, batch, {});
      if (cpuOnly)
        throw new InputError(
          cpuOnly.field,
          `${cpuOnly.what}: verify compares WebGPU with the CPU reference, and WebGPU cannot run this model (forward and grad run it with --backend cpu)`,
        );
      let gpu: Engine;
      try {
        gpu = await Engine.create({
          backend: 'webgpu',
          gpu: { ...(o.memoryBudget === undefined ? {} : { memoryBudget: o.memoryBudget }), ...adapterGpuOptions() },
        });
      } catch (e) {
        throw new GpuError(
          `verify compares WebGPU with the CPU reference, but WebGPU is unavailable: ${printable((e as Error).message)}`,
        );
      }
      const opts = { gradients: batch.targets !== null, outputs: true };
      // Free the GPU's buffers before the (possibly long) CPU run.
      let actual;
      let stats;
      try {
        checkFloat32Files(gpu, model, batch, o.model, o.data);
        actual = await runWithProgress(io, 'verify (webgpu)', gpu, model, batch, { ...opts, strategy: o.strategy });
        stats = gpu.lastRunStats;
      } finally {
        gpu.dispose();
      }
      const expected = await withEngine('cpu', io, (cpu) =>
        runWithProgress(io, 'verify (cpu)', cpu, model, batch, opts),
      );
      const report = compareResults(model, batch, actual, expected);
      await io.out(
        o.json
          ? jsonText({ ...verifyJson(report), ...(stats ? { run: runStatsJson(stats) } : {}) }) + '\n'
          : verifyText(report).replace(/^(actual .*\n)/, `$1          ${stats ? runStatsText(stats) : ''}\n`),
      );
      if (!report.ok) {
        const failing = report.checks.filter((c) => !c.comparison.ok).map((c) => c.name);
        throw new MismatchError(
          `verify: WebGPU and the CPU reference differ beyond tolerance in ${failing.join(', ')}`,
        );
      }
    });
}
