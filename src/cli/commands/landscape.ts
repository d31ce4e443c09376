// `webgpu-rnn landscape`: the SSR of a data set over a grid of two parameters (others fixed), computed in one call
// (on WebGPU: one model per grid point), written as CSV or JSON and drawn as an SVG heatmap, optionally with the
// path of gradient descent over the same two parameters; --check compares sampled points with the CPU reference.

import { Command } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { gpuTolerance } from '../../compare.ts';
import { Engine } from '../../engine.ts';
import { InputError } from '../../errors.ts';
import { maxLength } from '../../batch.ts';
import { modelFromJSON, type Model } from '../../model.ts';
import { readModelFile } from '../../io/files.ts';
import { heatmapSvg } from '../../svg/index.ts';
import { lossLandscape } from '../../train/index.ts';
import { LIMITS } from '../../model.ts';
import type { LandscapeResult } from '../../train/types.ts';
import { checkOutputsAreNotInputs, MismatchError, printable, type CliIO } from '../io.ts';
import { backendOption, integer } from '../options.ts';
import { withEngine } from '../run.ts';
import { withCsvProgress } from '../progress.ts';
import { cellText, jsonText, num } from '../format.ts';
import { resolveParam } from '../../train/options.ts';
import type { CellName } from '../../cells/index.ts';
import { randomPopulation } from '../../train/index.ts';
import {
  addDataOptions,
  addTrainOptions,
  cellOption,
  zeroModel,
  loadData,
  optimizerText,
  outputKind,
  parseInterval,
  trainOptionsFrom,
  writeOutputs,
  type DataCliOptions,
  type TrainCliOptions,
  isCsvData,
} from './experiment-options.ts';

interface LandscapeCommandOptions extends Omit<DataCliOptions, 'validation' | 'split'>, TrainCliOptions {
  model?: string;
  cell?: CellName;
  hidden?: number;
  layers?: number;
  bidirectional?: boolean;
  x: string;
  y: string;
  range: [number, number];
  xRange?: [number, number];
  yRange?: [number, number];
  grid: string;
  path?: boolean;
  pathStart?: string;
  seed: number;
  check: number;
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
}

/** `512` or `512x256` (x by y). */
function parseGrid(v: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$/i.exec(v);
  if (!m) throw new InputError('--grid', `expected N or NxM (grid points along x and y), got "${v}"`);
  const nx = Number(m[1]);
  const ny = m[2] === undefined ? nx : Number(m[2]);
  for (const n of [nx, ny])
    if (!(n >= 2 && n <= 4096)) throw new InputError('--grid', `grid points per axis must be from 2 to 4096, got ${n}`);
  return [nx, ny];
}

interface CheckResult {
  points: number;
  maxAbsDiff: number;
  maxRelDiff: number;
  failures: number;
  tolerance: { atol: number; rtol: number };
}

/** Evaluates `n` grid points (a fixed, evenly strided sample plus the corners) with the float64 CPU engine. */
async function checkPoints(
  r: LandscapeResult,
  model: Model,
  batch: Parameters<typeof lossLandscape>[2],
  n: number,
): Promise<CheckResult> {
  const nx = r.x.length;
  const ny = r.y.length;
  const total = nx * ny;
  const picks = new Set<number>([0, nx - 1, total - nx, total - 1]);
  for (let i = 0; picks.size < Math.min(n, total); i++) picks.add(Math.floor(((i + 0.5) * total) / n) % total);
  const cpu = await Engine.create({ backend: 'cpu' });
  const expected: number[] = [];
  const actual: number[] = [];
  try {
    for (const k of picks) {
      const params = model.params.slice();
      params[r.xIndex] = r.x[k % nx];
      params[r.yIndex] = r.y[Math.floor(k / nx)];
      let loss: number;
      try {
        loss = (await cpu.run({ ...model, params }, batch, { gradients: false })).loss!;
      } catch {
        loss = NaN; // overflow on the CPU too: compared as NaN = NaN
      }
      expected.push(loss);
      actual.push(r.losses[k]);
    }
  } finally {
    cpu.dispose();
  }
  const tol = gpuTolerance(maxLength(batch), expected.filter(Number.isFinite));
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let failures = 0;
  expected.forEach((e, i) => {
    const a = actual[i];
    if (Number.isNaN(e) && Number.isNaN(a)) return;
    const d = Math.abs(a - e);
    const scale = Math.max(Math.abs(a), Math.abs(e));
    if (!(d <= tol.atol + tol.rtol * scale)) failures++;
    if (Number.isFinite(d)) {
      maxAbsDiff = Math.max(maxAbsDiff, d);
      if (scale > 0) maxRelDiff = Math.max(maxRelDiff, d / scale);
    }
  });
  return { points: picks.size, maxAbsDiff, maxRelDiff, failures, tolerance: tol };
}

function gridCsv(r: LandscapeResult): string {
  const lines = [`${r.xName},${r.yName},ssr`];
  const nx = r.x.length;
  for (let iy = 0; iy < r.y.length; iy++)
    for (let ix = 0; ix < nx; ix++) {
      const v = r.losses[iy * nx + ix];
      lines.push(`${r.x[ix]},${r.y[iy]},${Number.isFinite(v) ? v : ''}`);
    }
  return lines.join('\n') + '\n';
}

export function registerLandscape(program: Command, io: CliIO): void {
  const cmd = program
    .command('landscape')
    .description('the loss (SSR) over a grid of two parameters, the others fixed; CSV/JSON and an SVG heatmap');
  cmd
    .option('--model <model>', 'model JSON file or preset name (its other parameters stay fixed; default statquest)')
    .addOption(cellOption().conflicts('model'))
    .option(
      '--hidden <H>',
      'with --cell: hidden units of the random model (default: what the data set suggests)',
      integer(1, LIMITS.maxHiddenSize),
    )
    .option(
      '--layers <N>',
      "with --cell: stacked recurrent layers of the random model (PyTorch's num_layers; default 1)",
      integer(1, LIMITS.maxLayers),
    )
    .option('--bidirectional', 'with --cell: every layer of the random model also runs in reverse')
    .option(
      '--x <param>',
      'parameter along x: w1, b1, w2, w3, b2 (1-1-1 Elman models) or Wx[0][0], Wh[1][0], bh[0], bx[2] (LSTM, GRU), layers[2].Wh[0][1] (stacked or bidirectional), … or an index',
      'w1',
    )
    .option('--y <param>', 'parameter along y', 'w2')
    .option('--range <min:max>', 'range of both parameters', parseInterval, [-3, 3] as [number, number])
    .option('--x-range <min:max>', 'range of the x parameter (default --range)', parseInterval)
    .option('--y-range <min:max>', 'range of the y parameter (default --range)', parseInterval)
    .option('--grid <n>', 'grid points per axis: N, or NxM for x by y', '512');
  addDataOptions(cmd, { split: false });
  cmd
    .option(
      '--path',
      "overlay gradient descent over the two parameters (others fixed) from the model's values or --path-start",
    )
    .option('--path-start <x,y>', 'where the path starts (values of the x and y parameters)');
  addTrainOptions(cmd, { optimizer: 'sgd', lr: 0.05, steps: 300 });
  cmd
    .option(
      '--seed <n>',
      'seed of the mini-batch shuffle of the path (and, with --cell, of the random model)',
      integer(-0x80000000, 0xffffffff),
      1,
    )
    .option('--check <n>', 'evaluate n grid points with the float64 CPU reference and compare', integer(0, 1 << 20), 0)
    .addOption(backendOption())
    .option('--out <file>', 'the grid: .csv (x, y, ssr per line) or .json')
    .option('--svg <file>', 'heatmap of the grid (log colour scale)')
    .option('--json', 'print the report as JSON')
    .action(async (o: LandscapeCommandOptions) => {
      const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
      outputKind(o.svg, '--svg', ['svg'] as const);
      checkOutputsAreNotInputs(
        [
          ['--out', o.out],
          ['--svg', o.svg],
        ],
        [
          ['--model', o.model],
          ['--data', o.data],
        ],
      );
      const [nx, ny] = parseGrid(o.grid);
      const [xmin, xmax] = o.xRange ?? o.range;
      const [ymin, ymax] = o.yRange ?? o.range;
      const dataOpts = { ...o, validation: undefined, split: 'time' as const };
      const data = withCsvProgress(
        io,
        'landscape',
        isCsvData(dataOpts) ? o.data : null,
        ' and cutting its windows',
        (hooks) => loadData(dataOpts, hooks),
      );
      if (o.hidden !== undefined && !o.cell)
        throw new InputError('--hidden', 'applies with --cell only (a --model file has its own shape)');
      if (o.layers !== undefined && !o.cell)
        throw new InputError('--layers', 'applies with --cell only (a --model file has its own shape)');
      if (o.bidirectional && !o.cell)
        throw new InputError('--bidirectional', 'applies with --cell only (a --model file has its own shape)');
      // --cell: a random model of that cell (uniform in [-1, 1], seed --seed) in the data set's suggested shape.
      let model = o.cell
        ? randomPopulation(
            zeroModel(
              o.cell,
              {
                ...data.suggest,
                hiddenSize: o.hidden ?? data.suggest.hiddenSize,
                ...(o.layers !== undefined && o.layers > 1 ? { numLayers: o.layers } : {}),
                ...(o.bidirectional ? { bidirectional: true } : {}),
              },
              o.cell === 'elman' ? data.suggest.activation : 'tanh',
            ),
            1,
            o.seed,
          )[0]
        : modelFromJSON(readModelFile(o.model ?? 'statquest'));
      const xIndex = resolveParam(model, o.x, '--x');
      const yIndex = resolveParam(model, o.y, '--y');
      const topts = trainOptionsFrom(o, o.seed);
      if (!o.path && o.pathStart) throw new InputError('--path-start', 'needs --path');
      if (o.pathStart) {
        const parts = o.pathStart.split(',').map((s) => Number(s.trim()));
        if (
          parts.length !== 2 ||
          parts.some((v) => !Number.isFinite(v)) ||
          o.pathStart.split(',').some((s) => s.trim() === '')
        ) {
          throw new InputError('--path-start', `expected two numbers x,y, got "${o.pathStart}"`);
        }
        const params = model.params.slice();
        params[xIndex] = parts[0];
        params[yIndex] = parts[1];
        model = { ...model, params };
      }
      const batch = data.batch;
      const { r, check } = await withEngine(o.backend, io, async (engine) => {
        const r = await lossLandscape(
          engine,
          model,
          batch,
          { param: o.x, min: xmin, max: xmax, steps: nx },
          { param: o.y, min: ymin, max: ymax, steps: ny },
          o.path ? { path: topts } : {},
        );
        const check = o.check > 0 ? await checkPoints(r, model, batch, o.check) : null;
        return { r, check };
      });
      // The minimum of the grid.
      let best = -1;
      for (let k = 0; k < r.losses.length; k++)
        if (Number.isFinite(r.losses[k]) && (best < 0 || r.losses[k] < r.losses[best])) best = k;
      let nonFinite = 0;
      for (const v of r.losses) if (!Number.isFinite(v)) nonFinite++;
      const minimum = best < 0 ? null : { loss: r.losses[best], x: r.x[best % nx], y: r.y[Math.floor(best / nx)] };
      const files: { path: string; text: string }[] = [];
      if (o.out) {
        files.push({
          path: o.out,
          text:
            outKind === 'csv'
              ? gridCsv(r)
              : JSON.stringify({
                  x: { param: r.xName, values: Array.from(r.x) },
                  y: { param: r.yName, values: Array.from(r.y) },
                  ssr: Array.from({ length: ny }, (_, iy) =>
                    Array.from(r.losses.subarray(iy * nx, (iy + 1) * nx), (v) => (Number.isFinite(v) ? v : null)),
                  ),
                  path: r.path,
                }) + '\n',
        });
      }
      if (o.svg) {
        files.push({
          path: o.svg,
          text: heatmapSvg({
            values: r.losses,
            rows: ny,
            cols: nx,
            x: { label: `${o.x}${o.x !== r.xName ? ` (${r.xName})` : ''}`, min: xmin, max: xmax },
            y: { label: `${o.y}${o.y !== r.yName ? ` (${r.yName})` : ''}`, min: ymin, max: ymax },
            title: `SSR on ${data.name} over ${o.x} × ${o.y} (${nx}×${ny})`,
            valueLabel: 'SSR',
            path: r.path ?? undefined,
            pathLabel: r.path ? `gradient descent: ${optimizerText(topts)}` : undefined,
          }),
        });
      }
      writeOutputs(files);
      const pathEnd = r.path && r.path.length ? r.path[r.path.length - 1] : null;
      if (o.json) {
        await io.out(
          jsonText({
            backend: r.backend,
            adapter: r.adapter,
            ...(r.fallbackReason ? { fallbackReason: r.fallbackReason } : {}),
            data: { name: data.name, description: data.description, count: batch.count },
            model: {
              source: o.cell ? `random, seed ${o.seed}` : (o.model ?? 'statquest'),
              cell: model.cell ?? 'elman',
              inputSize: model.inputSize,
              hiddenSize: model.hiddenSize,
              outputSize: model.outputSize,
              numLayers: model.numLayers ?? 1,
              bidirectional: model.bidirectional === true,
            },
            x: { param: r.xName, min: xmin, max: xmax, steps: nx },
            y: { param: r.yName, min: ymin, max: ymax, steps: ny },
            points: nx * ny,
            seconds: r.seconds,
            minimum,
            nonFinite,
            path: r.path ? { options: topts, points: r.path.length, start: r.path[0], end: pathEnd } : null,
            check,
            files: files.map((f) => f.path),
          }) + '\n',
        );
      } else {
        const L: string[] = [];
        L.push(`backend    ${r.backend}, adapter ${r.adapter}`);
        if (r.fallbackReason) L.push(`           on the CPU: ${r.fallbackReason}`);
        L.push(`data       ${data.name}: ${data.description}`);
        const stack = `${(model.numLayers ?? 1) > 1 ? `, ${model.numLayers} layers` : ''}${model.bidirectional ? ', bidirectional' : ''}`;
        L.push(
          `model      ${o.cell ? `random (uniform in [-1, 1], seed ${o.seed})` : printable(o.model ?? 'statquest')}: I=${model.inputSize} H=${model.hiddenSize} O=${model.outputSize}${stack} ${cellText(model)}`,
        );
        const alias = (name: string, given: string): string => (given !== name ? `${name} (${given})` : name);
        L.push(
          `grid       ${alias(r.xName, o.x)} from ${xmin} to ${xmax} × ${alias(r.yName, o.y)} from ${ymin} to ${ymax}: ${nx}×${ny} = ${(nx * ny).toLocaleString('en-US')} points`,
        );
        L.push(
          `time       ${r.seconds.toFixed(2)} s (${Math.round((nx * ny) / Math.max(r.seconds, 1e-9)).toLocaleString('en-US')} points/s${o.path ? ', path included' : ''})`,
        );
        if (minimum)
          L.push(`minimum    SSR ${num(minimum.loss)} at ${o.x} = ${num(minimum.x)}, ${o.y} = ${num(minimum.y)}`);
        if (nonFinite) L.push(`not finite ${nonFinite} points (overflow)`);
        if (r.path && r.path.length) {
          const a = r.path[0];
          L.push(
            `path       ${optimizerText(topts)}: ${o.x}, ${o.y} = ${num(a.x)}, ${num(a.y)} (SSR ${num(a.loss)}) → ${num(pathEnd!.x)}, ${num(pathEnd!.y)} (SSR ${num(pathEnd!.loss)}), ${r.path.length} points`,
          );
        }
        if (check) {
          L.push(
            `check      ${check.points} grid points against the float64 CPU reference: ${check.failures === 0 ? 'all within' : `${check.failures} beyond`} atol ${check.tolerance.atol.toExponential(2)} + rtol ${check.tolerance.rtol.toExponential(2)}; max abs diff ${check.maxAbsDiff.toExponential(2)}, max rel diff ${check.maxRelDiff.toExponential(2)}`,
          );
        }
        if (files.length) L.push('', ...files.map((f) => `wrote ${printable(f.path)}`));
        await io.out(L.join('\n') + '\n');
      }
      if (check && check.failures > 0)
        throw new MismatchError(
          `landscape: ${check.failures} of ${check.points} checked grid points differ from the CPU reference beyond tolerance`,
        );
    });
}
