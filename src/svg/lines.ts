// Line plots with a linear or log-scale y axis (the unroll study: one line per w2; training loss curves).
// On a log axis each series plots |y|; zeros and non-finite points break the line instead of being drawn.

import {
  axes,
  c,
  decadeLabel,
  decadeTicks,
  esc,
  inner,
  linearTicks,
  PALETTE,
  scaleLinear,
  svgDocument,
  tickLabel,
  type Frame,
} from './common.ts';
import { hex, viridis } from './colormap.ts';

export interface LineSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw dashed (e.g. a validation curve). */
  dashed?: boolean;
}

export interface LinePlotOptions {
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  /** Log10 y axis of |y| (default false). */
  logY?: boolean;
  /** Log10 x axis (default false); points with x ≤ 0 break the line. */
  logX?: boolean;
  title?: string;
  width?: number;
  height?: number;
}

export function linePlotSvg(o: LinePlotOptions): string {
  const logY = !!o.logY;
  const logX = !!o.logX;
  const n = o.series.length;
  const legendRows = Math.min(n, 14);
  const f: Frame = {
    width: o.width ?? 680,
    height: o.height ?? 440,
    left: 72,
    right: n > 0 ? 130 : 20,
    top: o.title ? 40 : 16,
    bottom: 48,
  };
  const { w, h } = inner(f);
  const yOf = (v: number): number | null => {
    if (!Number.isFinite(v)) return null;
    if (!logY) return v;
    const a = Math.abs(v);
    return a > 0 ? Math.log10(a) : null;
  };
  const xOf = (v: number): number => (logX ? (v > 0 ? Math.log10(v) : NaN) : v);
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  for (const s of o.series) {
    if (s.x.length !== s.y.length)
      throw new RangeError(`series "${s.label}": ${s.x.length} x values but ${s.y.length} y values`);
    for (let k = 0; k < s.x.length; k++) {
      const y = yOf(s.y[k]);
      const x = xOf(s.x[k]);
      if (y === null || !Number.isFinite(x)) continue;
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      ylo = Math.min(ylo, y);
      yhi = Math.max(yhi, y);
    }
  }
  if (!(xhi >= xlo)) [xlo, xhi] = [0, 1];
  if (!(yhi >= ylo)) [ylo, yhi] = [0, 1];
  if (xhi === xlo) [xlo, xhi] = [xlo - 0.5, xhi + 0.5];
  if (yhi === ylo)
    [ylo, yhi] = logY
      ? [ylo - 0.5, yhi + 0.5]
      : [ylo - Math.max(0.5, Math.abs(ylo) * 0.1), yhi + Math.max(0.5, Math.abs(yhi) * 0.1)];
  const pad = (yhi - ylo) * 0.04;
  const sx = scaleLinear(xlo, xhi, f.left, f.left + w);
  const sy = scaleLinear(ylo - pad, yhi + pad, f.top + h, f.top);
  const colour = (j: number): string => (n <= PALETTE.length ? PALETTE[j] : hex(viridis(n > 1 ? j / (n - 1) : 0.5)));

  const parts: string[] = [];
  parts.push(
    `<defs><clipPath id="plot-area"><rect x="${c(f.left)}" y="${c(f.top)}" width="${c(w)}" height="${c(h)}"/></clipPath></defs>`,
  );
  const xt = logX
    ? decadeTicks(xlo, xhi).map((k) => ({ value: k, label: decadeLabel(k) }))
    : linearTicks(xlo, xhi).map((v) => ({ value: v, label: tickLabel(v) }));
  const yt = logY
    ? decadeTicks(ylo - pad, yhi + pad).map((k) => ({ value: k, label: decadeLabel(k) }))
    : linearTicks(ylo, yhi).map((v) => ({ value: v, label: tickLabel(v) }));
  parts.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
  for (const t of yt) parts.push(`<path d="M${c(f.left)},${c(sy(t.value))}h${c(w)}"/>`);
  parts.push(`</g>`);
  parts.push(
    axes(f, xt, sx, logX ? `${o.xLabel} (log scale)` : o.xLabel, yt, sy, logY ? `${o.yLabel} (log scale)` : o.yLabel),
  );
  parts.push(`<g class="lines" clip-path="url(#plot-area)" fill="none" stroke-width="1.6">`);
  o.series.forEach((s, j) => {
    let d = '';
    let pen = false;
    // Points with no drawable neighbour would be invisible as a path: they get a dot.
    const dots: string[] = [];
    const drawable = (k: number): boolean =>
      k >= 0 && k < s.x.length && yOf(s.y[k]) !== null && Number.isFinite(xOf(s.x[k]));
    for (let k = 0; k < s.x.length; k++) {
      const y = yOf(s.y[k]);
      const x = xOf(s.x[k]);
      if (y === null || !Number.isFinite(x)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${c(sx(x))},${c(sy(y))}`;
      if (!drawable(k - 1) && !drawable(k + 1))
        dots.push(
          `<circle class="point" cx="${c(sx(x))}" cy="${c(sy(y))}" r="2.5" fill="${colour(j)}" stroke="none"/>`,
        );
      pen = true;
    }
    // A series with no drawable point still gets its (empty) path, so each series has exactly one.
    parts.push(
      `<path class="series" data-label="${esc(s.label)}" d="${d || `M${c(f.left)},${c(f.top)}`}" stroke="${colour(j)}"${d ? '' : ' stroke-opacity="0"'}${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    parts.push(...dots);
  });
  parts.push(`</g>`);
  if (n > 0) {
    parts.push(`<g class="legend" font-family="sans-serif" font-size="11">`);
    const lx = f.left + w + 12;
    for (let j = 0; j < legendRows; j++) {
      const y = f.top + 10 + j * 16;
      const label = j === legendRows - 1 && n > legendRows ? `… ${n - legendRows + 1} more` : o.series[j].label;
      parts.push(
        `<path d="M${c(lx)},${c(y)}h18" stroke="${colour(j)}" stroke-width="2"${o.series[j].dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
      );
      parts.push(`<text x="${c(lx + 22)}" y="${c(y + 4)}">${esc(label)}</text>`);
    }
    parts.push(`</g>`);
  }
  return svgDocument(f, parts.join('\n'), o.title);
}

/** A training loss curve (log scale), with the validation loss dashed when given. */
export function lossCurveSvg(
  history: { step: number; loss: number }[],
  opts: { title?: string; validation?: { step: number; loss: number }[]; yLabel?: string } = {},
): string {
  const series: LineSeries[] = [{ label: 'training', x: history.map((p) => p.step), y: history.map((p) => p.loss) }];
  if (opts.validation && opts.validation.length > 0) {
    series.push({
      label: 'validation',
      x: opts.validation.map((p) => p.step),
      y: opts.validation.map((p) => p.loss),
      dashed: true,
    });
  }
  return linePlotSvg({ series, xLabel: 'step', yLabel: opts.yLabel ?? 'loss (SSR)', logY: true, title: opts.title });
}
