// `webgpu-rnn train`: trains one model on a data set (seed, sine, adding or a CSV file) on WebGPU or the CPU, with
// progress on stderr; prints the final loss, the learned weights and the rate; --out saves the model JSON. A run that
// diverges (a non-finite loss or gradient) exits 3 and saves nothing.

import { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { NonFiniteError } from '../../errors.ts';
import { modelToJSON, paramLayout, paramNames } from '../../model.ts';
import { lossCurveSvg } from '../../svg/index.ts';
import { train } from '../../train/index.ts';
import type { TrainReport } from '../../train/types.ts';
import { printable, type CliIO } from '../io.ts';
import { backendOption } from '../options.ts';
import { withEngine } from '../run.ts';
import { jsonText, matrixText, num } from '../format.ts';
import {
  addDataOptions,
  addModelOptions,
  addTrainOptions,
  initialModel,
  loadSplitData,
  optimizerText,
  outputKind,
  trainOptionsFrom,
  trainProgress,
  writeOutputs,
  type DataCliOptions,
  type ModelCliOptions,
  type TrainCliOptions,
} from './experiment-options.ts';

interface TrainCommandOptions extends DataCliOptions, ModelCliOptions, TrainCliOptions {
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
}

/** The goal the report states reaching or not: SSR below 1e-3 on the seed data. */
const GOAL = 1e-3;

/** The notes' names for a 1-1-1 model: w1 = 1.8 … */
function scalarNames(params: ArrayLike<number>): string {
  const [w1, w2, b1, w3, b2] = [params[0], params[1], params[2], params[3], params[4]];
  return `w1 = ${num(w1)}, b1 = ${num(b1)}, w2 = ${num(w2)}, w3 = ${num(w3)}, b2 = ${num(b2)}`;
}

function reportText(r: TrainReport, o: TrainCommandOptions, extra: { data: string; count: number; validationCount: number; dropped: number; init: string; optimizer: string; initialLoss: number | undefined }): string {
  const m = r.model;
  const L: string[] = [];
  L.push(`backend    ${r.backend}, adapter ${r.adapter}`);
  L.push(`data       ${extra.data}`);
  L.push(`           training on ${extra.count} sequence${extra.count === 1 ? '' : 's'}${extra.validationCount ? `, validating on ${extra.validationCount} (${o.split} split${extra.dropped ? `, ${extra.dropped} left out between` : ''})` : ''}`);
  L.push(`model      I=${m.inputSize} H=${m.hiddenSize} O=${m.outputSize}, ${m.activation}, output "${m.output}"; initial weights ${extra.init}`);
  L.push(`optimizer  ${extra.optimizer}`);
  const status = r.stoppedEarly ? 'stopped early at the loss threshold' : r.aborted ? 'aborted' : 'done';
  L.push(`steps      ${r.steps} in ${r.seconds.toFixed(2)} s (${Math.round(r.steps / Math.max(r.seconds, 1e-9)).toLocaleString('en-US')} steps/s); ${status}`);
  L.push(`loss       ${extra.initialLoss !== undefined ? `${num(extra.initialLoss)} → ` : ''}${num(r.finalLoss)}  (SSR over the training set; ${r.finalLoss < GOAL ? 'below' : 'not below'} ${GOAL})`);
  if (r.validationLoss !== null) L.push(`validation ${num(r.validationLoss)}  (SSR over the validation set)`);
  L.push('', 'learned weights:');
  const blocks = paramLayout(m).blocks;
  const w = modelToJSON(m).weights;
  for (const name of paramNames(m)) {
    const g = w[name]!;
    const rows = Array.isArray(g[0]) ? (g as number[][]) : [g as number[]];
    L.push(`${name} (${blocks[name]!.cols === 0 ? blocks[name]!.rows : `${blocks[name]!.rows}×${blocks[name]!.cols}`})`, matrixText(rows));
  }
  if (m.inputSize === 1 && m.hiddenSize === 1 && m.outputSize === 1) L.push(`in the notes' names: ${scalarNames(m.params)}`);
  if (o.out) L.push('', `wrote ${printable(o.out)}`);
  if (o.svg) L.push(`${o.out ? '' : '\n'}wrote ${printable(o.svg)}`);
  return L.join('\n') + '\n';
}

export function registerTrain(program: Command, io: CliIO): void {
  const cmd = program
    .command('train')
    .description('train a model on a data set (seed, sine, adding or CSV) with SGD or Adam; prints the loss and the learned weights');
  addDataOptions(cmd);
  addModelOptions(cmd, 'random weights');
  addTrainOptions(cmd);
  cmd
    .addOption(backendOption())
    .option('--out <model.json>', 'save the trained model (model JSON format)')
    .option('--svg <curve.svg>', 'plot the loss curve')
    .option('--json', 'print the report as JSON')
    .action(async (o: TrainCommandOptions) => {
      outputKind(o.out, '--out', ['json'] as const);
      outputKind(o.svg, '--svg', ['svg'] as const);
      const topts = trainOptionsFrom(o, o.seed);
      const { data, train: batch, validation, dropped } = loadSplitData(o, o.seed);
      const { model, how } = initialModel(o, data);
      const report = await withEngine(o.backend, io, async (engine) => {
        const progress = trainProgress(io, 'train', topts.steps);
        try {
          return await train(engine, model, batch, { ...topts, validation: validation ?? undefined, onProgress: progress.onProgress });
        } finally {
          progress.done();
        }
      });
      if (report.diverged) {
        // Exit 3, as everywhere in the CLI: nothing is saved from a run whose values overflowed.
        throw new NonFiniteError(
          report.backend,
          `the training loss or gradient after ${report.steps} steps (diverged: try a smaller --lr, or --clip-norm)`,
          null,
        );
      }
      const modelJson = modelToJSON(report.model);
      const files: { path: string; text: string }[] = [];
      if (o.out) files.push({ path: o.out, text: jsonText(modelJson) + '\n' });
      if (o.svg) files.push({ path: o.svg, text: lossCurveSvg(report.history, { title: `training loss: ${data.name}, ${topts.optimizer.kind} lr ${topts.optimizer.lr}` }) });
      writeOutputs(files);
      const initialLoss = report.history[0]?.step === 0 ? report.history[0].loss : undefined;
      if (o.json) {
        await io.out(
          jsonText({
            backend: report.backend,
            adapter: report.adapter,
            data: { name: data.name, description: data.description, train: batch.count, validation: validation?.count ?? 0 },
            options: { ...topts, validation: undefined },
            steps: report.steps,
            initialLoss: initialLoss ?? null,
            finalLoss: report.finalLoss,
            validationLoss: report.validationLoss,
            stoppedEarly: report.stoppedEarly,
            diverged: report.diverged,
            seconds: report.seconds,
            stepsPerSecond: report.steps / Math.max(report.seconds, 1e-9),
            model: modelJson,
            history: report.history,
            files: files.map((f) => f.path),
          }) + '\n',
        );
        return;
      }
      await io.out(
        reportText(report, o, {
          data: printable(`${data.name}: ${data.description}`),
          count: batch.count,
          validationCount: validation?.count ?? 0,
          dropped,
          init: how,
          optimizer: optimizerText(topts),
          initialLoss,
        }),
      );
    });
}
