// `webgpu-rnn population`: trains many copies of a network from random initial weights at once and reports the
// distribution of final losses (quantiles, a text histogram, optional SVG), how many reached a solution, how many
// ended near the notes' weights, and how many diverged; --check retrains sampled models one by one (on the same
// backend, which must agree, and on the float64 CPU).

import { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { Engine } from '../../engine.ts';
import { paramName, STATQUEST_JSON, flattenWeights } from '../../model.ts';
import { binValues, histogramSvg, type Bins } from '../../svg/index.ts';
import { randomPopulation, train, trainPopulation } from '../../train/index.ts';
import type { PopulationReport, TrainOptions } from '../../train/types.ts';
import { checkOutputsAreNotInputs, MismatchError, printable, type CliIO } from '../io.ts';
import { backendOption, integer } from '../options.ts';
import { withEngine } from '../run.ts';
import { withCsvProgress } from '../progress.ts';
import { cellText, jsonText, num } from '../format.ts';
import { quantile } from '../../stats.ts';
import {
  addDataOptions,
  addModelOptions,
  addTrainOptions,
  baseModel,
  loadSplitData,
  number,
  optimizerText,
  outputKind,
  trainOptionsFrom,
  trainProgress,
  writeOutputs,
  type DataCliOptions,
  type ModelCliOptions,
  type TrainCliOptions,
  isCsvData,
} from './experiment-options.ts';

interface PopulationCommandOptions extends DataCliOptions, ModelCliOptions, TrainCliOptions {
  count: number;
  solved: number;
  near: number;
  check: number;
  backend: BackendChoice;
  svg?: string;
  out?: string;
  json?: boolean;
}

export const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

/** The notes' solution in canonical parameter order (w1, w2, b1, w3, b2 as Wx, Wh, bh, Wy, by). */
const NOTES_PARAMS = flattenWeights(STATQUEST_JSON, STATQUEST_JSON.weights);

export interface PopulationSummary {
  count: number;
  finite: number;
  diverged: number;
  converged: number;
  quantiles: { p: number; loss: number }[];
  /** Models with final SSR < threshold. */
  solved: { threshold: number; count: number };
  /** 1-1-1 models only: every weight within `tolerance` of the notes' w1 = 1.8, b1 = 0, w2 = −0.5, w3 = 1.1, b2 = 0. */
  nearNotes: { tolerance: number; count: number; solvedCount: number } | null;
  /** Final losses exactly 0 (no bin on a log scale). */
  zero: number;
}

export function summarize(r: PopulationReport, solvedBelow: number, near: number, scalar: boolean): PopulationSummary {
  const finite = Array.from(r.finalLoss)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  let solved = 0;
  let nearCount = 0;
  let nearSolved = 0;
  const P = r.paramCount;
  for (let m = 0; m < r.count; m++) {
    const loss = r.finalLoss[m];
    const ok = Number.isFinite(loss) && loss < solvedBelow;
    if (ok) solved++;
    if (scalar) {
      let close = true;
      for (let p = 0; p < P; p++) if (!(Math.abs(r.params[m * P + p] - NOTES_PARAMS[p]) <= near)) close = false;
      if (close) {
        nearCount++;
        if (ok) nearSolved++;
      }
    }
  }
  return {
    count: r.count,
    finite: finite.length,
    diverged: r.status.filter((s) => s === 'diverged').length,
    converged: r.status.filter((s) => s === 'converged').length,
    quantiles: QUANTILES.map((p) => ({ p, loss: quantile(finite, p) })),
    solved: { threshold: solvedBelow, count: solved },
    nearNotes: scalar ? { tolerance: near, count: nearCount, solvedCount: nearSolved } : null,
    zero: finite.filter((v) => v === 0).length,
  };
}

/** Decade bins of final losses from 10^LOSS_FLOOR up to the largest (smaller ones are counted as below). */
export const LOSS_FLOOR = -12;

export function lossBins(losses: ArrayLike<number>): Bins {
  let max = 0;
  for (let k = 0; k < losses.length; k++) if (Number.isFinite(losses[k]) && losses[k] > max) max = losses[k];
  const top = Math.max(LOSS_FLOOR + 1, Math.ceil(Math.log10(max > 0 ? max : 1) + 1e-12));
  return binValues(losses, top - LOSS_FLOOR, true, [LOSS_FLOOR, top]);
}

/** A text histogram of final losses, one row per decade (values below 1e-12, exact zeros and non-finite apart). */
export function textHistogram(b: Bins): string {
  const max = Math.max(1, b.below, ...b.counts);
  const row = (label: string, n: number): string =>
    `  ${label.padEnd(18)} ${String(n).padStart(7)} ${'#'.repeat(Math.round((50 * n) / max))}`;
  const lines: string[] = [];
  if (b.nonPositive) lines.push(row('exactly 0', b.nonPositive));
  lines.push(row(`below 1e${LOSS_FLOOR}`, b.below));
  b.counts.forEach((n, k) => lines.push(row(`[1e${Math.round(b.edges[k])}, 1e${Math.round(b.edges[k + 1])})`, n)));
  if (b.nonFinite) lines.push(row('not finite', b.nonFinite));
  return lines.join('\n');
}

/** One comparison of the population's final losses with models trained alone. */
interface Comparison {
  backend: string;
  /** Models whose final loss is bit-identical. */
  identical: number;
  /** Models within the tolerance. */
  agree: number;
  maxAbsDiff: number;
  tolerance: string;
}

interface CheckResult {
  /** The retrained model indices (evenly spaced). */
  models: number[];
  /** Alone on the population's backend: the same arithmetic, so the final losses must agree to 1e-6 (relative). */
  sameBackend: Comparison;
  /**
   * Alone on the float64 CPU (only when the population ran on WebGPU): |a − b| ≤ 1e-4 + 1e-3·max(|a|, |b|).
   * Reported, not enforced: float32 and float64 trajectories may part where a gradient is near zero (Adam divides
   * by its size) or at a ReLU kink, so a few models end at slightly different losses.
   */
  cpu: Comparison | null;
  /** True when the same-backend comparison passed. */
  ok: boolean;
}

async function compareAlone(
  engine: Engine,
  r: PopulationReport,
  models: ReturnType<typeof randomPopulation>,
  picked: number[],
  batch: Parameters<typeof train>[2],
  opts: TrainOptions,
  tol: (a: number, b: number) => number,
  tolText: string,
): Promise<Comparison> {
  let maxAbsDiff = 0;
  let agree = 0;
  let identical = 0;
  for (const m of picked) {
    const one = await train(engine, models[m], batch, opts);
    const a = r.finalLoss[m];
    const b = one.finalLoss;
    const d = Math.abs(a - b);
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) identical++;
    if ((Number.isNaN(a) && Number.isNaN(b)) || d <= tol(a, b)) agree++;
    if (Number.isFinite(d)) maxAbsDiff = Math.max(maxAbsDiff, d);
  }
  return { backend: engine.backend, identical, agree, maxAbsDiff, tolerance: tolText };
}

/** Retrains `n` models (evenly spaced indices) one by one with `train`: on the population's backend, and on the CPU. */
async function checkAlone(
  engine: Engine,
  r: PopulationReport,
  models: ReturnType<typeof randomPopulation>,
  batch: Parameters<typeof train>[2],
  opts: TrainOptions,
  n: number,
): Promise<CheckResult> {
  const k = Math.min(n, r.count);
  const picked = Array.from({ length: k }, (_, i) => Math.floor((i * r.count) / k));
  const sameBackend = await compareAlone(
    engine,
    r,
    models,
    picked,
    batch,
    opts,
    (a, b) => 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)),
    '|Δ| ≤ 1e-6·max(1, |a|, |b|)',
  );
  let cpu: Comparison | null = null;
  if (engine.backend !== 'cpu') {
    const cpuEngine = await Engine.create({ backend: 'cpu' });
    try {
      cpu = await compareAlone(
        cpuEngine,
        r,
        models,
        picked,
        batch,
        opts,
        (a, b) => 1e-4 + 1e-3 * Math.max(Math.abs(a), Math.abs(b)),
        '|Δ| ≤ 1e-4 + 1e-3·max(|a|, |b|)',
      );
    } finally {
      cpuEngine.dispose();
    }
  }
  return { models: picked, sameBackend, cpu, ok: sameBackend.agree === k };
}

export function registerPopulation(program: Command, io: CliIO): void {
  const cmd = program
    .command('population')
    .description(
      'train many copies of a network from random initial weights at once; the distribution of final losses',
    );
  cmd.option('--count <n>', 'number of models (≥ 1)', integer(1, 1 << 24), 10000);
  addDataOptions(cmd);
  addModelOptions(cmd, "the data set's suggested shape (weights are always random)");
  addTrainOptions(cmd);
  cmd
    .option('--solved <ssr>', 'a model counts as solved when its final SSR is below this', number('positive'), 1e-3)
    .option(
      '--near <tol>',
      "1-1-1 models: count those whose every weight is within tol of the notes' (w1=1.8, b1=0, w2=-0.5, w3=1.1, b2=0)",
      number('positive'),
      0.1,
    )
    .option(
      '--check <n>',
      'retrain n sampled models one by one (same backend, and the float64 CPU) and compare final losses',
      integer(0, 1 << 20),
      0,
    )
    .addOption(backendOption())
    .option('--svg <hist.svg>', 'histogram of the final losses')
    .option('--out <file>', 'per-model results: .csv (model, status, steps, final loss, weights) or .json')
    .option('--json', 'print the report as JSON')
    .action(async (o: PopulationCommandOptions) => {
      outputKind(o.svg, '--svg', ['svg'] as const);
      const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
      checkOutputsAreNotInputs(
        [
          ['--out', o.out],
          ['--svg', o.svg],
        ],
        [
          ['--data', o.data],
          ['--init', o.init],
        ],
      );
      const topts = trainOptionsFrom(o, o.seed);
      const {
        data,
        train: batch,
        validation,
      } = withCsvProgress(io, 'population', isCsvData(o) ? o.data : null, ' and cutting its windows', (hooks) =>
        loadSplitData(o, o.seed, hooks),
      );
      const base = baseModel(o, data);
      const models = randomPopulation(base, o.count, o.seed, o.scale);
      const { report, check } = await withEngine(o.backend, io, async (engine) => {
        const progress = trainProgress(io, `population of ${o.count}`, topts.steps, false);
        let report: PopulationReport;
        try {
          report = await trainPopulation(engine, models, batch, {
            ...topts,
            validation: validation ?? undefined,
            onProgress: progress.onProgress,
          });
        } finally {
          progress.done();
        }
        const check = o.check > 0 ? await checkAlone(engine, report, models, batch, topts, o.check) : null;
        return { report, check };
      });
      // The notes' weights exist for their network only: a 1-1-1 Elman model.
      const scalar =
        base.inputSize === 1 && base.hiddenSize === 1 && base.outputSize === 1 && (base.cell ?? 'elman') === 'elman';
      const s = summarize(report, o.solved, o.near, scalar);
      const bins = lossBins(report.finalLoss);
      const valSorted = report.validationLoss
        ? Array.from(report.validationLoss)
            .filter(Number.isFinite)
            .sort((a, b) => a - b)
        : null;
      const valQ = valSorted ? QUANTILES.map((p) => ({ p, loss: quantile(valSorted, p) })) : null;
      const files: { path: string; text: string }[] = [];
      if (o.svg) {
        files.push({
          path: o.svg,
          text: histogramSvg({
            bins,
            xLabel: 'final loss (SSR)',
            yLabel: 'models',
            title: `${report.count} models on ${data.name}: final losses (${s.solved.count} below ${o.solved})`,
          }),
        });
      }
      if (o.out) {
        const P = report.paramCount;
        const names = Array.from({ length: P }, (_, p) => paramName(base, p));
        if (outKind === 'csv') {
          const rows = [
            `model,status,steps,diverged_at_step,final_loss${report.validationLoss ? ',validation_loss' : ''},${names.join(',')}`,
          ];
          for (let m = 0; m < report.count; m++) {
            const w = Array.from(report.params.subarray(m * P, (m + 1) * P), String).join(',');
            rows.push(
              `${m},${report.status[m]},${report.stepsDone[m]},${report.divergedAtStep[m]},${report.finalLoss[m]}${report.validationLoss ? `,${report.validationLoss[m]}` : ''},${w}`,
            );
          }
          files.push({ path: o.out, text: rows.join('\n') + '\n' });
        } else {
          const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);
          files.push({
            path: o.out,
            text:
              JSON.stringify({
                paramNames: names,
                models: Array.from({ length: report.count }, (_, m) => ({
                  status: report.status[m],
                  steps: report.stepsDone[m],
                  divergedAtStep: report.divergedAtStep[m],
                  finalLoss: fin(report.finalLoss[m]),
                  validationLoss: report.validationLoss ? fin(report.validationLoss[m]) : undefined,
                  params: Array.from(report.params.subarray(m * P, (m + 1) * P)),
                })),
              }) + '\n',
          });
        }
      }
      writeOutputs(files);
      const modelSteps = report.stepsDone.reduce((a, b) => a + b, 0);
      const rate = modelSteps / Math.max(report.seconds, 1e-9);
      if (o.json) {
        await io.out(
          jsonText({
            backend: report.backend,
            adapter: report.adapter,
            ...(report.fallbackReason ? { fallbackReason: report.fallbackReason } : {}),
            data: {
              name: data.name,
              description: data.description,
              train: batch.count,
              validation: validation?.count ?? 0,
            },
            model: {
              cell: base.cell ?? 'elman',
              inputSize: base.inputSize,
              hiddenSize: base.hiddenSize,
              outputSize: base.outputSize,
              ...(base.numLayers !== undefined ? { numLayers: base.numLayers, bidirectional: base.bidirectional } : {}),
              activation: base.activation,
              output: base.output,
            },
            options: { ...topts, count: o.count, scale: o.scale },
            seconds: report.seconds,
            modelStepsPerSecond: rate,
            ...s,
            quantiles: s.quantiles.map((q) => ({ p: q.p, loss: Number.isFinite(q.loss) ? q.loss : null })),
            validationQuantiles: valQ
              ? valQ.map((q) => ({ p: q.p, loss: Number.isFinite(q.loss) ? q.loss : null }))
              : null,
            histogram: {
              log10Edges: bins.edges,
              counts: bins.counts,
              below: bins.below,
              zero: bins.nonPositive,
              nonFinite: bins.nonFinite,
            },
            check,
            files: files.map((f) => f.path),
          }) + '\n',
        );
      } else {
        const pct = (n: number): string => `${((100 * n) / report.count).toFixed(1)}%`;
        const L: string[] = [];
        L.push(`backend     ${report.backend}, adapter ${report.adapter}`);
        if (report.fallbackReason) L.push(`            on the CPU: ${report.fallbackReason}`);
        L.push(`data        ${data.name}: ${data.description}`);
        L.push(
          `models      ${report.count} × I=${base.inputSize} H=${base.hiddenSize} O=${base.outputSize}${(base.numLayers ?? 1) > 1 ? `, ${base.numLayers} layers` : ''}${base.bidirectional ? ', bidirectional' : ''} ${cellText(base)}, weights uniform in [-${o.scale}, ${o.scale}] (seed ${o.seed})`,
        );
        L.push(`optimizer   ${optimizerText(topts)}`);
        L.push(`time        ${report.seconds.toFixed(2)} s, ${Math.round(rate).toLocaleString('en-US')} model-steps/s`);
        L.push('');
        L.push(`final loss (SSR over the training set), quantiles of the ${s.finite} finite values:`);
        L.push(
          '  ' +
            s.quantiles
              .map((q) => `${q.p === 0 ? 'min' : q.p === 1 ? 'max' : `${q.p * 100}%`} ${num(q.loss)}`)
              .join('   '),
        );
        if (valQ) {
          L.push(`validation loss (SSR over the ${validation!.count} held-out sequences), quantiles:`);
          L.push(
            '  ' +
              valQ.map((q) => `${q.p === 0 ? 'min' : q.p === 1 ? 'max' : `${q.p * 100}%`} ${num(q.loss)}`).join('   '),
          );
        }
        L.push('', 'histogram, one row per decade:', textHistogram(bins), '');
        L.push(`solved (final SSR < ${o.solved}):  ${s.solved.count} of ${report.count} (${pct(s.solved.count)})`);
        if (s.nearNotes) {
          L.push(
            `near the notes' weights (each of w1, b1, w2, w3, b2 within ${o.near} of 1.8, 0, -0.5, 1.1, 0):  ${s.nearNotes.count} (${pct(s.nearNotes.count)})`,
          );
        }
        L.push(
          `diverged:  ${s.diverged}${topts.lossThreshold !== undefined ? `   stopped early at the threshold: ${s.converged}` : ''}`,
        );
        if (check) {
          const line = (c: Comparison, what: string): string =>
            `  ${what}: ${c.identical} bit-identical, ${c.agree} within ${c.tolerance}; max |Δ final loss| ${num(c.maxAbsDiff)}`;
          L.push('', `check: ${check.models.length} models retrained one by one`);
          L.push(line(check.sameBackend, `alone on ${check.sameBackend.backend}`));
          if (check.cpu) L.push(line(check.cpu, 'alone on the CPU (float64)'));
        }
        if (files.length) L.push('', ...files.map((f) => `wrote ${printable(f.path)}`));
        await io.out(L.join('\n') + '\n');
      }
      if (check && !check.ok)
        throw new MismatchError(
          `population: ${check.models.length - check.sameBackend.agree} of ${check.models.length} checked models differ from training them one by one on ${check.sameBackend.backend}`,
        );
    });
}
