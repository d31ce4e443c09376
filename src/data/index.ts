// Data sets for training and experiments: the seed notes' toy stock data, a noisy sine, the adding problem, a
// user's CSV time series in sliding windows, the train/validation split, and forecasting a series (src/data/series.ts).

export type { DataSet, ShapeSuggestion } from './dataset.ts';
export { seedData, scalarDataSet } from './seed.ts';
export { sineData, addingData, type SineOptions, type AddingOptions } from './synthetic.ts';
export { parseCsv, slidingWindows, csvData, detectTimeColumn, timeReasonText, type TimeReason, type CsvOptions, type WindowOptions, type TimeSeries, type ColumnRef } from './csv.ts';
export { splitData, subsetBatch, type Split, type SplitOptions, type SplitMode } from './split.ts';
export {
  denormalize,
  fitNormalization,
  forecastErrors,
  forecastSplit,
  naiveForecast,
  normalizeSeries,
  partWindows,
  seriesRows,
  splitRows,
  type ForecastSplit,
  type Normalization,
  type NormalizationKind,
  type SeriesInfo,
} from './series.ts';
