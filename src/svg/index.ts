// Small SVG writers (browser-safe; d3-array for axis ticks, fflate for the PNG inside large heatmaps): heatmaps,
// line plots (log y), loss curves and histograms.

export { heatmapSvg, type HeatmapOptions, type GridAxis } from './heatmap.ts';
export { linePlotSvg, lossCurveSvg, type LinePlotOptions, type LineSeries } from './lines.ts';
export { histogramSvg, binValues, type Bins, type HistogramOptions } from './histogram.ts';
export { encodePng } from './png.ts';
export { viridis } from './colormap.ts';
