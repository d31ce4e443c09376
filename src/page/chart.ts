// uPlot charts for the page: line charts (linear or log axes) that panels update live, and bar histograms.
// Each chart sits in a figure with a text summary (the panel writes it) for people who do not read the plot.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Series colours with at least 4.5:1 contrast on white. */
export const COLORS = ['#1f4e9c', '#a63c00', '#2c6e2c', '#6a2c91', '#8a1538', '#00616b', '#5c5c00', '#404040'];

export interface SeriesSpec {
  label: string;
  color?: string;
  width?: number;
  dash?: number[];
  points?: boolean;
}

export interface LineChartSpec {
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  logX?: boolean;
  logY?: boolean;
  height?: number;
  /** Draw series as bars (histograms). */
  bars?: boolean;
  legend?: boolean;
}

/** Log-axis ticks at powers of ten only, at most about 8 of them (uPlot's own put 9 per decade). */
function decadeSplits(_u: uPlot, _axis: number, min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  const out: number[] = [];
  for (let k = lo; k <= hi; k += step) out.push(10 ** k);
  return out;
}

/** 0.001 … 1000 written out, other powers of ten as 1e-12. */
function powerLabel(v: number | null): string {
  if (v === null || !(v > 0)) return ''; // uPlot passes null for ticks it leaves unlabelled
  const k = Math.round(Math.log10(v));
  return k >= -3 && k <= 3 ? String(Number(v.toPrecision(1))) : `1e${k}`;
}

/** A uPlot chart in `container`, sized to its width, replaced on every call. */
export function lineChart(container: HTMLElement, spec: LineChartSpec, data: uPlot.AlignedData): uPlot {
  container.replaceChildren();
  const width = Math.max(320, Math.min(container.clientWidth || 720, 900));
  const bars = spec.bars ? uPlot.paths.bars!({ size: [0.9, 80] }) : undefined;
  const opts: uPlot.Options = {
    width,
    height: spec.height ?? 260,
    legend: { show: spec.legend ?? true, live: false },
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: spec.logX ? { distr: 3, time: false } : { time: false },
      y: spec.logY ? { distr: 3 } : {},
    },
    axes: [
      { label: spec.xLabel, stroke: '#222', grid: { stroke: '#e4e4e4' } },
      spec.logY
        ? { label: spec.yLabel, stroke: '#222', grid: { stroke: '#e4e4e4' }, size: 70, splits: decadeSplits, values: (_u: uPlot, vs: (number | null)[]) => vs.map(powerLabel) }
        : { label: spec.yLabel, stroke: '#222', grid: { stroke: '#e4e4e4' }, size: 70 },
    ],
    series: [
      { label: spec.xLabel },
      ...spec.series.map((s, k) => ({
        label: s.label,
        stroke: s.color ?? COLORS[k % COLORS.length],
        width: s.width ?? 2,
        dash: s.dash,
        points: { show: s.points ?? false },
        fill: spec.bars ? (s.color ?? COLORS[k % COLORS.length]) + 'cc' : undefined,
        paths: bars,
      })),
    ],
  };
  return new uPlot(opts, data, container);
}

/** Smallest value a log axis shows: uPlot's log-axis ticks round to 16 decimals, so far smaller values never end. */
export const LOG_FLOOR = 1e-14;

/** A value for a log axis: null (a gap) where it is not finite and positive, else at least LOG_FLOOR. */
export function forLog(v: number): number | null {
  return Number.isFinite(v) && v > 0 ? Math.max(v, LOG_FLOOR) : null;
}
