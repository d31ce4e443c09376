// A heatmap of values on a grid (the loss landscape): axes, a colour-scale legend (linear or log), an optional
// path overlay (gradient descent), and grey cells for non-finite values. Up to `maxRects` cells are drawn as one
// <rect> each (default 64×64); larger grids are embedded as a compressed PNG image, one pixel per cell (the seed
// notes' 512×512 landscape takes about 35 KB).

import { hex, NON_FINITE_RGB, viridis } from './colormap.ts';
import {
  axes,
  c,
  decadeLabel,
  decadeTicks,
  esc,
  inner,
  linearTicks,
  scaleLinear,
  svgDocument,
  tickLabel,
  type Frame,
} from './common.ts';
import { base64, encodePng } from './png.ts';

export interface GridAxis {
  label: string;
  /** Value of the first grid column (row). */
  min: number;
  /** Value of the last grid column (row). */
  max: number;
}

export interface HeatmapOptions {
  /** rows × cols values, row-major; row 0 is y.min (drawn at the bottom), column 0 is x.min. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  x: GridAxis;
  y: GridAxis;
  title?: string;
  /** Name of the value, for the legend (e.g. `SSR`). */
  valueLabel?: string;
  /** Colour scale: `log` (default) suits losses spanning decades; values ≤ 0 get the lowest colour. */
  scale?: 'linear' | 'log';
  /** Points in data coordinates drawn as a line over the map (e.g. a gradient-descent run). */
  path?: { x: number; y: number }[];
  pathLabel?: string;
  width?: number;
  height?: number;
  /** Most cells drawn as rectangles (default 4,096 = 64×64); beyond, an embedded PNG. */
  maxRects?: number;
}

/** The colour position t in [0, 1] of each value, and the legend's range (in the scale's units). */
function colourScale(
  values: ArrayLike<number>,
  scale: 'linear' | 'log',
): { t: (v: number) => number; lo: number; hi: number; any: boolean } {
  let lo = Infinity;
  let hi = -Infinity;
  let minPos = Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v > 0 && v < minPos) minPos = v;
  }
  if (lo > hi) return { t: () => 0, lo: 0, hi: 1, any: false };
  if (scale === 'log') {
    if (!Number.isFinite(minPos)) return { t: () => 0, lo: 0, hi: 1, any: true }; // nothing positive: all lowest
    const a = Math.log10(minPos);
    const b = Math.log10(hi);
    return {
      t: (v) => (b > a ? (Math.log10(Math.max(v, minPos)) - a) / (b - a) : 0.5),
      lo: a,
      hi: b > a ? b : a + 1,
      any: true,
    };
  }
  return { t: (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5), lo, hi: hi > lo ? hi : lo + 1, any: true };
}

export function heatmapSvg(o: HeatmapOptions): string {
  const { rows, cols } = o;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || o.values.length !== rows * cols) {
    throw new RangeError(`heatmap: ${o.values.length} values do not fill ${rows}×${cols}`);
  }
  const scale = o.scale ?? 'log';
  const f: Frame = {
    width: o.width ?? 640,
    height: o.height ?? 560,
    left: 72,
    right: 110,
    top: o.title ? 40 : 16,
    bottom: 48,
  };
  const { w, h } = inner(f);
  const dx = cols > 1 ? (o.x.max - o.x.min) / (cols - 1) : Math.abs(o.x.max - o.x.min) || 1;
  const dy = rows > 1 ? (o.y.max - o.y.min) / (rows - 1) : Math.abs(o.y.max - o.y.min) || 1;
  const x0 = o.x.min - dx / 2;
  const x1 = o.x.min + (cols - 0.5) * dx;
  const y0 = o.y.min - dy / 2;
  const y1 = o.y.min + (rows - 0.5) * dy;
  const sx = scaleLinear(x0, x1, f.left, f.left + w);
  const sy = scaleLinear(y0, y1, f.top + h, f.top);
  const cs = colourScale(o.values, scale);
  const rgbOf = (v: number): [number, number, number] => (Number.isFinite(v) ? viridis(cs.t(v)) : NON_FINITE_RGB);
  let nonFinite = 0;
  for (let k = 0; k < o.values.length; k++) if (!Number.isFinite(o.values[k])) nonFinite++;

  const parts: string[] = [];
  parts.push(
    `<defs><clipPath id="plot-area"><rect x="${c(f.left)}" y="${c(f.top)}" width="${c(w)}" height="${c(h)}"/></clipPath></defs>`,
  );
  if (rows * cols <= (o.maxRects ?? 4096)) {
    const cw = w / cols;
    const ch = h / rows;
    parts.push(`<g class="cells" shape-rendering="crispEdges">`);
    for (let r = 0; r < rows; r++) {
      for (let col = 0; col < cols; col++) {
        const v = o.values[r * cols + col];
        parts.push(
          `<rect class="cell" x="${c(f.left + col * cw)}" y="${c(f.top + (rows - 1 - r) * ch)}" width="${c(cw + 0.02)}" height="${c(ch + 0.02)}" fill="${hex(rgbOf(v))}"/>`,
        );
      }
    }
    parts.push(`</g>`);
  } else {
    const rgb = new Uint8Array(rows * cols * 3);
    for (let r = 0; r < rows; r++) {
      for (let col = 0; col < cols; col++) rgb.set(rgbOf(o.values[r * cols + col]), ((rows - 1 - r) * cols + col) * 3); // PNG rows top down
    }
    parts.push(
      `<image class="cells-image" x="${c(f.left)}" y="${c(f.top)}" width="${c(w)}" height="${c(h)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${base64(encodePng(cols, rows, rgb))}"/>`,
    );
  }
  // Axes: ticks at round data values inside the grid's extent.
  const xt = linearTicks(Math.min(o.x.min, o.x.max), Math.max(o.x.min, o.x.max)).map((v) => ({
    value: v,
    label: tickLabel(v),
  }));
  const yt = linearTicks(Math.min(o.y.min, o.y.max), Math.max(o.y.min, o.y.max)).map((v) => ({
    value: v,
    label: tickLabel(v),
  }));
  parts.push(axes(f, xt, sx, o.x.label, yt, sy, o.y.label));

  if (o.path && o.path.length > 0) {
    const pts = o.path.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length > 0) {
      const d = pts.map((p, k) => `${k ? 'L' : 'M'}${c(sx(p.x))},${c(sy(p.y))}`).join('');
      const last = pts[pts.length - 1];
      parts.push(`<g class="path-overlay" clip-path="url(#plot-area)">`);
      parts.push(
        `<path class="descent-path" d="${d}" fill="none" stroke="#fff" stroke-width="2.5" stroke-opacity="0.8"/>`,
      );
      parts.push(`<path d="${d}" fill="none" stroke="#e15759" stroke-width="1.2"/>`);
      parts.push(`<circle cx="${c(sx(pts[0].x))}" cy="${c(sy(pts[0].y))}" r="4" fill="#fff" stroke="#e15759"/>`);
      parts.push(`<circle cx="${c(sx(last.x))}" cy="${c(sy(last.y))}" r="4" fill="#e15759" stroke="#fff"/>`);
      parts.push(`</g>`);
      if (o.pathLabel)
        parts.push(
          `<text class="path-label" x="${c(f.left + 6)}" y="${c(f.top + 14)}" font-family="sans-serif" font-size="11" fill="#fff">${esc(o.pathLabel)}</text>`,
        );
    }
  }

  // Legend: a vertical colour bar with ticks in the scale's units.
  const lx = f.left + w + 16;
  const lw = 14;
  const steps = 64;
  parts.push(`<g class="legend">`);
  for (let k = 0; k < steps; k++) {
    const y = f.top + h - ((k + 1) * h) / steps;
    parts.push(
      `<rect x="${c(lx)}" y="${c(y)}" width="${lw}" height="${c(h / steps + 0.5)}" fill="${hex(viridis((k + 0.5) / steps))}"/>`,
    );
  }
  const ly = scaleLinear(cs.lo, cs.hi, f.top + h, f.top);
  const ticks =
    scale === 'log'
      ? decadeTicks(cs.lo, cs.hi).map((k) => ({ value: k, label: decadeLabel(k) }))
      : linearTicks(cs.lo, cs.hi, 4).map((v) => ({ value: v, label: tickLabel(v) }));
  for (const t of ticks) {
    parts.push(`<path d="M${c(lx + lw)},${c(ly(t.value))}h4" stroke="#333"/>`);
    parts.push(
      `<text x="${c(lx + lw + 7)}" y="${c(ly(t.value) + 4)}" font-family="sans-serif" font-size="10">${esc(t.label)}</text>`,
    );
  }
  const vl = `${o.valueLabel ?? 'value'}${scale === 'log' ? ' (log scale)' : ''}`;
  parts.push(`<text x="${c(lx)}" y="${c(f.top - 4)}" font-family="sans-serif" font-size="11">${esc(vl)}</text>`);
  if (nonFinite > 0) {
    parts.push(`<rect x="${c(lx)}" y="${c(f.top + h + 10)}" width="${lw}" height="10" fill="${hex(NON_FINITE_RGB)}"/>`);
    parts.push(
      `<text x="${c(lx + lw + 4)}" y="${c(f.top + h + 19)}" font-family="sans-serif" font-size="10">not finite (${nonFinite})</text>`,
    );
  }
  parts.push(`</g>`);
  return svgDocument(f, parts.join('\n'), o.title);
}
