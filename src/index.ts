// The public API of webgpu-rnn: the engine, the model and batch types, validation, comparison and presets.

export { Engine, createEngine, type EngineOptions, type Result } from './engine.ts';
export type { BackendChoice, BackendName, RunOptions } from './backend.ts';
export * from './model.ts';
export * from './batch.ts';
export { InputError, NonFiniteError, GpuError } from './errors.ts';
export { parseModel, parseData, checkBatch } from './validate.ts';
export { cpuRun, type Precision, type RawResult } from './cpu/reference.ts';
export { compareArrays, describeComparison, gpuTolerance, type Tolerance, type Comparison } from './compare.ts';
export type { GpuOptions, RunStats } from './gpu/backend.ts';
export { SWIFTSHADER_ICD } from './gpu/device.ts';
export { compareResults, type VerifyReport, type QuantityCheck } from './verify.ts';
export * from './train/index.ts';
export * from './data/index.ts';
export { ClipKernel, CLIP_STATS_BYTES } from './gpu/kernels/clip.ts';
export { clipByGlobalNorm, globalNorm, type ClipOutcome } from './cpu/clip.ts';
export {
  unrollStudy,
  unrollStudyCpu,
  unrollClosedForm,
  type UnrollStudy,
  type UnrollStudyOptions,
  type UnrollRow,
  type StudyWeights,
} from './study/unroll.ts';
export * from './svg/index.ts';
export { runBrowserBench, type BrowserBenchOptions } from './bench/browser.ts';
export { runBench, type BenchReport, type CellResult, type BenchConfig } from './bench/run.ts';
export { WebGpuPeer, CpuRefPeer, type Peer, type PreparedRun, type PeerRun } from './bench/peer.ts';
export { workload, stepCost, type Workload, type Phase } from './bench/workloads.ts';
