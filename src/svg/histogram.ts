// Histograms: binning (linear or log-spaced bins, counting what falls outside) and an SVG bar chart with axes,
// used for the distribution of a population's final losses.

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

export interface Bins {
  /** bins + 1 edges, ascending; on a log scale these are log10 of the values. */
  edges: number[];
  counts: number[];
  log: boolean;
  /** Values that are not finite (e.g. diverged models). */
  nonFinite: number;
  /** Values ≤ 0 on a log scale (counted into no bin). */
  nonPositive: number;
  /** Values below the first edge / above the last one (only with an explicit range). */
  below: number;
  above: number;
}

/**
 * Counts finite values into `bins` equal bins between their min and max (of log10 v for `log`), or over `range`
 * (in the same units) when given, counting values outside it in `below` and `above`.
 */
export function binValues(values: ArrayLike<number>, bins: number, log: boolean, range?: [number, number]): Bins {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const xs: number[] = [];
  let nonFinite = 0;
  let nonPositive = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) nonFinite++;
    else if (log && v <= 0) nonPositive++;
    else xs.push(log ? Math.log10(v) : v);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (xs.length === 0) [lo, hi] = [0, 1];
  if (range) {
    if (!(range[1] > range[0])) throw new RangeError(`bin range must be increasing, got ${range.join(',')}`);
    [lo, hi] = range;
  }
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const edges = Array.from({ length: bins + 1 }, (_, k) => lo + ((hi - lo) * k) / bins);
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  for (const x of xs) {
    if (x < lo) below++;
    else if (x > hi) above++;
    else counts[Math.min(bins - 1, Math.floor(((x - lo) / (hi - lo)) * bins))]++;
  }
  return { edges, counts, log, nonFinite, nonPositive, below, above };
}

export interface HistogramOptions {
  bins: Bins;
  xLabel: string;
  yLabel?: string;
  title?: string;
  width?: number;
  height?: number;
}

export function histogramSvg(o: HistogramOptions): string {
  const b = o.bins;
  const f: Frame = {
    width: o.width ?? 640,
    height: o.height ?? 400,
    left: 72,
    right: 24,
    top: o.title ? 40 : 16,
    bottom: 48,
  };
  const { w, h } = inner(f);
  const lo = b.edges[0];
  const hi = b.edges[b.edges.length - 1];
  const maxCount = Math.max(1, ...b.counts);
  const sx = scaleLinear(lo, hi, f.left, f.left + w);
  const sy = scaleLinear(0, maxCount * 1.05, f.top + h, f.top);
  const parts: string[] = [];
  parts.push(`<g class="bars" fill="#4e79a7" stroke="#fff" stroke-width="0.5">`);
  b.counts.forEach((n, k) => {
    const x = sx(b.edges[k]);
    const bw = sx(b.edges[k + 1]) - x;
    parts.push(
      `<rect class="bar" data-count="${n}" x="${c(x)}" y="${c(sy(n))}" width="${c(Math.max(0, bw))}" height="${c(f.top + h - sy(n))}"/>`,
    );
  });
  parts.push(`</g>`);
  const xt = b.log
    ? decadeTicks(lo, hi).map((k) => ({ value: k, label: decadeLabel(k) }))
    : linearTicks(lo, hi).map((v) => ({ value: v, label: tickLabel(v) }));
  const yt = linearTicks(0, maxCount, 4)
    .filter((v) => Number.isInteger(v))
    .map((v) => ({ value: v, label: tickLabel(v) }));
  parts.push(axes(f, xt, sx, b.log ? `${o.xLabel} (log scale)` : o.xLabel, yt, sy, o.yLabel ?? 'count'));
  const notes: string[] = [];
  if (b.below) notes.push(`${b.below} below ${b.log ? decadeLabel(lo) : tickLabel(lo)}`);
  if (b.above) notes.push(`${b.above} above ${b.log ? decadeLabel(hi) : tickLabel(hi)}`);
  if (b.nonFinite) notes.push(`${b.nonFinite} not finite`);
  if (b.nonPositive) notes.push(`${b.nonPositive} ≤ 0`);
  if (notes.length)
    parts.push(
      `<text class="note" x="${c(f.left + w)}" y="${c(f.top + 12)}" text-anchor="end" font-family="sans-serif" font-size="11">${esc(`not shown: ${notes.join(', ')}`)}</text>`,
    );
  return svgDocument(f, parts.join('\n'), o.title);
}
