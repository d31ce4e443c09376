// Panel "Unroll study": for one input sequence and several w2 values, the term that the input k steps back adds to
// dSSR/dw1, by BPTT on the engine's backend (src/study `unrollStudy`) and, for the identity activation, by the
// notes' closed form (`unrollClosedForm`); |term| against k on a log scale shows w2^k vanishing or exploding.

import type { Activation } from '../../model.ts';
import { unrollClosedForm, unrollStudy, type UnrollStudy } from '../../study/unroll.ts';
import { forLog, lineChart } from '../chart.ts';
import type { Session } from '../session.ts';
import { $, fillTable, num, readList, readNumber, StatusLine } from '../ui.ts';

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
    return { inputs: new Array<number>(T).fill(x), w2, target, activation: $<HTMLSelectElement>('ur-act').value as Activation };
  }

  async function run(): Promise<void> {
    button.disabled = true;
    try {
      await session.guard(status, section, async () => {
        const p = read();
        const study: UnrollStudy = await session.exclusive(() => unrollStudy(session.engine, p));
        const closed = p.activation === 'identity' ? unrollClosedForm(p) : null;
        const T = study.length;
        const ks = Array.from({ length: T }, (_, k) => k);
        const abs = (v: number): number | null => forLog(Math.abs(v));
        const series = study.rows.map((r) => ({ label: `w2 = ${num(r.w2)}`, points: T <= 40 }));
        const data = [ks, ...study.rows.map((r) => Array.from(r.contributions, abs))];
        if (closed) {
          series.push(...closed.rows.map((r) => ({ label: `closed form, w2 = ${num(r.w2)}`, points: false, dash: [4, 4], width: 1, color: '#222' })));
          data.push(...closed.rows.map((r) => Array.from(r.contributions, abs)));
        }
        lineChart($('ur-chart'), { xLabel: 'k (steps back)', yLabel: '|dSSR/dw1 term| (log)', logY: true, series, height: 300 }, data as never);
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
          ['w2', 'dSSR/dw1', 'term k = 0', `term k = ${T - 1}`, '|last / first|', maxRel ? 'max rel. diff. to closed form' : 'closed form'],
          study.rows.map((r, j) => {
            const first = r.contributions[0];
            const lastTerm = r.contributions[T - 1];
            return [num(r.w2), num(r.dSSRdw1), num(first), num(lastTerm), first === 0 ? '—' : num(Math.abs(lastTerm / first)), maxRel ? maxRel[j].toExponential(2) : `n/a (${p.activation})`];
          }),
          `BPTT on ${study.method} (${study.adapter}); T = ${T} inputs of ${num(p.inputs[0])}, target ${num(p.target)}, ${p.activation}`,
        );
        const grows = study.rows.filter((r) => Math.abs(r.w2) > 1).map((r) => num(r.w2));
        const shrinks = study.rows.filter((r) => Math.abs(r.w2) < 1).map((r) => num(r.w2));
        $('ur-summary').textContent =
          `The term of the input k steps back is multiplied by w2 once per step back (w2^k for the identity activation). ` +
          (shrinks.length ? `For w2 = ${shrinks.join(', ')} it vanishes as k grows; ` : '') +
          (grows.length ? `for w2 = ${grows.join(', ')} it explodes. ` : '') +
          (maxRel ? `BPTT matches the closed form to a relative difference of at most ${Math.max(...maxRel).toExponential(1)}.` : '');
        publish({
          method: study.method,
          adapter: study.adapter,
          length: T,
          w2: Array.from(study.w2),
          contributions: study.rows.map((r) => Array.from(r.contributions)),
          closedForm: closed ? closed.rows.map((r) => Array.from(r.contributions)) : null,
          maxRelDiff: maxRel,
        });
        status.done(`Computed ${study.rows.length} w2 values × ${T} steps by BPTT on ${study.method}.`);
      });
    } finally {
      button.disabled = false;
    }
  }

  $<HTMLFormElement>('ur-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  return { run };
}
