// Public entry `webgpu-rnn/data`: data sets for training and experiments, and seeded random models and batches.
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Data sets as {@link Batch | batches} with the model shape they fit: the seed notes' toy stock data
 * ({@link seedData}), a noisy sine ({@link sineData}), the adding problem ({@link addingData}), a CSV time series cut
 * into sliding windows ({@link csvData}), train/validation splits ({@link splitData}), and seeded random models and
 * batches ({@link randomModel}, {@link randomBatch}). Everything is deterministic for a given seed.
 *
 * @module webgpu-rnn/data
 */

import type { Batch } from './batch.ts';
export type { Batch };
export * from './data/index.ts';
export { randomBatch, randomModel, Rng, mulberry32, type RandomBatchOptions } from './random.ts';
