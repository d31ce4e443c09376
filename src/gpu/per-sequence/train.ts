// The training kernel: the per-sequence driver (src/gpu/per-sequence/bptt.ts, shaders/per_sequence/bptt.wgsl) with its
// `train` interface: forward + BPTT (or forward only) for a population of models, each invocation serving one model
// and a group of that step's sequences; per-model partial sums as rows for ModelSumsKernel.

export { BpttKernel as TrainKernel, type BpttDims as TrainDims, type BpttVariant as TrainVariant } from './bptt.ts';
