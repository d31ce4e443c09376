// `webgpu-rnn unroll-study --cells elman,lstm,gru` (or `--model FILE,…`): the cells' unroll study (src/study/cells.ts)
// — how the gradient reaching the state and the input k steps back decays for Elman, LSTM and GRU side by side,
// with an LSTM saturated at f = 1, i = 0 beside them — as a report, CSV or JSON and an SVG plot on a log axis.
// Every measure comes from the float64 CPU; on WebGPU the input side (∂SSR/∂x and the Wx terms) is computed again
// through the engine (src/study/cells-engine.ts) and checked against it (exit 4 beyond the engine's tolerance).

import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CELL_NAMES, type CellName } from '../../cells/index.ts';
import type { BackendChoice } from '../../backend.ts';
import { compareArrays, gpuTolerance } from '../../compare.ts';
import { InputError } from '../../errors.ts';
import { cellStudyOnEngine, type CellEngineStudy } from '../../study/cells-engine.ts';
import { readModelFile } from '../../io/files.ts';
import { modelFromJSON, type Activation, type Model } from '../../model.ts';
import {
  CELL_STUDY_MEASURES,
  MAX_CELL_STUDY_LENGTH,
  cellStudy,
  factorRange,
  perStepFactor,
  randomCellModels,
  type CellStudy,
  type CellStudyEntry,
  type CellStudyMeasure,
} from '../../study/cells.ts';
import { linePlotSvg } from '../../svg/index.ts';
import { jsonText, num } from '../format.ts';
import { checkOutputsAreNotInputs, MismatchError, printable, type CliIO } from '../io.ts';
import { withEngine } from '../run.ts';
import { outputKind, writeOutputs } from './experiment-options.ts';

/** The options of the cells' mode of `unroll-study`. */
export interface CellStudyCliOptions {
  cells?: CellName[];
  /** Model JSON files or presets, comma-separated. */
  model?: string;
  hidden: number;
  seed: number;
  scale: number;
  saturation: number;
  measure: CellStudyMeasure;
  length: number;
  inputs: number[];
  target: number;
  activation: Activation;
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
}

/** Default sequence length of the cells' study (the w2 study's is 20). */
export const CELL_STUDY_LENGTH = 60;
/** Default gate bias of the saturated LSTM: σ(20) = 1 − 2·10⁻⁹. */
export const CELL_STUDY_SATURATION = 20;

/** --cells: a comma list of cell names. */
export function parseCells(v: string): CellName[] {
  const names = v.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(CELL_NAMES as readonly string[]).includes(n))
      throw new InvalidArgumentError(`Expected a comma list of ${CELL_NAMES.join(', ')}, got "${n}".`);
  }
  return names as CellName[];
}

const MEASURE_TEXT: Record<CellStudyMeasure, string> = {
  state: '‖∂SSR/∂s_(T−k)‖, the gradient reaching the state k steps back (s = h; LSTM: [h, c]; k = T is s_0)',
  input: '‖∂SSR/∂x_(T−k)‖, the gradient reaching the input k steps back',
  wx: '‖term of dSSR/dWx from step T−k‖ (Frobenius; the terms sum to dSSR/dWx)',
};
const MEASURE_AXIS: Record<CellStudyMeasure, string> = {
  state: '‖∂SSR/∂s(T−k)‖',
  input: '‖∂SSR/∂x(T−k)‖',
  wx: '‖step T−k term of dSSR/dWx‖',
};

function measureOf(row: CellStudy['rows'][number], m: CellStudyMeasure): Float64Array {
  return m === 'state' ? row.state : m === 'input' ? row.input : row.wx;
}

/** The models of the study: --cells (seeded random, plus the saturated LSTM) and --model files. */
function studyModels(o: CellStudyCliOptions): { entries: CellStudyEntry[]; how: string[] } {
  const entries: CellStudyEntry[] = [];
  const how: string[] = [];
  if (o.cells) {
    entries.push(
      ...randomCellModels({
        cells: o.cells,
        hidden: o.hidden,
        seed: o.seed,
        scale: o.scale,
        saturation: o.saturation,
        activation: o.activation,
      }),
    );
    how.push(
      `${o.cells.join(', ')}: random, uniform in [-${o.scale}, ${o.scale}] (seed ${o.seed}), I=1 H=${o.hidden} O=1`,
    );
    if (o.cells.includes('lstm') && o.saturation > 0)
      how.push(
        `lstm (saturated): the lstm's weights with bx = −${o.saturation} on the input gate and +${o.saturation} on the forget gate (bh 0 there)`,
      );
  }
  const files = o.model === undefined ? [] : o.model.split(',').map((f) => f.trim());
  if (files.some((f) => f === ''))
    throw new InputError('--model', `expected model files or presets, comma-separated, got "${o.model}"`);
  for (const file of files) {
    let model: Model;
    try {
      model = modelFromJSON(readModelFile(file));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError('--model', (e as Error).message);
    }
    if (model.output !== 'last')
      throw new InputError(
        '--model',
        `${printable(file)}: the study predicts at the last step only; the model has output "${model.output}"`,
      );
    entries.push({ label: basename(file), model });
    how.push(
      `${basename(file)}: ${model.cell ?? 'elman'}, I=${model.inputSize} H=${model.hiddenSize} O=${model.outputSize}, from ${printable(file)}`,
    );
  }
  return { entries, how };
}

function studyCsv(s: CellStudy, e: CellEngineStudy | null): string {
  const lines = [
    `model,cell,k,step,state_grad,input_grad,wx_term${e ? `,input_grad_${e.backend},wx_term_${e.backend}` : ''}`,
  ];
  const T = s.length;
  s.rows.forEach((row, j) => {
    for (let k = 0; k <= T; k++) {
      const more = e ? `,${k < T ? e.rows[j].input[k] : ''},${k < T ? e.rows[j].wx[k] : ''}` : '';
      lines.push(
        `${row.label.replace(/,/g, ' ')},${row.cell},${k},${T - k},${row.state[k]},${k < T ? row.input[k] : ''},${k < T ? row.wx[k] : ''}${more}`,
      );
    }
  });
  return lines.join('\n') + '\n';
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The engine's input side against the float64 CPU study: per model, the engine's tolerance over its values. */
export interface EngineCheck {
  values: number;
  failures: number;
  maxRelDiff: number;
  tolerance: string;
}

function checkEngine(s: CellStudy, e: CellEngineStudy): EngineCheck {
  let values = 0;
  let failures = 0;
  let maxRelDiff = 0;
  s.rows.forEach((row, j) => {
    for (const [a, x] of [
      [e.rows[j].dInput.flatMap((v) => Array.from(v)), row.dInput.flatMap((v) => Array.from(v))],
      [Array.from(e.rows[j].wx), Array.from(row.wx)],
      [[e.rows[j].loss], [row.loss]],
    ]) {
      const c = compareArrays(a, x, gpuTolerance(s.length, x));
      values += c.count;
      failures += c.failureCount;
      maxRelDiff = Math.max(maxRelDiff, c.maxRel);
    }
  });
  return { values, failures, maxRelDiff, tolerance: 'per model and quantity: atol 1e-5·max|values| + rtol 1e-4·√T' };
}

function factors(
  row: CellStudy['rows'][number],
  T: number,
): Record<CellStudyMeasure, ReturnType<typeof perStepFactor>> {
  const out = {} as Record<CellStudyMeasure, ReturnType<typeof perStepFactor>>;
  for (const m of CELL_STUDY_MEASURES) out[m] = perStepFactor(measureOf(row, m), ...factorRange(m, T));
  return out;
}

function studyJson(
  s: CellStudy,
  e: CellEngineStudy | null,
  check: EngineCheck | null,
  inputsText: string,
  how: string[],
  files: string[],
): Record<string, unknown> {
  return {
    backend: 'cpu',
    adapter: 'float64 JavaScript',
    engine: e
      ? {
          backend: e.backend,
          adapter: e.adapter,
          rows: e.rows.map((r) => ({
            label: r.label,
            loss: r.loss,
            input: Array.from(r.input),
            wx: Array.from(r.wx),
            runs: r.runs,
          })),
          check,
        }
      : null,
    length: s.length,
    target: s.target,
    inputs: inputsText,
    models: how,
    rows: s.rows.map((row) => ({
      label: row.label,
      cell: row.cell,
      inputSize: row.inputSize,
      hiddenSize: row.hiddenSize,
      predicted: Array.from(row.predicted),
      loss: row.loss,
      state: Array.from(row.state),
      input: Array.from(row.input),
      wx: Array.from(row.wx),
      perStep: factors(row, s.length),
      inputs: Array.from(row.inputs),
    })),
    files,
  };
}

/** Runs the cells' study for the parsed options of `unroll-study` (`cmd` tells which options were given). */
export async function runCellStudy(o: CellStudyCliOptions, cmd: Command, io: CliIO): Promise<void> {
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  for (const w of ['w2', 'w1', 'b1', 'w3', 'b2']) {
    if (given(w))
      throw new InputError(
        `--${w}`,
        "belongs to the notes' network study; with --cells or --model the study takes whole models",
      );
  }
  for (const w of ['hidden', 'seed', 'scale', 'saturation']) {
    if (given(w) && !o.cells) throw new InputError(`--${w}`, 'applies to the random models of --cells');
  }
  if (!Number.isFinite(o.saturation) || o.saturation < 0)
    throw new InputError('--saturation', `must be a finite number ≥ 0, got ${o.saturation}`);
  const T = given('length') ? o.length : CELL_STUDY_LENGTH;
  if (T > MAX_CELL_STUDY_LENGTH)
    throw new InputError('--length', `the cells' study takes at most ${MAX_CELL_STUDY_LENGTH} steps, got ${T}`);
  const activation: Activation = given('activation') ? o.activation : 'tanh';
  const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
  outputKind(o.svg, '--svg', ['svg'] as const);
  checkOutputsAreNotInputs(
    [
      ['--out', o.out],
      ['--svg', o.svg],
    ],
    (o.model ?? '').split(',').map((f) => ['--model', f.trim()] as const),
  );
  const { entries, how } = studyModels({ ...o, activation });
  // --inputs: one value for every step and input, or T·I values (all models must then have the same I).
  let inputs: number[] | undefined;
  let inputsText = `uniform in [-1, 1] (seed ${o.seed})`;
  if (given('inputs')) {
    const sizes = new Set(entries.map((e) => e.model.inputSize));
    if (o.inputs.length === 1) {
      inputsText = `all ${o.inputs[0]}`;
    } else if (sizes.size > 1) {
      throw new InputError('--inputs', 'the models have different input sizes; give one value');
    } else {
      const I = entries[0].model.inputSize;
      if (o.inputs.length !== T * I)
        throw new InputError(
          '--inputs',
          `give one value or T·I = ${T}·${I} = ${T * I} values (oldest first), got ${o.inputs.length}`,
        );
      inputs = o.inputs;
      inputsText = o.inputs.join(', ');
    }
  }
  const one = given('inputs') && o.inputs.length === 1 ? o.inputs[0] : null;
  const opts = {
    models: entries,
    length: T,
    target: o.target,
    seed: o.seed,
    inputs: one !== null ? () => one : inputs,
  };
  const study = cellStudy(opts);
  // On WebGPU (--backend webgpu, or auto with an adapter) the input side again, through the engine.
  const eng =
    o.backend === 'cpu'
      ? null
      : await withEngine(o.backend, io, async (engine) =>
          engine.backend === 'webgpu' ? cellStudyOnEngine(engine, opts) : null,
        );
  const check = eng ? checkEngine(study, eng) : null;
  const files: { path: string; text: string }[] = [];
  if (o.out)
    files.push({
      path: o.out,
      text:
        outKind === 'csv'
          ? studyCsv(study, eng)
          : JSON.stringify(studyJson(study, eng, check, inputsText, how, [])) + '\n',
    });
  if (o.svg) {
    files.push({
      path: o.svg,
      text: linePlotSvg({
        series: study.rows.map((row) => {
          const y = measureOf(row, o.measure);
          return { label: row.label, x: Array.from(y, (_, k) => k), y, dashed: row.saturated };
        }),
        xLabel: 'k (steps back from the last step)',
        yLabel: MEASURE_AXIS[o.measure],
        logY: true,
        title: `How far back the gradient reaches: T = ${T}, float64 CPU`,
      }),
    });
  }
  writeOutputs(files);
  if (o.json) {
    await io.out(
      jsonText(
        studyJson(
          study,
          eng,
          check,
          inputsText,
          how,
          files.map((f) => f.path),
        ),
        1,
      ) + '\n',
    );
    if (check && check.failures > 0)
      throw new MismatchError(
        `unroll-study: ${check.failures} of ${check.values} ${eng!.backend} values differ from the float64 CPU beyond tolerance`,
      );
    return;
  }
  const L: string[] = [];
  L.push(`backend   cpu (float64 JavaScript)${eng ? ' for every measure' : ''}`);
  if (eng)
    L.push(
      `          ${eng.backend}, adapter ${eng.adapter}: the input side again through engine.run (${plural(
        eng.rows.reduce((a, r) => a + r.runs, 0),
        'run',
      )}; the engine gives no state gradients)`,
    );
  L.push(`sequence  T = ${T}, inputs ${inputsText}; target ${o.target} for every output at step T`);
  for (const [j, h] of how.entries()) L.push(`${j === 0 ? 'models' : ''.padEnd(6)}    ${h}`);
  for (const m of ['state', 'input'] as const) {
    L.push('');
    L.push(`${m === 'state' ? 'state' : 'input'} gradient: ${MEASURE_TEXT[m]}`);
    const [from, to] = factorRange(m, T);
    const mid = Math.floor((from + to) / 2);
    const ks = [...new Set([0, from, mid, to])];
    const head = [
      'model',
      'SSR',
      ...ks.map((k) => `k=${k}${m === 'state' && k === T ? ' (s_0)' : ''}`),
      `per step (k=${from}…${to})`,
      '',
    ];
    const rows = study.rows.map((row) => {
      const v = measureOf(row, m);
      const f = perStepFactor(v, from, to);
      return [
        row.label,
        num(row.loss),
        ...ks.map((k) => v[k].toExponential(3)),
        f ? f.factor.toPrecision(4) : '-',
        f ? f.verdict : '',
      ];
    });
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const fmt = (r: string[]): string =>
      '  ' +
      r
        .map((v, c) => v.padEnd(widths[c]))
        .join('  ')
        .trimEnd();
    L.push(fmt(head), ...rows.map(fmt));
  }
  if (check) {
    L.push('');
    L.push(
      `${eng!.backend}: ∂SSR/∂x, the Wx terms and the SSR of every model ${check.failures === 0 ? 'match the float64 CPU' : `— ${check.failures} of ${check.values} values differ from the float64 CPU`} (${check.tolerance}); max relative difference ${check.maxRelDiff.toExponential(2)}`,
    );
  }
  if (files.length) L.push('', ...files.map((f) => `wrote ${printable(f.path)}`));
  await io.out(L.join('\n') + '\n');
  if (check && check.failures > 0)
    throw new MismatchError(
      `unroll-study: ${check.failures} of ${check.values} ${eng!.backend} values differ from the float64 CPU beyond tolerance`,
    );
}
