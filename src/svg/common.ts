// Shared pieces of the SVG writers: escaping, coordinates that can never be NaN, "nice" axis ticks (linear and
// decades, from d3-array's `ticks`), axes with labels, and the document wrapper. Browser-safe (strings only).

import { ticks } from 'd3-array';

/** Escapes text for XML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with at most 2 decimals. Throws on NaN or ±Infinity, so no such value reaches a file. */
export function c(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`SVG coordinate is not finite: ${v}`);
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

/** A tick label: up to 4 significant digits, exponent form for very large or small values. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** About `count` round tick values inside [lo, hi], 1, 2 or 5 × 10^k apart (d3-array's `ticks`); [lo] for an empty range. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const out = ticks(lo, hi, count);
  return out.length ? out : [lo];
}

/**
 * Decade ticks for a log10 range [lo, hi] (exponents): the whole exponents among d3-array's `ticks` (every decade,
 * or every 2nd, 5th, 10th … for a wide range; at most 8); [lo] when no whole exponent lies in the range.
 */
export function decadeTicks(lo: number, hi: number): number[] {
  // A decade that a rounding error put a hair outside the range still counts.
  const a = Math.ceil(lo - 1e-9) || 0; // not -0
  const b = Math.floor(hi + 1e-9);
  if (b < a) return [lo];
  return ticks(a, b, 5).filter(Number.isInteger);
}

/** A decade tick's label: 1, 10, 0.1, else 1e-5 style. */
export function decadeLabel(k: number): string {
  return k >= -2 && k <= 3 ? String(Number((10 ** k).toPrecision(1))) : `1e${k}`;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The plot area's size inside a frame. */
export function inner(f: Frame): { w: number; h: number } {
  return { w: f.width - f.left - f.right, h: f.height - f.top - f.bottom };
}

/** Maps [d0, d1] to [r0, r1] linearly (a degenerate domain maps to the middle). */
export function scaleLinear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (!(d1 !== d0)) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

export interface AxisTick {
  value: number;
  label: string;
}

/** The two axes with ticks, tick labels and axis titles, as SVG elements. `sx`/`sy` map tick values to pixels. */
export function axes(
  f: Frame,
  xTicks: AxisTick[],
  sx: (v: number) => number,
  xLabel: string,
  yTicks: AxisTick[],
  sy: (v: number) => number,
  yLabel: string,
): string {
  const { w, h } = inner(f);
  const x0 = f.left;
  const y0 = f.top + h;
  const parts: string[] = [];
  parts.push(`<g class="axes" stroke="#333" stroke-width="1" fill="none">`);
  parts.push(`<path d="M${c(x0)},${c(f.top)}V${c(y0)}H${c(x0 + w)}"/>`);
  for (const t of xTicks) parts.push(`<path d="M${c(sx(t.value))},${c(y0)}v5"/>`);
  for (const t of yTicks) parts.push(`<path d="M${c(x0)},${c(sy(t.value))}h-5"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="tick-labels" font-family="sans-serif" font-size="11" fill="#333">`);
  for (const t of xTicks)
    parts.push(`<text x="${c(sx(t.value))}" y="${c(y0 + 18)}" text-anchor="middle">${esc(t.label)}</text>`);
  for (const t of yTicks)
    parts.push(`<text x="${c(x0 - 8)}" y="${c(sy(t.value) + 4)}" text-anchor="end">${esc(t.label)}</text>`);
  parts.push(`</g>`);
  parts.push(
    `<text class="x-label" x="${c(x0 + w / 2)}" y="${c(f.height - 10)}" text-anchor="middle" font-family="sans-serif" font-size="13">${esc(xLabel)}</text>`,
  );
  parts.push(
    `<text class="y-label" transform="translate(${c(16)},${c(f.top + h / 2)}) rotate(-90)" text-anchor="middle" font-family="sans-serif" font-size="13">${esc(yLabel)}</text>`,
  );
  return parts.join('\n');
}

/** The SVG document around `body`, with a white background and an optional title. */
export function svgDocument(f: Frame, body: string, title?: string): string {
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}">`;
  const t = title
    ? `\n<title>${esc(title)}</title>\n<text class="title" x="${c(f.width / 2)}" y="22" text-anchor="middle" font-family="sans-serif" font-size="15">${esc(title)}</text>`
    : '';
  return `${head}\n<rect width="100%" height="100%" fill="#fff"/>${t}\n${body}\n</svg>\n`;
}

/** Ten distinguishable line colours (Tableau 10). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
