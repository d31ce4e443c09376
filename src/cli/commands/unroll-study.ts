// `webgpu-rnn unroll-study`: the notes' vanishing/exploding gradient lesson, computed: for a sequence of length T
// and a range of w2 values, the term of dSSR/dw1 contributed by the input k steps back, for every k, by BPTT on the
// engine's backend, beside the closed form 2(predicted − target)·w3·w2^k·x_(T−k) for the identity activation.
// Writes CSV or JSON and an SVG plot (|term| against k on a log scale, one line per w2).

import { Command, Option } from 'commander';
import type { BackendChoice } from '../../backend.ts';
import { compareArrays, gpuTolerance } from '../../compare.ts';
import { InputError } from '../../errors.ts';
import { ACTIVATIONS, type Activation } from '../../model.ts';
import { statquestWeights } from '../../statquest.ts';
import { unrollClosedForm, unrollStudy, type UnrollStudy } from '../../study/unroll.ts';
import { linePlotSvg } from '../../svg/index.ts';
import { MismatchError, printable, type CliIO } from '../io.ts';
import { backendOption, integer } from '../options.ts';
import { withEngine } from '../run.ts';
import { jsonText, num } from '../format.ts';
import { number, outputKind, parseValues, writeOutputs } from './experiment-options.ts';
import { CELL_NAMES } from '../../cells/index.ts';
import { LIMITS } from '../../model.ts';
import { CELL_STUDY_MEASURES } from '../../study/cells.ts';
import {
  CELL_STUDY_LENGTH,
  CELL_STUDY_SATURATION,
  parseCells,
  runCellStudy,
  type CellStudyCliOptions,
} from './cell-study.ts';

interface StudyCommandOptions {
  length: number;
  w2: number[];
  activation: Activation;
  inputs: number[];
  target: number;
  w1: number;
  b1: number;
  w3: number;
  b2: number;
  backend: BackendChoice;
  out?: string;
  svg?: string;
  json?: boolean;
}

interface ClosedFormCheck {
  maxRelDiff: number;
  failures: number;
  /** The documented GPU-vs-CPU tolerance per w2 row (gpuTolerance over the row's terms); float64 CPU: 1e-10. */
  tolerance: string;
}

function checkClosedForm(study: UnrollStudy, cf: UnrollStudy): ClosedFormCheck {
  let maxRelDiff = 0;
  let failures = 0;
  study.rows.forEach((row, j) => {
    const exp = cf.rows[j].contributions;
    const tol = study.method === 'webgpu' ? gpuTolerance(study.length, exp) : { atol: 1e-12, rtol: 1e-10 };
    const c = compareArrays(row.contributions, exp, tol);
    maxRelDiff = Math.max(maxRelDiff, c.maxRel);
    failures += c.failureCount;
  });
  return {
    maxRelDiff,
    failures,
    tolerance: study.method === 'webgpu' ? 'per w2: atol 1e-5·max|terms| + rtol 1e-4·√T' : 'atol 1e-12 + rtol 1e-10',
  };
}

function studyCsv(s: UnrollStudy, cf: UnrollStudy | null): string {
  const T = s.length;
  const lines = [`w2,k,step,input,dpredicted_term,contribution${cf ? ',closed_form' : ''}`];
  s.rows.forEach((row, j) => {
    for (let k = 0; k < T; k++) {
      lines.push(
        `${row.w2},${k},${T - k},${s.inputs[T - 1 - k]},${row.dPredicted[k]},${row.contributions[k]}${cf ? `,${cf.rows[j].contributions[k]}` : ''}`,
      );
    }
  });
  return lines.join('\n') + '\n';
}

function studyJson(
  s: UnrollStudy,
  cf: UnrollStudy | null,
  check: ClosedFormCheck | null,
  files: string[],
): Record<string, unknown> {
  return {
    backend: s.method,
    adapter: s.adapter,
    activation: s.activation,
    length: s.length,
    weights: s.weights,
    target: s.target,
    inputs: Array.from(s.inputs),
    rows: s.rows.map((row, j) => ({
      w2: row.w2,
      predicted: row.predicted,
      dSSRdPredicted: row.dSSRdPredicted,
      dSSRdw1: row.dSSRdw1,
      dPredicted: Array.from(row.dPredicted),
      contributions: Array.from(row.contributions),
      closedForm: cf ? Array.from(cf.rows[j].contributions) : undefined,
    })),
    closedFormCheck: check,
    files,
  };
}

export function registerUnrollStudy(program: Command, io: CliIO): void {
  const w = statquestWeights();
  program
    .command('unroll-study')
    .description(
      "the notes' vanishing/exploding gradient lesson: the dSSR/dw1 term of the input k steps back, for every k and a range of w2; with --cells, Elman, LSTM and GRU side by side",
    )
    .option(
      '--length <T>',
      `sequence length (default 20; the cells' study: ${CELL_STUDY_LENGTH})`,
      integer(1, 1 << 20),
      20,
    )
    .option(
      '--w2 <values>',
      'w2 values: a:b:n (n values from a to b) or a comma list',
      parseValues,
      parseValues('-1.5:1.5:7'),
    )
    .addOption(
      new Option('--activation <name>', "identity (the closed form's), relu or tanh")
        .choices(ACTIVATIONS)
        .default('identity'),
    )
    .option(
      '--inputs <values>',
      'the inputs x_1..x_T: one value (repeated) or T comma-separated values',
      parseValues,
      [1],
    )
    .option('--target <y>', 'the observed value', number(), 1)
    .option('--w1 <v>', 'w1', number(), w.w1)
    .option('--b1 <v>', 'b1', number(), w.b1)
    .option('--w3 <v>', 'w3', number(), w.w3)
    .option('--b2 <v>', 'b2', number(), w.b2)
    .addOption(backendOption())
    .option(
      '--out <file>',
      'every term: .csv (w2, k, step, input, dPredicted term, contribution, closed form) or .json',
    )
    .option('--svg <file>', 'plot |contribution| against k, log scale, one line per w2')
    .option('--json', 'print the full study as JSON')
    // The cells' study: whole models of any cell instead of the notes' network over w2 (src/cli/commands/cell-study.ts).
    .option(
      '--cells <list>',
      `the cells' study: seeded random models of these cells side by side (${CELL_NAMES.join(', ')}), the gradient reaching the state and input k steps back`,
      parseCells,
    )
    .option('--model <files>', "the cells' study of these model JSON files or presets (comma-separated)")
    .option('--hidden <H>', '--cells: hidden units of the random models', integer(1, LIMITS.maxHiddenSize), 8)
    .option(
      '--seed <n>',
      '--cells: seed of the random weights (and of the random inputs)',
      integer(-0x80000000, 0xffffffff),
      1,
    )
    .option('--scale <s>', '--cells: random weights are uniform in [-s, s]', number('positive'), 1)
    .option(
      '--saturation <b>',
      `--cells with lstm: add the lstm with input-gate bias −b and forget-gate bias +b (0: leave it out)`,
      number('nonNegative'),
      CELL_STUDY_SATURATION,
    )
    .addOption(
      new Option(
        '--measure <m>',
        "the cells' study: what --svg plots: state (‖∂SSR/∂s‖), input (‖∂SSR/∂x‖) or wx (the step's term of dSSR/dWx)",
      )
        .choices(CELL_STUDY_MEASURES)
        .default('state'),
    )
    .action(async (o: StudyCommandOptions & CellStudyCliOptions, cmd: Command) => {
      if (o.cells || o.model) return runCellStudy(o, cmd, io);
      const outKind = outputKind(o.out, '--out', ['csv', 'json'] as const);
      outputKind(o.svg, '--svg', ['svg'] as const);
      let inputs = o.inputs;
      if (inputs.length === 1) inputs = new Array<number>(o.length).fill(inputs[0]);
      else if (inputs.length !== o.length) {
        throw new InputError('--inputs', `give one value or --length (${o.length}) values, got ${inputs.length}`);
      }
      const opts = {
        inputs,
        w2: o.w2,
        activation: o.activation,
        target: o.target,
        weights: { w1: o.w1, b1: o.b1, w3: o.w3, b2: o.b2 },
      };
      const study = await withEngine(o.backend, io, (engine) => unrollStudy(engine, opts));
      const cf = o.activation === 'identity' ? unrollClosedForm(opts) : null;
      const check = cf ? checkClosedForm(study, cf) : null;
      const T = study.length;
      const files: { path: string; text: string }[] = [];
      if (o.out) {
        files.push({
          path: o.out,
          text: outKind === 'csv' ? studyCsv(study, cf) : JSON.stringify(studyJson(study, cf, check, [])) + '\n',
        });
      }
      if (o.svg) {
        const ks = Array.from({ length: T }, (_, k) => k);
        files.push({
          path: o.svg,
          text: linePlotSvg({
            series: study.rows.map((row) => ({ label: `w2 = ${num(row.w2)}`, x: ks, y: row.contributions })),
            xLabel: 'k (steps back from the last input)',
            yLabel: '|dSSR/dw1 term of the input k steps back|',
            logY: true,
            title: `Vanishing and exploding gradients: ${o.activation}, T = ${T}, ${study.method}`,
          }),
        });
      }
      writeOutputs(files);
      if (o.json) {
        await io.out(
          jsonText(
            studyJson(
              study,
              cf,
              check,
              files.map((f) => f.path),
            ),
            1,
          ) + '\n',
        );
      } else {
        const L: string[] = [];
        const sw = study.weights;
        L.push(`backend   ${study.method}, adapter ${study.adapter}`);
        const f7 = (v: number): string => String(Number(v.toPrecision(7))); // the float32-rounded inputs, shown as given
        L.push(
          `network   h_t = ${o.activation}(w1·x_t + b1 + w2·h_(t-1)), predicted = w3·h_T + b2; w1 = ${f7(sw.w1)}, b1 = ${f7(sw.b1)}, w3 = ${f7(sw.w3)}, b2 = ${f7(sw.b2)} (float32)`,
        );
        const uniform = study.inputs.every((v) => v === study.inputs[0]);
        L.push(
          `sequence  T = ${T}, inputs ${uniform ? `all ${f7(study.inputs[0])}` : Array.from(study.inputs, f7).join(', ')}; target ${f7(study.target)}`,
        );
        L.push(
          `term k    the input k steps back adds dSSR/dpredicted · dpredicted/dz_(T-k) · x_(T-k) to dSSR/dw1${cf ? '; closed form 2(predicted − target)·w3·w2^k·x_(T-k)' : ''}`,
        );
        L.push('');
        const mid = Math.floor((T - 1) / 2);
        const head = [
          'w2',
          'predicted',
          'dSSR/dw1',
          'term k=0',
          `term k=${mid}`,
          `term k=${T - 1}`,
          '|last/first|',
          '',
        ];
        const rows = study.rows.map((row) => {
          const first = Math.abs(row.contributions[0]);
          const last = Math.abs(row.contributions[T - 1]);
          const ratio = first > 0 ? last / first : NaN;
          // Per step back the term shrinks or grows by |last/first|^(1/(T−1)) on average (|w2| for identity).
          const perStep = T > 1 && Number.isFinite(ratio) ? ratio ** (1 / (T - 1)) : 1;
          const kind =
            first === 0 || !Number.isFinite(ratio)
              ? ''
              : perStep < 0.99
                ? 'vanishes'
                : perStep > 1.01
                  ? 'explodes'
                  : '';
          return [
            num(row.w2),
            num(row.predicted),
            num(row.dSSRdw1),
            num(row.contributions[0]),
            num(row.contributions[mid]),
            num(row.contributions[T - 1]),
            Number.isFinite(ratio) ? ratio.toExponential(2) : '-',
            kind,
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
        if (check) {
          L.push('');
          L.push(
            `closed form: every term of every w2 ${check.failures === 0 ? 'matches' : `— ${check.failures} terms differ`} (${check.tolerance}); max relative difference ${check.maxRelDiff.toExponential(2)}`,
          );
        }
        if (files.length) L.push('', ...files.map((f) => `wrote ${printable(f.path)}`));
        await io.out(L.join('\n') + '\n');
      }
      if (check && check.failures > 0)
        throw new MismatchError(`unroll-study: ${check.failures} terms differ from the closed form beyond tolerance`);
    });
}
