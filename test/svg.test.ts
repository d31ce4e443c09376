// The SVG writers: well-formed XML (parsed strictly), the expected number of cells, bars and lines, axis labels,
// no NaN or Infinity anywhere, and the embedded PNG decodes to the right pixels.

import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  binValues,
  encodePng,
  heatmapSvg,
  histogramSvg,
  linePlotSvg,
  lossCurveSvg,
  viridis,
} from '../src/svg/index.ts';
import { decadeTicks, linearTicks } from '../src/svg/common.ts';
import { allElements, allText, parseXml, type XmlElement } from './helpers/xml.ts';

function check(svg: string): XmlElement[] {
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  const root = parseXml(svg);
  expect(root.name).toBe('svg');
  expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
  return allElements(root);
}

const withClass = (els: XmlElement[], cls: string): XmlElement[] =>
  els.filter((e) => (e.attrs.class ?? '').split(' ').includes(cls));

describe('axis ticks', () => {
  it('are round values 1, 2 or 5 × 10^k apart inside the range (d3-array)', () => {
    expect(linearTicks(-2, 2)).toEqual([-2, -1, 0, 1, 2]);
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0.1, 0.3)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3]);
    expect(linearTicks(1700, 2008)).toEqual([1700, 1750, 1800, 1850, 1900, 1950, 2000]);
    expect(linearTicks(0, 7, 4)).toEqual([0, 2, 4, 6]);
    expect(linearTicks(3, 3)).toEqual([3]);
    // Decades: every one, or every 2nd, 5th, … for wide ranges; a decade a rounding error put just outside counts.
    expect(decadeTicks(-3.2, 1.5)).toEqual([-3, -2, -1, 0, 1]);
    expect(decadeTicks(-12, 0)).toEqual([-12, -10, -8, -6, -4, -2, 0]);
    expect(decadeTicks(-40, 0)).toEqual([-40, -30, -20, -10, 0]);
    expect(decadeTicks(-2 - 1e-12, 0)).toEqual([-2, -1, 0]);
    expect(decadeTicks(0.1, 0.9)).toEqual([0.1]);
    for (let n = 1; n <= 500; n++) expect(decadeTicks(-n, 0).length).toBeLessThanOrEqual(8);
  });
});

describe('heatmap', () => {
  const rows = 7;
  const cols = 9;
  const values = Array.from({ length: rows * cols }, (_, k) => 10 ** ((k % cols) / 2 - 2) + Math.floor(k / cols));
  values[5] = Infinity;
  values[6] = NaN;

  it('draws one cell per value, axes, labels, a legend and the descent path', () => {
    const svg = heatmapSvg({
      values,
      rows,
      cols,
      x: { label: 'w1', min: -2, max: 2 },
      y: { label: 'w2 & "b"', min: -1, max: 1 },
      title: 'SSR <landscape>',
      valueLabel: 'SSR',
      path: [
        { x: 1.8, y: -0.5 },
        { x: 0, y: 0 },
        { x: NaN, y: 0 },
        { x: 1, y: 0.5 },
      ],
      pathLabel: 'gradient descent',
    });
    const els = check(svg);
    const cells = withClass(els, 'cell');
    expect(cells.length).toBe(rows * cols);
    const text = allText(parseXml(svg));
    expect(text).toContain('w1');
    expect(text).toContain('w2 & "b"');
    expect(text).toContain('SSR <landscape>');
    expect(text).toContain('SSR (log scale)');
    expect(text).toContain('not finite (2)');
    expect(withClass(els, 'descent-path')[0].attrs.d.match(/[ML]/g)!.length).toBe(3);
    // Row 0 is y.min: drawn lowest. Non-finite cells are grey.
    expect(Number(cells[0].attrs.y)).toBeGreaterThan(Number(cells[cols].attrs.y));
    expect(cells[5].attrs.fill).toBe('#bebebe');
    // The smallest value gets viridis(0), the largest viridis(1).
    expect(cells[0].attrs.fill).toBe('#440154');
    expect(cells[rows * cols - 1].attrs.fill).toBe('#fde725');
    // Tick labels on both axes.
    expect(els.filter((e) => e.name === 'text' && e.text === '-2').length).toBe(1);
    expect(els.filter((e) => e.name === 'text' && e.text === '0.5').length).toBe(1);
  });

  it('embeds a large grid as a PNG whose pixels are the colour map', () => {
    const n = 200;
    const vals = Array.from({ length: n * n }, (_, k) => (k % n) + 1);
    const svg = heatmapSvg({
      values: vals,
      rows: n,
      cols: n,
      x: { label: 'a', min: 0, max: 1 },
      y: { label: 'b', min: 0, max: 1 },
      scale: 'linear',
    });
    const els = check(svg);
    expect(withClass(els, 'cell').length).toBe(0);
    const img = withClass(els, 'cells-image')[0];
    const png = Buffer.from(img.attrs.href.replace('data:image/png;base64,', ''), 'base64');
    expect(png.readUInt32BE(16)).toBe(n);
    expect(png.readUInt32BE(20)).toBe(n);
    const idat = png.subarray(41, 41 + png.readUInt32BE(33));
    const raw = inflateSync(idat);
    expect(raw.length).toBe(n * (1 + 3 * n));
    // Every row is the same colour ramp, so deflate (not stored blocks, which add 5 bytes per 64 KiB) shrinks it.
    expect(idat.length).toBeLessThan(raw.length / 20);
    // Column 0 is the minimum (viridis 0), the last column the maximum (viridis 1), in every row.
    expect([...raw.subarray(1, 4)]).toEqual(viridis(0));
    expect([...raw.subarray(1 + 3 * (n - 1), 1 + 3 * n)]).toEqual(viridis(1));
  });

  it('survives a constant grid, a single cell and all non-finite values', () => {
    check(
      heatmapSvg({
        values: [3, 3, 3, 3],
        rows: 2,
        cols: 2,
        x: { label: 'x', min: 0, max: 1 },
        y: { label: 'y', min: 0, max: 1 },
      }),
    );
    check(
      heatmapSvg({
        values: [0],
        rows: 1,
        cols: 1,
        x: { label: 'x', min: 1, max: 1 },
        y: { label: 'y', min: 1, max: 1 },
      }),
    );
    check(
      heatmapSvg({
        values: [NaN, Infinity],
        rows: 1,
        cols: 2,
        x: { label: 'x', min: 0, max: 1 },
        y: { label: 'y', min: 0, max: 0 },
      }),
    );
    expect(() =>
      heatmapSvg({
        values: [1, 2, 3],
        rows: 2,
        cols: 2,
        x: { label: 'x', min: 0, max: 1 },
        y: { label: 'y', min: 0, max: 1 },
      }),
    ).toThrow(RangeError);
  });
});

describe('line plot', () => {
  it('draws one path per series on a log axis, breaking at zeros and non-finite values', () => {
    const ks = [0, 1, 2, 3, 4, 5];
    const series = [-0.5, 0, 1.5].map((w2) => ({ label: `w2 = ${w2}`, x: ks, y: ks.map((k) => w2 ** k) }));
    series.push({ label: 'broken', x: ks, y: [1, NaN, 2, Infinity, 0, 3] });
    const svg = linePlotSvg({
      series,
      xLabel: 'k (steps back)',
      yLabel: '|dSSR/dw1 term|',
      logY: true,
      title: 'unroll',
    });
    const els = check(svg);
    const paths = withClass(els, 'series');
    expect(paths.length).toBe(4);
    expect(paths[0].attrs.d.match(/[ML]/g)!.length).toBe(6);
    expect(paths[1].attrs.d.match(/[ML]/g)!.length).toBe(1); // 0^0 = 1, then zeros
    expect(withClass(els, 'point').length).toBe(4); // that lone point, and the broken series' three isolated ones
    expect(paths[3].attrs.d.match(/M/g)!.length).toBe(3);
    const text = allText(parseXml(svg));
    expect(text).toContain('k (steps back)');
    expect(text).toContain('|dSSR/dw1 term| (log scale)');
    expect(text).toContain('w2 = 1.5');
    expect(els.some((e) => e.name === 'text' && e.text === '1')).toBe(true); // a decade tick
  });

  it('draws a loss curve with a dashed validation line, and many series with a truncated legend', () => {
    const history = Array.from({ length: 50 }, (_, k) => ({ step: k * 10, loss: Math.exp(-k / 5) }));
    const els = check(lossCurveSvg(history, { validation: history.map((p) => ({ ...p, loss: p.loss * 2 })) }));
    expect(withClass(els, 'series').length).toBe(2);
    expect(withClass(els, 'series')[1].attrs['stroke-dasharray']).toBe('5,3');
    const many = Array.from({ length: 30 }, (_, j) => ({ label: `s${j}`, x: [0, 1], y: [j, j + 1] }));
    const svg = linePlotSvg({ series: many, xLabel: 'x', yLabel: 'y' });
    expect(withClass(check(svg), 'series').length).toBe(30);
    expect(svg).toContain('… 17 more');
    check(linePlotSvg({ series: [{ label: 'empty', x: [], y: [] }], xLabel: 'x', yLabel: 'y', logY: true }));
  });
});

describe('histogram', () => {
  it('bins values (log-spaced) and draws one bar per bin', () => {
    const vals = [1e-6, 1e-5, 1e-5, 1e-3, 1e-1, 1, 0, NaN, Infinity];
    const b = binValues(vals, 6, true);
    expect(b.counts.reduce((s, n) => s + n, 0)).toBe(6);
    expect(b.nonFinite).toBe(2);
    expect(b.nonPositive).toBe(1);
    expect(b.edges[0]).toBeCloseTo(-6, 12);
    expect(b.edges[6]).toBeCloseTo(0, 12);
    expect(b.counts).toEqual([1, 2, 0, 1, 0, 2]);
    const svg = histogramSvg({ bins: b, xLabel: 'final loss', title: 'population' });
    const els = check(svg);
    const bars = withClass(els, 'bar');
    expect(bars.map((e) => Number(e.attrs['data-count']))).toEqual(b.counts);
    const text = allText(parseXml(svg));
    expect(text).toContain('final loss (log scale)');
    expect(text).toContain('count');
    expect(text).toContain('not shown: 2 not finite, 1 ≤ 0');
    check(histogramSvg({ bins: binValues([5, 5, 5], 3, false), xLabel: 'x' }));
  });

  it('encodes a PNG that zlib reads back exactly', () => {
    const rgb = Uint8Array.from({ length: 3 * 5 * 4 }, (_, k) => (k * 37) % 256);
    const png = Buffer.from(encodePng(5, 4, rgb));
    const raw = inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)));
    // Every chunk's CRC (over type and data) is right.
    for (let o = 8; o < png.length;) {
      const len = png.readUInt32BE(o);
      expect(png.readUInt32BE(o + 8 + len)).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
      o += 12 + len;
    }
    for (let y = 0; y < 4; y++) {
      expect(raw[y * 16]).toBe(0);
      expect([...raw.subarray(y * 16 + 1, y * 16 + 16)]).toEqual([...rgb.subarray(y * 15, y * 15 + 15)]);
    }
  });
});
