// `webgpu-rnn forward`: predictions for every sequence, and the SSR loss when the data has targets; with
// --states-in and --states-out, a long series run in chunks, each carrying on from the states the last one ended in.

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
    .option(
      '--states-in <file>',
      "states file (JSON, docs/formats.md): each sequence's initial states, in place of the model's h0 and c0",
    )
    .option(
      '--states-out <file.json>',
      "write each sequence's final states (every layer and direction) to this states file, for a later --states-in",
    )
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action((o: RunCommandOptions) => runModel('forward', o, io));
}
