// The package's main entry (`webgpu-rnn`): the engine and what a run needs (models, batches, errors, the CPU
// reference, comparison), PyTorch and ONNX import and export in memory (src/interop/), plus everything of
// webgpu-rnn/data, /training and /experiments. Files and the binary format are webgpu-rnn/formats only (its Node
// build reads and writes files; its browser build cannot).
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Elman, LSTM and GRU RNNs on WebGPU compute shaders, checked against a float64 CPU reference.
 *
 * Create an {@link Engine} with {@link createEngine} (`backend: 'webgpu' | 'cpu' | 'auto'`), describe the network
 * as a {@link ModelJSON} and the sequences as a {@link Batch} ({@link batchFromArrays}), then call
 * {@link Engine.run} for the SSR loss, the gradients (backpropagation through time) and the outputs.
 *
 * In Node, WebGPU comes from the `webgpu` package (Dawn); in a browser, from `navigator.gpu`.
 *
 * This entry also re-exports `webgpu-rnn/data` (data sets, random batches), `webgpu-rnn/training` (train,
 * trainPopulation, lossLandscape) and `webgpu-rnn/experiments` (the notes' report, the unroll study, plots). Model
 * and data files, and the `.rnnb` format, are in `webgpu-rnn/formats`.
 *
 * @module webgpu-rnn
 */

export { Engine, createEngine, type EngineOptions, type Result } from './engine.ts';
export type { BackendChoice, BackendName, RunOptions } from './backend.ts';
export type { GpuOptions, RunStats } from './gpu/backend.ts';
export { SWIFTSHADER_ICD, LAVAPIPE_ICD } from './gpu/device.ts';
export type { AdapterChoice, AdapterKind } from './gpu/tuning.ts';
export type { StrategyChoice, StrategyName } from './gpu/strategy.ts';
export type { GemmTile } from './gpu/gemm/kernels.ts';
export type { TrainStats } from './gpu/runtime.ts';
export {
  ACTIVATIONS,
  OUTPUT_MODES,
  LIMITS,
  PARAM_NAMES,
  paramNames,
  initialState,
  isLayered,
  layerCount,
  directions,
  layerLayouts,
  PRESETS,
  STATQUEST_JSON,
  flattenWeights,
  modelFromJSON,
  modelToJSON,
  paramLayout,
  paramName,
  preset,
  unflattenParams,
  type Activation,
  type LayeredWeights,
  type LayerLayout,
  type LayerShape,
  type LayerWeights,
  type Model,
  type ModelJSON,
  type OutputMode,
  type ParamBlock,
  type ParamLayout,
  type ParamName,
  type Shape,
  type Weights,
} from './model.ts';
export { CELL_NAMES, type CellName } from './cells/index.ts';
export { batchFromArrays, maxLength, nestStates, totalSteps, type Batch, type RnnStates } from './batch.ts';
export { InputError, NonFiniteError, GpuError } from './errors.ts';
export { cpuRun, type CpuRunOptions, type Precision, type RawResult } from './cpu/reference.ts';
export { clipByGlobalNorm, globalNorm, type ClipOutcome } from './cpu/clip.ts';
export { compareArrays, describeComparison, gpuTolerance, type Tolerance, type Comparison } from './compare.ts';
export { compareResults, type VerifyReport, type QuantityCheck } from './verify.ts';
export {
  importModel,
  sniffFormat,
  type ImportModelOptions,
  type ImportOptions,
  type ImportResult,
} from './interop/import.ts';
export {
  exportModel,
  INTEROP_FORMATS,
  type ExportOptions,
  type ExportResult,
  type InteropFormat,
} from './interop/export.ts';
export * from './data.ts';
export * from './training.ts';
export * from './experiments.ts';
