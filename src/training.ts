// Public entry `webgpu-rnn/training`: the training API of src/train/ (one model, a population, loss landscapes).
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Training on the engine's backend (WebGPU or the float64 CPU path, with the same semantics): {@link train} for
 * one model, {@link trainPopulation} for many independent models in one dispatch stream, {@link randomPopulation}
 * for seeded initialisations, and {@link lossLandscape} for the SSR over a grid of two parameters. Optimizers are
 * SGD (with momentum) and Adam, with constant, step or cosine learning-rate schedules, mini-batches, clipping and
 * early stopping ({@link TrainOptions}).
 *
 * @module webgpu-rnn/training
 */

export * from './train/index.ts';
export { initialWeights, orthogonalMatrix, RECURRENT_INITS, type RecurrentInit } from './train/init.ts';
