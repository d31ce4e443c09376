// `webgpu-rnn forward`: predictions for every sequence, and the SSR loss when the data has targets.

import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { backendOption, memoryBudgetOption, strategyOption } from '../options.ts';
import { runModel, type RunCommandOptions } from '../run.ts';

export function registerForward(program: Command, io: CliIO): void {
  program
    .command('forward')
    .description('predictions for every sequence, and the SSR loss when the data has targets')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file (.json or .rnnb); targets optional')
    .addOption(backendOption())
    .option('--json', 'print {"backend","adapter","loss","outputs"} as JSON (loss is null without targets)')
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action((o: RunCommandOptions) => runModel('forward', o, io));
}
