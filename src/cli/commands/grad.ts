// `webgpu-rnn grad`: the SSR loss and its gradients dSSR/dθ, summed over all sequences, by backpropagation through
// time (optionally truncated, optionally clipped by global norm).

import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { backendOption, integer, memoryBudgetOption, number, strategyOption } from '../options.ts';
import { runModel, type RunCommandOptions } from '../run.ts';

export function registerGrad(program: Command, io: CliIO): void {
  program
    .command('grad')
    .description('SSR loss and its gradients dSSR/dθ (summed over all sequences) by backpropagation through time')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file with targets (.json or .rnnb)')
    .addOption(backendOption())
    .option(
      '--json',
      'print {"backend","adapter","loss","grads":{"Wx","Wh","bh","Wy","by"},"gradNorm","clipped","outputs"?} as JSON',
    )
    .option('--outputs', 'also print the predictions')
    .option(
      '--states-in <file>',
      "states file (JSON, docs/formats.md): each sequence's initial states, in place of the model's h0 and c0",
    )
    .option(
      '--states-out <file.json>',
      "write each sequence's final states (every layer and direction) to this states file, for a later --states-in",
    )
    .option(
      '--truncate <k>',
      'truncated BPTT: detach the hidden state every k steps (k ≥ 1; default: full BPTT)',
      integer(1),
    )
    .option(
      '--clip-norm <c>',
      'clip the gradient by global norm: scale it to norm c when its norm exceeds c (c > 0)',
      number('positive'),
    )
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action((o: RunCommandOptions) => runModel('grad', o, io));
}
