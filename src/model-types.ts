// The model's vocabulary at the bottom of the module graph: activations, output modes, size limits and Shape, which
// the cells (src/cells/), the batch, the data sets and the model itself (src/model.ts) all share, and what a model
// fitted to a time series keeps about it (ModelJSON.series, .normalization; fitted by src/data/series.ts). Types and
// constants only: this module imports nothing, so everything may import it. src/model.ts re-exports all of it.

/** The hidden units' activation. ReLU′(0) is 0, as in PyTorch. */
export type Activation = 'relu' | 'tanh' | 'identity';
/** Where the network predicts: at each sequence's last step (`last`) or at every step (`all`). */
export type OutputMode = 'last' | 'all';

/** Every {@link Activation}. */
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'identity'];
/** Every {@link OutputMode}. */
export const OUTPUT_MODES: readonly OutputMode[] = ['last', 'all'];

/**
 * The largest sizes the engine accepts (every backend). Each WebGPU kernel strategy may take less; `auto` picks one
 * that serves the shape (see src/gpu/registry.ts). maxSteps bounds each sequence's length,
 * maxLayers a stacked model's numLayers.
 */
export const LIMITS = {
  maxInputSize: 64,
  maxHiddenSize: 512,
  maxOutputSize: 64,
  maxSteps: 4096,
  maxLayers: 8,
} as const;

/** A network's sizes: I inputs, H hidden units, O outputs per step. */
export interface Shape {
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
}

export type NormalizationKind = 'zscore' | 'minmax';

/**
 * x_normalised = (x − offset[c]) / scale[c] for column c: z-score (offset = mean, scale = population standard
 * deviation) or min-max (offset = min, scale = max − min, mapping the training rows onto [0, 1]).
 */
export interface Normalization {
  kind: NormalizationKind;
  offset: number[];
  scale: number[];
}

/** How a model was fitted to a series: which columns, its window and horizon, and the split (saved in the model). */
export interface SeriesInfo {
  /** The series' columns (the model's inputs, in order; its outputs are these columns at each horizon step). */
  columns: string[];
  /** The time column, skipped (null when there was none). */
  timeColumn: string | null;
  window: number;
  horizon: number;
  /** Fractions of the rows held out, at the end, for validation and test (0: none). */
  validation: number;
  test: number;
  /** Each column's smallest and largest value over the training rows, in the series' units. */
  min: number[];
  max: number[];
}
