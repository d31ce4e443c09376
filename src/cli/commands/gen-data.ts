// `webgpu-rnn gen-data`: a seeded random data set for a model's input size, output size and output mode, written
// atomically as data JSON or RNNB. Everything the readers would refuse (sequences past the step limit, more
// values than a reader holds, a JSON file past the JSON reader's size limit) is refused before writing.

import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { dataFormatOf, MAX_TEXT_BYTES, readModelFile, writeRandomDataAsync } from '../../io/files.ts';
import { MAX_ARRAY_VALUES } from '../../io/rnnb.ts';
import { LIMITS } from '../../model.ts';
import { checkOutputsAreNotInputs, printable, type CliIO } from '../io.ts';
import { integer } from '../options.ts';

interface GenDataOptions {
  model: string;
  count: number;
  minLength: number;
  maxLength?: number;
  seed: number;
  targets: boolean;
  out: string;
  json?: boolean;
}

export function registerGenData(program: Command, io: CliIO): void {
  program
    .command('gen-data')
    .description("write a seeded random data set for a model's input size, output size and output mode")
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--count <n>', 'number of sequences', integer(1, 0xffffffff))
    .option('--min-length <n>', `shortest sequence (at most ${LIMITS.maxSteps} steps)`, integer(1, LIMITS.maxSteps), 1)
    .option(
      '--max-length <n>',
      `longest sequence (at most ${LIMITS.maxSteps}; default: the larger of --min-length and 10)`,
      integer(1, LIMITS.maxSteps),
    )
    .option(
      '--seed <n>',
      'random seed (32-bit; the same seed gives the same data)',
      integer(-0x80000000, 0xffffffff),
      1,
    )
    .option('--no-targets', 'inputs only (for forward runs)')
    .requiredOption('--out <file>', 'output file: .json (data JSON) or .rnnb (binary); written atomically')
    .option('--json', 'print a summary as JSON')
    .action(async (o: GenDataOptions) => {
      const format = dataFormatOf(o.out);
      if (!format) throw new InputError('--out', `must end in .json or .rnnb, got "${o.out}"`);
      checkOutputsAreNotInputs([['--out', o.out]], [['--model', o.model]]);
      const maxLen = o.maxLength ?? Math.max(o.minLength, 10);
      if (maxLen < o.minLength)
        throw new InputError('--max-length', `must be at least --min-length (${o.minLength}), got ${maxLen}`);
      const model = readModelFile(o.model);
      // The smallest data set these options can draw must fit the readers (the drawn one is checked again).
      const minSteps = o.count * o.minLength;
      const minValues = Math.max(
        minSteps * model.inputSize,
        o.targets ? (model.output === 'last' ? o.count : minSteps) * model.outputSize : 0,
      );
      if (minValues > MAX_ARRAY_VALUES) {
        throw new InputError(
          '--count',
          `${o.count} sequences of at least ${o.minLength} steps hold at least ${minValues} values, more than a reader can hold in one array (${MAX_ARRAY_VALUES})`,
        );
      }
      if (format === 'json' && 2 * minValues > MAX_TEXT_BYTES) {
        throw new InputError(
          '--count',
          `${o.count} sequences of at least ${o.minLength} steps take more than ${MAX_TEXT_BYTES} bytes as JSON, more than the JSON reader accepts: use .rnnb`,
        );
      }
      const opts = {
        count: o.count,
        inputSize: model.inputSize,
        outputSize: model.outputSize,
        output: model.output,
        minLength: o.minLength,
        maxLength: maxLen,
        seed: o.seed,
        withTargets: o.targets,
      };
      let steps: number;
      try {
        ({ steps } = await writeRandomDataAsync(o.out, opts));
      } catch (e) {
        // The writer's size checks name its `count`: here that is --count.
        if (e instanceof InputError && e.field === 'count') throw new InputError('--count', e.reason);
        throw e;
      }
      const summary = {
        file: o.out,
        format,
        count: o.count,
        steps,
        minLength: o.minLength,
        maxLength: maxLen,
        inputSize: model.inputSize,
        outputSize: model.outputSize,
        output: model.output,
        targets: o.targets,
        seed: o.seed,
      };
      await io.out(
        o.json
          ? JSON.stringify(summary) + '\n'
          : `wrote ${printable(o.out)} (${format}): ${summary.count} sequences, ${summary.steps} steps (lengths ${o.minLength}..${maxLen}), ` +
              `I=${summary.inputSize}, O=${summary.outputSize}, output "${summary.output}", ${summary.targets ? 'with' : 'no'} targets, seed ${o.seed}\n`,
      );
    });
}
