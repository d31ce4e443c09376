// Panel "Verify": one seeded random batch on WebGPU (any kernel strategy, optionally truncated BPTT) and on the
// float64 CPU reference, compared quantity by quantity with src/verify.ts (compareResults) and the documented
// tolerance. Without WebGPU it compares the CPU reference's float32 mode with its float64 mode, and says so.

import { cpuInWorker, cpuRun } from '../engine-client.ts';
import type { StrategyChoice } from '../../gpu/strategy.ts';
import { cellByName } from '../../cells/index.ts';
import { LIMITS, modelFromJSON, type OutputMode } from '../../model.ts';
import { randomBatch, randomModel } from '../../random.ts';
import { compareResults, type VerifyReport } from '../../verify.ts';
import type { Session } from '../session.ts';
import {
  $,
  breathe,
  bindCellSelect,
  clearMarksOnEdit,
  FieldError,
  fillTable,
  readNumber,
  readOptionalNumber,
  StatusLine,
} from '../ui.ts';

export function initVerify(session: Session, publish: (r: VerifyReport) => void): { run: () => Promise<void> } {
  const section = $('verify');
  const status = new StatusLine($('vf-status'));
  const form = $<HTMLFormElement>('vf-form');
  const button = $<HTMLButtonElement>('vf-run');
  const cellSelect = bindCellSelect($<HTMLSelectElement>('vf-cell'), $<HTMLSelectElement>('vf-act'));

  function read() {
    const I = readNumber($<HTMLInputElement>('vf-i'), { min: 1, max: LIMITS.maxInputSize, integer: true });
    const hField = $<HTMLInputElement>('vf-h');
    const H = readNumber(hField, { min: 1, max: LIMITS.maxHiddenSize, integer: true });
    const O = readNumber($<HTMLInputElement>('vf-o'), { min: 1, max: LIMITS.maxOutputSize, integer: true });
    const N = readNumber($<HTMLInputElement>('vf-n'), { min: 1, max: 200_000, integer: true });
    const minLen = readNumber($<HTMLInputElement>('vf-min'), { min: 1, max: 1000, integer: true });
    const maxField = $<HTMLInputElement>('vf-max');
    const maxLen = readNumber(maxField, { min: 1, max: 1000, integer: true });
    if (maxLen < minLen)
      throw new FieldError(maxField, `Longest sequence: ${maxLen} is shorter than the shortest sequence (${minLen})`);
    if (N * maxLen > 20_000_000)
      throw new FieldError(
        $('vf-n'),
        `Sequences: ${N} × ${maxLen} steps is more than this page runs at once (20 M steps)`,
      );
    // The float64 reference runs on this page's main thread: keep its work to a few seconds.
    const { cell, activation } = cellSelect.read();
    const gates = cellByName(cell).gates;
    const work = N * maxLen * H * (gates * (H + I) + O);
    if (work > 4e9)
      throw new FieldError(
        hField,
        `Hidden size: ${N} sequences × ${maxLen} steps at H = ${H} is more work than the CPU reference does on this page; use fewer or shorter sequences`,
      );
    const truncField = $<HTMLInputElement>('vf-trunc');
    const truncation = readOptionalNumber(truncField, { min: 1, max: LIMITS.maxSteps, integer: true }) ?? undefined;
    const seed = readNumber($<HTMLInputElement>('vf-seed'), { min: 0, max: 4294967295, integer: true });
    return {
      I,
      H,
      O,
      N,
      minLen,
      maxLen,
      seed,
      truncation,
      strategy: $<HTMLSelectElement>('vf-strategy').value as StrategyChoice,
      cell,
      activation,
      output: $<HTMLSelectElement>('vf-out').value as OutputMode,
    };
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        status.info('Running on both backends…');
        const report = await session.exclusive(
          async () => {
            status.info('Running on both backends…');
            const json = randomModel(
              { inputSize: p.I, hiddenSize: p.H, outputSize: p.O },
              p.activation,
              p.output,
              p.seed,
              0.5,
              p.cell,
            );
            const model = modelFromJSON(json);
            const batch = randomBatch({
              count: p.N,
              inputSize: p.I,
              outputSize: p.O,
              output: p.output,
              minLength: p.minLen,
              maxLength: p.maxLen,
              seed: p.seed + 1,
            });
            const gpu = session.gpu;
            await breathe();
            const t0 = performance.now();
            const opts = { outputs: true, gradients: true, truncation: p.truncation };
            // The CPU runs (the float64 reference, and the float32 mode without WebGPU) go to a worker, so the page
            // stays responsive while they run.
            const actual = gpu
              ? await gpu.run(model, batch, { ...opts, strategy: p.strategy })
              : await cpuRun(model, batch, opts, 'f32');
            const strategy = gpu ? (gpu.lastRunStats?.strategy ?? null) : null;
            const t1 = performance.now();
            const expected = await cpuRun(model, batch, opts, 'f64');
            const t2 = performance.now();
            await breathe();
            return { r: compareResults(model, batch, actual, expected), ms: [t1 - t0, t2 - t1], strategy };
          },
          { status, panel: 'Verify' },
        );
        const r = report.r;
        await breathe();
        fillTable(
          $<HTMLTableElement>('vf-table'),
          ['quantity', 'values', 'max abs diff', 'max rel diff', 'atol', 'rtol', 'result'],
          r.checks.map((c) => [
            c.name,
            c.comparison.count,
            c.comparison.maxAbs.toExponential(2),
            c.comparison.maxRel.toExponential(2),
            c.tolerance.atol.toExponential(2),
            c.tolerance.rtol.toExponential(2),
            !c.comparison.ok
              ? `FAIL (${c.comparison.failureCount}): ${c.failures[0]?.index ?? ''}`
              : c.comparison.maxRel > c.tolerance.rtol
                ? 'pass (the atol term allowed values near zero whose relative difference is above rtol)'
                : 'pass',
          ]),
          `${r.actual.adapter}${report.strategy ? ` (strategy ${report.strategy})` : ''} against ${r.expected.adapter}; longest sequence ${r.maxLength} steps${p.truncation ? `; BPTT truncated after ${p.truncation} steps` : ''}`,
        );
        document.body.dataset.cpuWorker = String(cpuInWorker());
        publish({ ...r, strategy: report.strategy } as VerifyReport);
        const what = session.gpu ? 'WebGPU' : 'the float32 CPU mode (no WebGPU here)';
        const times = `(${session.gpu ? 'WebGPU' : 'float32 CPU'} ${report.ms[0].toFixed(0)} ms, float64 CPU reference ${report.ms[1].toFixed(0)} ms)`;
        if (r.ok)
          status.done(`Pass: ${what} matches the float64 reference within tolerance on every quantity ${times}.`);
        else
          status.error(
            `Fail: ${r.checks
              .filter((c) => !c.comparison.ok)
              .map((c) => c.name)
              .join(', ')} beyond tolerance ${times}.`,
          );
      });
    } finally {
      button.disabled = false;
    }
  }

  clearMarksOnEdit(section);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
