// A heatmap for the loss landscape: grid values filled into a canvas with ImageData (one pixel per grid cell,
// scaled up by CSS), viridis colours on log10 of the value, and an SVG layer on top for the axes, a titled colour
// bar (SSR, log-spaced) and an optional path. Values that are not finite are grey. The drawing fits its
// container's width (and redraws when that changes); hovering reads the value under the pointer, and a click (or a
// tap) reports the grid coordinates to the panel.

import { NON_FINITE_RGB, viridis } from '../svg/colormap.ts';
import { exportBar, toCsv } from './export.ts';
import { num } from './ui.ts';

export interface HeatmapSpec {
  /** values[iy·nx + ix]. */
  values: Float64Array;
  x: Float64Array;
  y: Float64Array;
  xLabel: string;
  yLabel: string;
  path?: { x: number; y: number }[] | null;
  /** Largest side of the square plot in CSS pixels (default 440); smaller when the container is narrower. */
  size?: number;
  /** Title of the colour bar. */
  valueLabel?: string;
  /** Called with the parameter values at a click or tap inside the plot. */
  onPick?: (x: number, y: number) => void;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const MARGIN = { left: 64, top: 28, right: 104, bottom: 48 };

const observers = new WeakMap<HTMLElement, ResizeObserver>();

/** Viridis sampled at 1024 points (colours within one byte step of viridis(t)), built once: no call per pixel. */
const LUT_SIZE = 1024;
let table: Uint8Array | null = null;
function colourTable(): Uint8Array {
  if (!table) {
    table = new Uint8Array(LUT_SIZE * 3);
    for (let k = 0; k < LUT_SIZE; k++) table.set(viridis(k / (LUT_SIZE - 1)), k * 3);
  }
  return table;
}

/** The plot side that fits `container`: at most spec.size, at least 120 px. */
function fitSize(container: HTMLElement, max: number): number {
  const avail = (container.clientWidth || max + MARGIN.left + MARGIN.right) - MARGIN.left - MARGIN.right - 4;
  return Math.max(120, Math.min(max, Math.floor(avail)));
}

/** Draws the heatmap into `container` (and again whenever its width changes); returns the log10 colour range. */
export function drawHeatmap(container: HTMLElement, spec: HeatmapSpec): { lo: number; hi: number } {
  const out = render(container, spec, fitSize(container, spec.size ?? 440));
  observers.get(container)?.disconnect();
  if (typeof ResizeObserver !== 'undefined') {
    let last = container.clientWidth;
    const ro = new ResizeObserver(() => {
      if (Math.abs(container.clientWidth - last) < 2) return;
      last = container.clientWidth;
      render(container, spec, fitSize(container, spec.size ?? 440));
    });
    ro.observe(container);
    observers.set(container, ro);
  }
  return out;
}

function render(container: HTMLElement, spec: HeatmapSpec, size: number): { lo: number; hi: number } {
  const nx = spec.x.length;
  const ny = spec.y.length;
  const m = MARGIN;
  let lo = Infinity;
  let hi = -Infinity;
  const logs = new Float64Array(spec.values.length);
  for (let k = 0; k < spec.values.length; k++) {
    const v = spec.values[k];
    logs[k] = Number.isFinite(v) ? Math.log10(Math.max(v, 1e-12)) : NaN;
    if (Number.isFinite(logs[k])) {
      lo = Math.min(lo, logs[k]);
      hi = Math.max(hi, logs[k]);
    }
  }
  if (!Number.isFinite(lo)) lo = 0;
  if (!(hi > lo)) hi = lo + 1;
  const canvas = document.createElement('canvas');
  canvas.width = nx;
  canvas.height = ny;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(nx, ny);
  const lut = colourTable();
  const top = LUT_SIZE - 1;
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const l = logs[iy * nx + ix];
      const p = ((ny - 1 - iy) * nx + ix) * 4; // y grows upwards
      if (Number.isFinite(l)) {
        const c = Math.min(top, Math.max(0, Math.round(((l - lo) / (hi - lo)) * top))) * 3;
        img.data[p] = lut[c];
        img.data[p + 1] = lut[c + 1];
        img.data[p + 2] = lut[c + 2];
      } else {
        img.data[p] = NON_FINITE_RGB[0];
        img.data[p + 1] = NON_FINITE_RGB[1];
        img.data[p + 2] = NON_FINITE_RGB[2];
      }
      img.data[p + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  Object.assign(canvas.style, {
    position: 'absolute',
    left: `${m.left}px`,
    top: `${m.top}px`,
    width: `${size}px`,
    height: `${size}px`,
    cursor: spec.onPick ? 'crosshair' : 'default',
    touchAction: 'manipulation',
  });

  const x0 = spec.x[0];
  const x1 = spec.x[nx - 1];
  const y0 = spec.y[0];
  const y1 = spec.y[ny - 1];
  const sx = (v: number): number => m.left + ((v - x0) / (x1 - x0)) * size;
  const sy = (v: number): number => m.top + size - ((v - y0) / (y1 - y0)) * size;
  const nTicks = size < 220 ? 3 : 5;
  const ticks = (a: number, b: number): number[] =>
    Array.from({ length: nTicks }, (_, k) => a + ((b - a) * k) / (nTicks - 1));
  const label = (v: number): string => String(Number(v.toPrecision(3)));
  const parts: string[] = [];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${size}" height="${size}" fill="none" stroke="#333"/>`);
  for (const v of ticks(x0, x1)) {
    parts.push(`<line x1="${sx(v)}" y1="${m.top + size}" x2="${sx(v)}" y2="${m.top + size + 5}" stroke="#333"/>`);
    parts.push(`<text x="${sx(v)}" y="${m.top + size + 19}" text-anchor="middle">${label(v)}</text>`);
  }
  for (const v of ticks(y0, y1)) {
    parts.push(`<line x1="${m.left - 5}" y1="${sy(v)}" x2="${m.left}" y2="${sy(v)}" stroke="#333"/>`);
    parts.push(`<text x="${m.left - 8}" y="${sy(v) + 4}" text-anchor="end">${label(v)}</text>`);
  }
  parts.push(
    `<text x="${m.left + size / 2}" y="${m.top + size + 40}" text-anchor="middle" font-weight="600">${esc(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${m.top + size / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${esc(spec.yLabel)}</text>`,
  );
  // Colour bar with its title and unit.
  const cx = m.left + size + 14;
  const stops = Array.from({ length: 9 }, (_, k) => {
    const [r, g, b] = viridis(k / 8);
    return `<stop offset="${k / 8}" stop-color="rgb(${r},${g},${b})"/>`;
  }).join('');
  const gid = `heat-scale-${container.id || 'x'}`;
  parts.push(`<defs><linearGradient id="${gid}" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`);
  parts.push(
    `<text x="${m.left + size + m.right - 4}" y="${m.top - 10}" text-anchor="end" font-weight="600">${esc(spec.valueLabel ?? 'SSR (log scale)')}</text>`,
  );
  parts.push(`<rect x="${cx}" y="${m.top}" width="16" height="${size}" fill="url(#${gid})" stroke="#333"/>`);
  for (const v of ticks(lo, hi)) {
    const y = m.top + size - ((v - lo) / (hi - lo)) * size;
    parts.push(`<line x1="${cx + 16}" y1="${y}" x2="${cx + 20}" y2="${y}" stroke="#333"/>`);
    parts.push(`<text x="${cx + 23}" y="${y + 4}">${num(10 ** v, 2)}</text>`);
  }
  if (spec.path && spec.path.length > 0) {
    const pts = spec.path.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    const a = spec.path[0];
    const b = spec.path[spec.path.length - 1];
    const cid = `heat-clip-${container.id || 'x'}`;
    parts.push(
      `<clipPath id="${cid}"><rect x="${m.left}" y="${m.top}" width="${size}" height="${size}"/></clipPath><g clip-path="url(#${cid})">`,
    );
    // The path draws itself from the start (CSS animation on pathLength; none with reduced motion).
    parts.push(`<polyline points="${pts}" pathLength="1" class="descent" fill="none" stroke="#fff" stroke-width="4"/>`);
    parts.push(
      `<polyline points="${pts}" pathLength="1" class="descent" fill="none" stroke="#c8102e" stroke-width="2"/>`,
    );
    parts.push(`<circle cx="${sx(a.x)}" cy="${sy(a.y)}" r="5" fill="#fff" stroke="#c8102e" stroke-width="2"/>`);
    parts.push(`<circle cx="${sx(b.x)}" cy="${sy(b.y)}" r="5" fill="#c8102e" stroke="#fff" stroke-width="2"/></g>`);
  }
  const W = m.left + size + m.right;
  const H = m.top + size + m.bottom;
  const svg = `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" aria-hidden="true" style="position:absolute;left:0;top:0;font-size:12px;pointer-events:none">${parts.join('')}</svg>`;
  const box = document.createElement('div');
  Object.assign(box.style, { position: 'relative', width: `${W}px`, height: `${H}px` });
  box.appendChild(canvas);
  box.insertAdjacentHTML('beforeend', svg);
  // Hover readout: the grid cell under the pointer.
  const readout = document.createElement('p');
  readout.className = 'small cursor-read';
  readout.setAttribute('aria-live', 'off');
  readout.textContent = spec.onPick
    ? 'Hover to read a value; click or tap to start the descent there.'
    : 'Hover to read a value.';
  const at = (e: MouseEvent | PointerEvent): { ix: number; iy: number; x: number; y: number } | null => {
    const r = canvas.getBoundingClientRect();
    const fx = (e.clientX - r.left) / r.width;
    const fy = 1 - (e.clientY - r.top) / r.height;
    if (!(fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1)) return null;
    return {
      ix: Math.min(nx - 1, Math.round(fx * (nx - 1))),
      iy: Math.min(ny - 1, Math.round(fy * (ny - 1))),
      x: x0 + fx * (x1 - x0),
      y: y0 + fy * (y1 - y0),
    };
  };
  canvas.addEventListener('pointermove', (e) => {
    const p = at(e);
    if (!p) return;
    readout.textContent = `${spec.xLabel} = ${num(spec.x[p.ix], 4)}, ${spec.yLabel} = ${num(spec.y[p.iy], 4)}: SSR ${num(spec.values[p.iy * nx + p.ix], 4)}`;
  });
  if (spec.onPick) {
    const pick = spec.onPick;
    canvas.addEventListener('click', (e) => {
      const p = at(e);
      if (p) pick(Number(p.x.toPrecision(4)), Number(p.y.toPrecision(4)));
    });
  }
  const svgFile = (): string =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12"><rect width="${W}" height="${H}" fill="#fff"/>` +
    `<image x="${m.left}" y="${m.top}" width="${size}" height="${size}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${canvas.toDataURL('image/png')}"/>${parts.join('')}</svg>`;
  const rows = (): (number | null)[][] => {
    const out: (number | null)[][] = [];
    for (let iy = 0; iy < ny; iy++)
      for (let ix = 0; ix < nx; ix++)
        out.push([
          spec.x[ix],
          spec.y[iy],
          Number.isFinite(spec.values[iy * nx + ix]) ? spec.values[iy * nx + ix] : null,
        ]);
    return out;
  };
  const bar = exportBar({
    name: container.id || 'heatmap',
    what: 'the loss landscape',
    svg: svgFile,
    csv: () => toCsv([spec.xLabel, spec.yLabel, 'SSR'], rows()),
    json: () => ({
      x: Array.from(spec.x),
      y: Array.from(spec.y),
      xLabel: spec.xLabel,
      yLabel: spec.yLabel,
      values: Array.from(spec.values, (v) => (Number.isFinite(v) ? v : null)),
      path: spec.path ?? null,
    }),
  });
  container.replaceChildren(box, readout, bar);
  return { lo, hi };
}
