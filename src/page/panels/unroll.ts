// Panel "Unroll study": for one input sequence and several w2 values, the term that the input k steps back adds to
// dSSR/dw1, by BPTT on the engine's backend (src/study `unrollStudy`) and, for the identity activation, by the
// notes' closed form (`unrollClosedForm`); |term| against k on a log scale shows w2^k vanishing or exploding.

import type { Activation } from '../../model.ts';
import { NonFiniteError } from '../../errors.ts';
import { unrollClosedForm, unrollStudy, type UnrollRow, type UnrollStudy } from '../../study/unroll.ts';
import { forLog, lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import { $, breathe, clearMarksOnEdit, fillTable, num, readList, readNumber, StatusLine } from '../ui.ts';

export interface UnrollView {
  method: string;
  adapter: string;
  length: number;
  w2: number[];
  /** contributions[j][k]: the dSSR/dw1 term of the input k steps back at w2[j], by BPTT. */
  contributions: number[][];
  /** The closed form's terms (identity activation), or null. */
  closedForm: number[][] | null;
  /** max |BPTT − closed form| / max(|closed form|) per w2, or null. */
  maxRelDiff: number[] | null;
  /** The w2 values whose BPTT overflowed (beyond the float32 range on WebGPU), with the message; their rows are left out. */
  overflowed: { w2: number; message: string }[];
}

/**
 * The study one w2 value at a time, so a w2 whose values overflow is reported on its own and the others are
 * still returned (the library's unrollStudy refuses the whole call when one value overflows).
 */
async function studyEach(
  run: (w2: number[]) => Promise<UnrollStudy> | UnrollStudy,
  w2s: number[],
): Promise<{ study: UnrollStudy | null; rows: (UnrollRow | null)[]; overflowed: { w2: number; message: string }[] }> {
  const rows: (UnrollRow | null)[] = [];
  const overflowed: { w2: number; message: string }[] = [];
  let study: UnrollStudy | null = null;
  for (const w2 of w2s) {
    try {
      const one = await run([w2]);
      study ??= one;
      rows.push(one.rows[0]);
    } catch (e) {
      if (!(e instanceof NonFiniteError)) throw e;
      overflowed.push({ w2: Math.fround(w2), message: e.message });
      rows.push(null);
    }
  }
  return { study, rows, overflowed };
}

export function initUnroll(session: Session, publish: (r: UnrollView) => void): { run: () => Promise<void> } {
  const section = $('unroll');
  const status = new StatusLine($('ur-status'));
  const button = $<HTMLButtonElement>('ur-run');

  function read() {
    const T = readNumber($<HTMLInputElement>('ur-t'), { min: 1, max: 200, integer: true });
    const x = readNumber($<HTMLInputElement>('ur-x'), { min: -100, max: 100 });
    const w2 = readList($<HTMLInputElement>('ur-w2'), { min: -10, max: 10 }, 8);
    const target = readNumber($<HTMLInputElement>('ur-target'), { min: -1000, max: 1000 });
    return {
      inputs: new Array<number>(T).fill(x),
      w2,
      target,
      activation: $<HTMLSelectElement>('ur-act').value as Activation,
    };
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        const each = await session.exclusive(() => studyEach((w2) => unrollStudy(session.engine, { ...p, w2 }), p.w2), {
          status,
          panel: 'Unroll study',
        });
        const closedEach =
          p.activation === 'identity' ? await studyEach((w2) => unrollClosedForm({ ...p, w2 }), p.w2) : null;
        if (!each.study) {
          const e = new NonFiniteError(session.engine.backend, `every w2 value (${p.w2.join(', ')})`, null);
          throw e;
        }
        // Only the w2 values that BPTT computed (and, for the comparison, the closed form too).
        const keep = each.rows.map((r, j) => r !== null && (!closedEach || closedEach.rows[j] !== null));
        const study: UnrollStudy = {
          ...each.study,
          w2: Float64Array.from(
            p.w2.filter((_, j) => keep[j]),
            Math.fround,
          ),
          rows: each.rows.filter((_, j) => keep[j]) as UnrollRow[],
        };
        const closed = closedEach ? { rows: closedEach.rows.filter((_, j) => keep[j]) as UnrollRow[] } : null;
        const overflowed = [
          ...each.overflowed,
          ...(closedEach?.overflowed ?? []).filter((o) => !each.overflowed.some((x) => x.w2 === o.w2)),
        ];
        const T = study.length;
        await breathe();
        const ks = Array.from({ length: T }, (_, k) => k);
        // Exact zeros (a ReLU that cut the gradient) are gaps, not points at the log axis' floor.
        const abs = (v: number): number | null => (v === 0 ? null : forLog(Math.abs(v)));
        const series = study.rows.map((r) => ({ label: `w2 = ${num(r.w2)}`, points: T <= 40 }));
        const data = [ks, ...study.rows.map((r) => Array.from(r.contributions, abs))];
        if (closed) {
          series.push(
            ...closed.rows.map((r) => ({
              label: `closed form, w2 = ${num(r.w2)}`,
              points: false,
              dash: [4, 4],
              width: 1,
              color: '#222',
            })),
          );
          data.push(...closed.rows.map((r) => Array.from(r.contributions, abs)));
        }
        lineChart(
          $('ur-chart'),
          { xLabel: 'k (steps back)', yLabel: '|dSSR/dw1 term| (log)', logY: true, series, height: 300 },
          data as never,
        );
        await breathe();
        const maxRel = closed
          ? study.rows.map((r, j) => {
              const c = closed.rows[j].contributions;
              let scale = 0;
              let d = 0;
              for (let k = 0; k < T; k++) {
                scale = Math.max(scale, Math.abs(c[k]));
                d = Math.max(d, Math.abs(r.contributions[k] - c[k]));
              }
              return scale === 0 ? d : d / scale;
            })
          : null;
        fillTable(
          $<HTMLTableElement>('ur-table'),
          [
            'w2',
            'dSSR/dw1',
            'term k = 0',
            `term k = ${T - 1}`,
            '|last / first|',
            maxRel ? 'max rel. diff. to closed form' : 'closed form',
          ],
          study.rows.map((r, j) => {
            const first = r.contributions[0];
            const lastTerm = r.contributions[T - 1];
            return [
              num(r.w2),
              num(r.dSSRdw1),
              num(first),
              num(lastTerm),
              first === 0 ? '—' : num(Math.abs(lastTerm / first)),
              maxRel ? maxRel[j].toExponential(2) : `n/a (${p.activation})`,
            ];
          }),
          `BPTT on ${study.method} (${study.adapter}); T = ${T} inputs of ${num(p.inputs[0])}, target ${num(p.target)}, ${p.activation}`,
        );
        const grows = study.rows.filter((r) => Math.abs(r.w2) > 1).map((r) => num(r.w2));
        const shrinks = study.rows.filter((r) => Math.abs(r.w2) < 1).map((r) => num(r.w2));
        $('ur-summary').textContent =
          `The term of the input k steps back is multiplied by w2 once per step back (w2^k for the identity activation). ` +
          (shrinks.length ? `For w2 = ${shrinks.join(', ')} it vanishes as k grows; ` : '') +
          (grows.length ? `for w2 = ${grows.join(', ')} it explodes. ` : '') +
          (maxRel
            ? `BPTT matches the closed form to a relative difference of at most ${Math.max(...maxRel).toExponential(1)}. `
            : '') +
          'The log axis draws terms above 1e15 at 1e15 and below 1e-14 at 1e-14; exact zeros are gaps.';
        publish({
          method: study.method,
          adapter: study.adapter,
          length: T,
          w2: Array.from(study.w2),
          contributions: study.rows.map((r) => Array.from(r.contributions)),
          closedForm: closed ? closed.rows.map((r) => Array.from(r.contributions)) : null,
          maxRelDiff: maxRel,
          overflowed,
        });
        const done = `Computed ${study.rows.length} w2 value${study.rows.length === 1 ? '' : 's'} × ${T} steps by BPTT on ${study.method}.`;
        if (overflowed.length) {
          status.warn(
            `${done} Left out, because their values overflowed: ${overflowed.map((o) => `w2 = ${num(o.w2)}`).join(', ')} (${study.method === 'webgpu' ? 'beyond the float32 range' : 'not finite'}; ${T} steps of w2^k explode). ${overflowed[0].message}`,
          );
        } else status.done(done);
      });
    } finally {
      button.disabled = false;
    }
  }

  clearMarksOnEdit(section);
  $<HTMLFormElement>('ur-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
