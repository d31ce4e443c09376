// The DataSet type shared by every data source (seed, sine, adding, CSV): a Batch plus the model shape it fits,
// and whether its sequences are in time order (which decides how an honest train/validation split is made).

import type { Batch } from '../batch.ts';
import type { Activation, OutputMode } from '../model-types.ts';

/** The model shape a data set needs (inputSize, outputSize, output mode) and a hidden size that suits it. */
export interface ShapeSuggestion {
  inputSize: number;
  outputSize: number;
  output: OutputMode;
  hiddenSize: number;
  activation: Activation;
}

export interface DataSet {
  /** Short name, e.g. `seed`, `sine`, `adding`, or the CSV file's name. */
  name: string;
  /** One line saying what it holds. */
  description: string;
  batch: Batch;
  suggest: ShapeSuggestion;
  /**
   * True when sequence n+1 starts later in one series than sequence n (sliding windows of one time series):
   * then the split by time (the last fraction) is the honest validation split, and windows whose targets overlap
   * must be kept apart by `gap`.
   */
  timeOrdered: boolean;
  /** Windows to drop between training and validation in a split by time (targets of k > 1 steps overlap). */
  gap: number;
}
