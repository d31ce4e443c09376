// Public entry `webgpu-rnn/experiments`: the seed notes' worked example and closed forms, the unrolling study, the
// SVG/PNG plots the CLI writes, and the in-browser benchmark.
/// <reference types="@webgpu/types" preserve="true" />

/**
 * Experiments around the seed lecture notes' network (1-1-1 ReLU, w1 = 1.8, w2 = −0.5, w3 = 1.1):
 * {@link statquestReport} recomputes the notes' forward passes, SSR and gradients on an engine and sets the
 * closed-form dSSR/dw1 beside BPTT; {@link unrollStudy} sweeps w2 to show the w2^k vanishing/exploding factor;
 * {@link cellStudy} sets Elman, LSTM and GRU side by side (the gradient reaching the state and input k steps back);
 * the plot helpers write standalone SVG (and PNG) files; {@link runBrowserBench} runs the throughput benchmark
 * in a page.
 *
 * @module webgpu-rnn/experiments
 */

export {
  STATQUEST_SEQUENCES,
  STATQUEST_3DAY,
  closedFormDPredictedDw1,
  closedFormDssrDw1,
  closedFormPredicted,
  closedFormSSR,
  formatStatquest,
  lastDays,
  scalarModel,
  statquestReport,
  statquestWeights,
  type ClosedFormRow,
  type ClosedFormSection,
  type FormatOptions,
  type ForwardPass,
  type LessonRow,
  type ScalarData,
  type ScalarGrads,
  type ScalarWeights,
  type StatquestReport,
} from './statquest.ts';
export {
  unrollStudy,
  unrollStudyCpu,
  unrollClosedForm,
  type StudySetup,
  type UnrollStudy,
  type UnrollStudyOptions,
  type UnrollRow,
  type StudyWeights,
} from './study/unroll.ts';
export {
  cellStudy,
  cellStudyRow,
  randomCellModels,
  saturatedLstm,
  perStepFactor,
  factorRange,
  studyInputs,
  CELL_STUDY_MEASURES,
  MAX_CELL_STUDY_LENGTH,
  type CellStudy,
  type CellStudyEntry,
  type CellStudyMeasure,
  type CellStudyOptions,
  type CellStudyRow,
  type RandomCellsOptions,
} from './study/cells.ts';
export * from './svg/index.ts';
export { runBrowserBench, type BrowserBenchOptions } from './benchmark/browser.ts';
export type {
  AgreementCheck,
  BenchReport,
  CellResult,
  CellStatus,
  MachineInfo,
  PeerStatus,
  TargetCheck,
} from './benchmark/run.ts';
export type { AdapterIdentity, AdapterPeak } from './benchmark/adapters.ts';
export type { Summary } from './benchmark/measure.ts';
export type { CopyProbe, FmaProbe } from './benchmark/probes.ts';
export type { Phase } from './benchmark/workloads.ts';
export type { Peer, PreparedRun, PeerRun } from './benchmark/peer.ts';
