// The seed panel's drawing: the notes' network unrolled over one sequence as SVG, with the weights on the
// arrows and the engine's hidden values and prediction in the nodes.

import type { Activation } from '../../model.ts';
import type { ScalarWeights } from '../../statquest.ts';
import { num } from '../ui.ts';

export interface NetworkView {
  weights: ScalarWeights;
  activation: Activation;
  inputs: number[];
  hidden: number[];
  predicted: number;
  observed: number;
  index: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function drawNetwork(container: HTMLElement, caption: HTMLElement, v: NetworkView): void {
  const T = v.inputs.length;
  const col = 120;
  const x0 = 70;
  const yIn = 210;
  const yH = 110;
  const width = x0 + T * col + 150;
  const height = 260;
  const w = v.weights;
  const parts: string[] = [];
  parts.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>`,
  );
  const text = (x: number, y: number, s: string, cls = ''): string =>
    `<text x="${x}" y="${y}" class="${cls}" text-anchor="middle">${esc(s)}</text>`;
  for (let t = 0; t < T; t++) {
    const cx = x0 + t * col;
    const day = T - 1 - t === 0 ? 'today' : T - 1 - t === 1 ? 'yesterday' : `${T - 1 - t} days back`;
    // Input node and its arrow into the hidden unit (w1).
    parts.push(`<circle cx="${cx}" cy="${yIn}" r="22" class="node in" data-in="${t}"/>`);
    parts.push(text(cx, yIn + 5, num(v.inputs[t], 3)));
    parts.push(text(cx, yIn + 42, day, 'dim'));
    parts.push(
      `<line x1="${cx}" y1="${yIn - 22}" x2="${cx}" y2="${yH + 29}" class="edge" data-w1="${t}" marker-end="url(#arrow)"/>`,
    );
    parts.push(text(cx + 26, (yIn + yH) / 2 + 4, `w1 ${num(w.w1, 3)}`, 'wlabel'));
    // Hidden node with the engine's hidden value.
    parts.push(`<circle cx="${cx}" cy="${yH}" r="28" class="node hid" data-hid="${t}"/>`);
    parts.push(text(cx, yH + 5, num(v.hidden[t], 4)));
    parts.push(text(cx, yH - 40, `h${t + 1} (+b1 ${num(w.b1, 3)})`, 'dim'));
    if (t > 0) {
      parts.push(
        `<line x1="${cx - col + 28}" y1="${yH}" x2="${cx - 29}" y2="${yH}" class="edge rec" data-w2="${t}" marker-end="url(#arrow)"/>`,
      );
      parts.push(text(cx - col / 2, yH - 8, `w2 ${num(w.w2, 3)}`, 'wlabel'));
    }
  }
  // Output node: w3·hidden_T + b2.
  const ox = x0 + (T - 1) * col + 125;
  parts.push(
    `<line x1="${ox - 125 + 28}" y1="${yH}" x2="${ox - 35}" y2="${yH}" class="edge" marker-end="url(#arrow)"/>`,
  );
  parts.push(text(ox - 62, yH - 8, `w3 ${num(w.w3, 3)}`, 'wlabel'));
  parts.push(`<rect x="${ox - 34}" y="${yH - 26}" width="100" height="52" rx="8" class="node out" data-out="1"/>`);
  parts.push(text(ox + 16, yH - 4, `ŷ ${num(v.predicted, 4)}`));
  parts.push(text(ox + 16, yH + 16, `+b2 ${num(w.b2, 3)}`, 'dim'));
  parts.push(text(ox + 16, yH + 50, `observed ${num(v.observed, 3)}`, 'dim'));
  container.innerHTML = `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="seed-net-caption" class="netsvg">${parts.join('')}</svg>`;
  caption.textContent =
    `Sequence ${v.index + 1} unrolled over ${T} day${T === 1 ? '' : 's'} (${v.activation}): inputs ${v.inputs.map((x) => num(x)).join(', ')}; ` +
    `hidden values ${v.hidden.map((x) => num(x)).join(', ')}; predicted ${num(v.predicted)} for an observed ${num(v.observed)}.`;
}
