// uPlot charts for the page: line charts (linear or log axes) that panels update live, and bar histograms. Axes
// end near the data (log axes pad by a few percent, not to whole decades), every axis gets at least three labels,
// bars are not cut at the ends, the legend reads the values under the cursor, and every chart follows its
// container's width. Each chart sits in a figure with a text summary (the panel writes it) for people who do not
// read the plot.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { decadeTicks, linearTicks } from '../svg/common.ts';
import { histogramSvg } from '../svg/histogram.ts';
import { linePlotSvg } from '../svg/lines.ts';
import { exportBar, toCsv } from './export.ts';

/** Series colours with at least 4.5:1 contrast on white. */
export const COLORS = ['#1f4e9c', '#a63c00', '#2c6e2c', '#6a2c91', '#8a1538', '#00616b', '#5c5c00', '#404040'];

export interface SeriesSpec {
  label: string;
  color?: string;
  width?: number;
  dash?: number[];
  points?: boolean;
  /** Join the points with a line (default true); false draws points only (values that do not follow each other). */
  line?: boolean;
}

export interface LineChartSpec {
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  logX?: boolean;
  logY?: boolean;
  height?: number;
  /** Draw series as bars (histograms); x values are the bar centres, evenly spaced. */
  bars?: boolean;
  legend?: boolean;
  /** A fixed y range (e.g. [0, 1] for a share), instead of the data's. */
  yRange?: [number, number];
  /** The x values are counts (sequences, steps): ticks only at whole numbers. */
  integerX?: boolean;
  /** Ticks at exactly these x values (e.g. the batch sizes measured), instead of evenly spaced ones. */
  xTicks?: number[];
}

/** The height of every chart unless a panel asks otherwise, so charts side by side line up. */
export const CHART_HEIGHT = 260;

/** Smallest value a log axis shows: uPlot's log-axis ticks round to 16 decimals, so far smaller values never end. */
export const LOG_FLOOR = 1e-14;

/**
 * Largest value a log axis shows: uPlot finds no tick spacing for values with more than 17 integer digits (the
 * axis would lose every label), so larger values are drawn at this ceiling.
 */
export const LOG_CEIL = 1e15;

/**
 * A value for a log axis: null (a gap) where it is not finite or negative; zero and values below LOG_FLOOR are
 * drawn at LOG_FLOOR (a loss that reached exactly 0 stays on the chart), values above LOG_CEIL at LOG_CEIL.
 */
export function forLog(v: number): number | null {
  return Number.isFinite(v) && v >= 0 ? Math.min(LOG_CEIL, Math.max(v, LOG_FLOOR)) : null;
}

/** A compact tick label: 0.001 … 1000 written out, other powers of ten as 1e-12, other values to 3 digits. */
export function tickLabel(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
  const k = Math.floor(Math.log10(a) + 1e-9);
  const m = Number((v / 10 ** k).toPrecision(2));
  return m === 1 ? `1e${k}` : m === -1 ? `-1e${k}` : `${m}e${k}`;
}

/**
 * Evenly spaced "nice" ticks (1, 2 or 5 × 10^k apart: the SVG charts' linearTicks, d3-array's `ticks`) inside
 * [min, max], at least three where the range allows.
 */
export function niceTicks(min: number, max: number, target = 4): number[] {
  if (!(max > min)) return Number.isFinite(min) ? [min] : [];
  for (let want = target; want <= 12; want++) {
    const out = linearTicks(min, max, want);
    if (out.length >= 3) return out;
  }
  return [min, (min + max) / 2, max];
}

/**
 * Log-axis ticks inside [min, max]: powers of ten (at most 8, the SVG charts' decadeTicks), with 2× and 5× added
 * while fewer than three.
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > min)) return min > 0 ? [min] : [];
  const lo = Math.ceil(Math.log10(min) - 1e-9);
  const hi = Math.floor(Math.log10(max) + 1e-9);
  const decades = decadeTicks(Math.log10(min), Math.log10(max)).map((k) => 10 ** k);
  if (decades.length >= 3) return decades;
  const more: number[] = [];
  for (let k = lo - 1; k <= hi; k++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) more.push(Number(v.toPrecision(6)));
    }
  if (more.length >= 3) return more;
  return niceTicks(min, max, 3).filter((v) => v > 0);
}

/** Ticks at whole numbers only inside [min, max] (counts: no 0.5 sequence), at most about `target` + 2 of them. */
export function integerTicks(min: number, max: number, target = 4): number[] {
  const lo = Math.ceil(min - 1e-9);
  const hi = Math.floor(max + 1e-9);
  if (hi < lo) return [];
  if (hi - lo <= target + 1) return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  return niceTicks(min, max, target).filter((v) => Number.isInteger(v));
}

/** The data range of a log scale padded by a few percent (not to whole decades), and of a linear one by 5%. */
function paddedRange(log: boolean) {
  return (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
    if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return log ? [0.1, 10] : [0, 1];
    if (log) {
      if (!(min > 0)) min = LOG_FLOOR;
      if (max <= min) return [min / 2, max * 2];
      const pad = Math.max(1.05, (max / min) ** 0.04);
      return [min / pad, max * pad];
    }
    if (max <= min) return min === 0 ? [-1, 1] : [min - Math.abs(min) * 0.5, max + Math.abs(max) * 0.5];
    const pad = (max - min) * 0.05;
    return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
  };
}

/** Legends of more series than this fold into a toggle (closed on a phone, where they would outgrow the chart). */
export const LEGEND_FOLD = 6;

/** Puts the chart's legend in a <details> toggle: open on a wide screen, closed on a narrow one (following the width). */
function foldLegend(u: uPlot, n: number): void {
  const legend = u.root.querySelector('.u-legend');
  if (!legend?.parentElement) return;
  const box = document.createElement('details');
  box.className = 'legend-fold';
  const wide = typeof matchMedia === 'undefined' ? null : matchMedia('(min-width: 40rem)');
  box.open = wide?.matches ?? true;
  // Rotating a phone or resizing the window opens or closes it as a new chart would be.
  const follow = (e: MediaQueryListEvent): void => {
    if (!box.isConnected) wide?.removeEventListener('change', follow);
    else box.open = e.matches;
  };
  wide?.addEventListener('change', follow);
  const summary = document.createElement('summary');
  summary.textContent = `Legend: ${n} series`;
  legend.parentElement.insertBefore(box, legend);
  box.append(summary, legend);
}

/** The charts on the page by container id, for tests and the console (the data each one draws). */
export const charts = new Map<string, uPlot>();
/** The spec each chart on the page was last drawn with, by container id (for tests and the console). */
export const chartSpecs = new Map<string, LineChartSpec>();

const observed = new WeakMap<HTMLElement, ResizeObserver>();
/** The chart each container holds and the spec it was built for. */
const reusable = new WeakMap<HTMLElement, { key: string; u: uPlot }>();
/** Charts whose first layout and draw have not run yet, with the data to draw then. */
const unready = new WeakMap<uPlot, { data: uPlot.AlignedData }>();

/** Gives chart `u` new data: now, or when it first draws if it has not yet. */
export function setChartData(u: uPlot, data: uPlot.AlignedData): void {
  const waiting = unready.get(u);
  if (waiting) waiting.data = data;
  else u.setData(data);
}

function widthOf(container: HTMLElement): number {
  // An empty chart box is hidden (display: none), so measure its parent the first time.
  const w = container.clientWidth || (container.parentElement?.clientWidth ?? 720) - 2;
  return Math.max(200, Math.floor(w - 10));
}

/** A uPlot chart in `container`, as wide as the container (and following it), replaced on every call. */
export function lineChart(container: HTMLElement, spec: LineChartSpec, data: uPlot.AlignedData): uPlot {
  // A chart redrawn with the same spec (a playground's frame, a run's progress) keeps its uPlot and takes the new
  // data: building a chart again costs a layout and every axis' fonts, which a live update cannot afford.
  const key = JSON.stringify(spec);
  if (container.id) chartSpecs.set(container.id, spec);
  const same = reusable.get(container);
  if (same && same.key === key && container.contains(same.u.root)) {
    setChartData(same.u, data);
    return same.u;
  }
  // Measure before emptying the container: reading its width after a DOM change would force a layout.
  const width = widthOf(container);
  container.replaceChildren();
  const bars = spec.bars ? uPlot.paths.bars!({ size: [0.9, 80] }) : undefined;
  const xRange = spec.bars
    ? (u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
        // Half a bar's width beyond the first and last centres, so no bar is cut in half.
        const xs = u.data[0] as number[];
        const half = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 0.5;
        return [(min ?? 0) - half, (max ?? 1) + half];
      }
    : paddedRange(!!spec.logX);
  const axis = (label: string, log: boolean, size: number, integer = false): uPlot.Axis => ({
    label,
    stroke: '#222',
    grid: { stroke: '#e4e4e4' },
    ticks: { stroke: '#bbb' },
    size,
    labelSize: 22,
    gap: 5,
    splits: (_u: uPlot, _i: number, min: number, max: number) =>
      log ? logTicks(min, max) : integer ? integerTicks(min, max) : niceTicks(min, max),
    // Label every split chosen above (uPlot's own filter labels only whole decades on log axes).
    filter: (_u: uPlot, splits: number[]) => splits,
    values: (_u: uPlot, vs: (number | null)[]) => vs.map(tickLabel),
  });
  const opts: uPlot.Options = {
    width,
    height: spec.height ?? CHART_HEIGHT,
    legend: { show: spec.legend ?? true, live: true },
    cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    scales: {
      x: { time: false, distr: spec.logX ? 3 : 1, range: xRange },
      y: {
        distr: spec.logY ? 3 : 1,
        range: spec.yRange ? (): uPlot.Range.MinMax => spec.yRange! : paddedRange(!!spec.logY),
      },
    },
    axes: [
      spec.xTicks
        ? {
            ...axis(spec.xLabel, !!spec.logX, 34),
            splits: (_u: uPlot, _i: number, min: number, max: number) =>
              spec.xTicks!.filter((v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)),
            // The measured values exactly (1024, not 1020).
            values: (_u: uPlot, vs: (number | null)[]) => vs.map((v) => (v === null ? '' : String(v))),
          }
        : axis(spec.xLabel, !!spec.logX, 34, !!spec.integerX),
      axis(spec.yLabel, !!spec.logY, 56),
    ],
    series: [
      { label: spec.xLabel, value: (_u: uPlot, v: number | null) => (v === null ? '—' : tickLabel(v)) },
      ...spec.series.map((s, k) => ({
        label: s.label,
        stroke: s.color ?? COLORS[k % COLORS.length],
        width: s.width ?? 2,
        dash: s.dash,
        points: { show: s.points ?? false },
        fill: spec.bars ? (s.color ?? COLORS[k % COLORS.length]) + 'cc' : undefined,
        paths: s.line === false ? (): null => null : bars,
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : tickLabel(v)),
      })),
    ],
  };
  // Building a chart and drawing it first are two tasks: together they would hold the main thread for tens of ms
  // on a software-rendered page. The first draw takes the latest data given by then.
  const waiting = { data };
  let last = opts.width;
  // Follow the container's width (phone rotation, window resize, a column that changes width); a change before the
  // first draw is applied at the first layout after it.
  const fit = (): void => {
    const w = widthOf(container);
    if (Math.abs(w - last) >= 2 && charts.get(container.id) === u && !unready.has(u)) {
      last = w;
      u.setSize({ width: w, height: opts.height });
    }
  };
  const u = new uPlot(opts, data, (self, init) => {
    container.appendChild(self.root);
    setTimeout(() => {
      if (!container.contains(self.root)) return;
      (init as () => void)(); // uPlot types it as Function
      unready.delete(self);
      if (waiting.data !== data) self.setData(waiting.data);
      // Observed from now on: the first notification comes after the next layout, so the width is read then
      // (reading it here, right after the chart's DOM was added, would force a layout inside this task).
      observed.get(container)?.disconnect();
      if (typeof ResizeObserver !== 'undefined') {
        const ro = new ResizeObserver(fit);
        ro.observe(container);
        observed.set(container, ro);
      }
    }, 0);
  });
  unready.set(u, waiting);
  if ((spec.legend ?? true) && spec.series.length > LEGEND_FOLD) foldLegend(u, spec.series.length);
  if (container.id) charts.set(container.id, u);
  reusable.set(container, { key, u });
  // Touch: uPlot's cursor follows the mouse only; a finger on the plot moves it too (and the legend reads out).
  const touch = (e: TouchEvent): void => {
    const t = e.touches[0];
    if (!t) return;
    const r = u.over.getBoundingClientRect();
    u.setCursor({ left: t.clientX - r.left, top: t.clientY - r.top });
  };
  u.over.addEventListener('touchstart', touch, { passive: true });
  u.over.addEventListener('touchmove', touch, { passive: true });
  // Save the picture and the data the chart draws (whatever it holds when the button is pressed).
  const labels = [spec.xLabel, ...spec.series.map((s) => s.label)];
  const rows = (): (number | null)[][] => {
    const d = u.data ?? data;
    return (d[0] as number[]).map((_, i) => d.map((col) => (col as (number | null)[])[i] ?? null));
  };
  container.appendChild(
    exportBar({
      name: container.id || 'chart',
      what: `the chart "${spec.yLabel} against ${spec.xLabel}"`,
      png: () => new Promise((resolve) => u.ctx.canvas.toBlob(resolve, 'image/png')),
      svg: () => chartSvg(spec, u.data ?? data),
      csv: () => toCsv(labels, rows()),
      json: () => ({ x: spec.xLabel, series: labels.slice(1), rows: rows() }),
    }),
  );
  // The previous chart's observer stops now (the new one observes from its first draw).
  observed.get(container)?.disconnect();
  observed.delete(container);
  return u;
}

/**
 * The chart's data drawn again as a standalone SVG (src/svg: the same writers as the CLI's plots), for Save SVG:
 * lines with the chart's log axes, or bars as a histogram with edges halfway between the centres.
 */
export function chartSvg(spec: LineChartSpec, data: uPlot.AlignedData): string {
  const xs = Array.from(data[0] as ArrayLike<number>);
  if (spec.bars) {
    const half = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 0.5;
    const counts = Array.from((data[1] ?? []) as ArrayLike<number | null>, (v) => v ?? 0);
    const edges = [...xs.map((x) => x - half), (xs[xs.length - 1] ?? 0) + half];
    return histogramSvg({
      bins: { edges, counts, log: false, nonFinite: 0, nonPositive: 0, below: 0, above: 0 },
      xLabel: spec.xLabel,
      yLabel: spec.yLabel,
    });
  }
  const series = spec.series.map((s, k) => {
    const ys = Array.from((data[k + 1] ?? []) as ArrayLike<number | null>, (v) => (v === null ? NaN : v));
    return { label: s.label, x: xs, y: ys, dashed: !!s.dash };
  });
  return linePlotSvg({ series, xLabel: spec.xLabel, yLabel: spec.yLabel, logY: spec.logY, logX: spec.logX });
}
