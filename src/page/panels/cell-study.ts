// The Unroll study panel's second part: Elman, LSTM and GRU side by side (src/study/cells.ts `cellStudy` on
// `randomCellModels`), the norm of the gradient reaching the state or the input k steps back on a log axis, with
// the saturated LSTM dashed, and a table of the average factor per step back. Float64 in the CPU worker on every
// backend (cpu-client.ts `cellStudyOff`): the engine returns no state gradient, so this part never runs on WebGPU.

import { CELL_NAMES } from '../../cells/index.ts';
import { factorRange, perStepFactor, type CellStudyMeasure } from '../../study/cells.ts';
import { cellStudyOff, cpuInWorker } from '../engine-client.ts';
import { forLog, lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import { $, breathe, clearMarksOnEdit, fillTable, num, readNumber, StatusLine } from '../ui.ts';

export interface CellStudyView {
  length: number;
  measure: CellStudyMeasure;
  labels: string[];
  /** values[j][k]: the measure of model j, k steps back (state: k = 0..T; input: k = 0..T−1). */
  values: number[][];
  /** The average factor per step back and its verdict, per model. */
  perStep: ({ factor: number; verdict: string } | null)[];
}

const where = (): string => (cpuInWorker() ? 'in a worker' : 'on this page');

export function initCellStudy(session: Session, publish: (r: CellStudyView) => void): { run: () => Promise<void> } {
  const section = $('unroll');
  const status = new StatusLine($('uc-status'));
  const button = $<HTMLButtonElement>('uc-run');

  function read() {
    return {
      T: readNumber($<HTMLInputElement>('uc-t'), { min: 2, max: 400, integer: true }),
      hidden: readNumber($<HTMLInputElement>('uc-hidden'), { min: 1, max: 32, integer: true }),
      seed: readNumber($<HTMLInputElement>('uc-seed'), { min: 0, max: 4294967295, integer: true }),
      scale: readNumber($<HTMLInputElement>('uc-scale'), { min: 0.001, max: 10 }),
      saturation: readNumber($<HTMLInputElement>('uc-sat'), { min: 0, max: 100 }),
      measure: $<HTMLSelectElement>('uc-measure').value as CellStudyMeasure,
    };
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        status.info(
          `Computing ${CELL_NAMES.length + (p.saturation > 0 ? 1 : 0)} models × ${p.T} steps by BPTT in float64…`,
        );
        const study = await cellStudyOff(
          { cells: CELL_NAMES, hidden: p.hidden, seed: p.seed, scale: p.scale, saturation: p.saturation },
          p.T,
          p.seed,
        );
        await breathe();
        const values = study.rows.map((r) => Array.from(p.measure === 'state' ? r.state : r.input));
        const n = values[0].length;
        const ks = Array.from({ length: n }, (_, k) => k);
        const [from, to] = factorRange(p.measure, p.T);
        const perStep = values.map((v) => perStepFactor(v, from, to));
        lineChart(
          $('uc-chart'),
          {
            xLabel: 'k (steps back)',
            yLabel: p.measure === 'state' ? '‖∂SSR/∂s(T−k)‖ (log)' : '‖∂SSR/∂x(T−k)‖ (log)',
            logY: true,
            series: study.rows.map((r) => ({
              label: r.label,
              points: false,
              ...(r.saturated ? { dash: [6, 4] } : {}),
            })),
            height: 300,
          },
          [ks, ...values.map((v) => v.map((x) => (x === 0 ? null : forLog(x))))] as never,
        );
        await breathe();
        fillTable(
          $<HTMLTableElement>('uc-table'),
          ['model', 'SSR', 'k = 0', `k = ${from}`, `k = ${to}`, `per step (k = ${from} … ${to})`, ''],
          study.rows.map((r, j) => [
            r.label,
            num(r.loss),
            num(values[j][0]),
            num(values[j][from]),
            num(values[j][to]),
            perStep[j] ? perStep[j].factor.toPrecision(4) : '—',
            perStep[j]?.verdict ?? '',
          ]),
          `BPTT in float64 ${where()}; T = ${p.T} inputs uniform in [−1, 1], target 1; I = 1, H = ${p.hidden}, O = 1, weights uniform in [−${p.scale}, ${p.scale}] (seed ${p.seed})`,
        );
        const verdicts = study.rows.map(
          (r, j) =>
            `${r.label}: ${perStep[j] ? `×${perStep[j].factor.toPrecision(3)} per step (${perStep[j].verdict})` : '—'}`,
        );
        $('uc-summary').textContent =
          `The norm of the gradient reaching the ${p.measure === 'state' ? 'state' : 'input'} k steps back. ${verdicts.join('; ')}. ` +
          (p.measure === 'input' && p.saturation > 0
            ? 'The saturated LSTM keeps its cell state, but its closed input gate lets no input in, so the gradient to the inputs is tiny at every k. '
            : '') +
          'The log axis draws values below 1e-14 at 1e-14.';
        publish({ length: p.T, measure: p.measure, labels: study.rows.map((r) => r.label), values, perStep });
        status.done(`Computed ${study.rows.length} models × ${p.T} steps by BPTT in float64 ${where()}.`);
      });
    } finally {
      button.disabled = false;
    }
  }

  clearMarksOnEdit(section);
  $<HTMLFormElement>('uc-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
