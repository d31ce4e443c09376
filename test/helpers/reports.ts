// The JSON the CLI prints (--json) and writes (--out), typed as far as the tests read it: what a test parses
// with JSON.parse or helpers/cli.ts's json() it types with one of these instead of reading an `any`.

import type { RunStats } from '../../src/gpu/backend.ts';
import type { ModelJSON, Weights } from '../../src/model.ts';

/** `grad --json` and `forward --json` (outputs: N×O for "last", N×T_n×O for "all"). */
export interface GradReport {
  backend: string;
  adapter: string;
  loss: number | null;
  grads: Weights;
  gradNorm: number | null;
  clipped: boolean;
  outputs?: number[][] | number[][][];
  run?: RunStats;
}

/** `forward --json` (outputs as in GradReport). */
export interface ForwardReport {
  backend: string;
  adapter: string;
  loss: number | null;
  outputs: number[][] | number[][][];
}

/** `verify --json`. */
export interface VerifyJson {
  ok: boolean;
  actual: { backend: string; adapter: string };
  expected: { backend: string; adapter: string };
  maxLength: number;
  quantities: { name: string; count: number; ok: boolean; failureCount: number }[];
  run?: RunStats;
}

/** The error object every command prints on stdout with --json when it fails. */
export interface ErrorJson {
  error: { code: string; field: string | null; message: string };
}

/** `train --json`. */
export interface TrainReport {
  backend: string;
  adapter: string;
  data: { name: string; description: string; train: number; validation: number; test?: number };
  options: Record<string, unknown>;
  steps: number;
  initialLoss: number | null;
  finalLoss: number;
  validationLoss: number | null;
  stoppedEarly: boolean;
  bestStep: number | null;
  diverged: boolean;
  model: ModelJSON;
  history: { step: number; loss: number }[];
  files: string[];
}

/** A population check: models retrained one by one, on the same backend or on the CPU. */
export interface PopulationCheck {
  backend: string;
  identical: number;
  agree: number;
  maxAbsDiff: number;
}

/** `population --json`. */
export interface PopulationReport {
  backend: string;
  data: { train: number; validation: number };
  model: { cell: string; inputSize: number; hiddenSize: number; outputSize: number };
  solved: { count: number };
  diverged: number;
  finite: number;
  quantiles: { p: number; loss: number | null }[];
  validationQuantiles: { p: number; loss: number | null }[];
  histogram: { counts: number[]; below: number; zero: number; nonFinite: number };
  nearNotes: { count: number } | null;
  check: { sameBackend: PopulationCheck | null; cpu: PopulationCheck | null };
}

/** The per-model file `population --out x.json` writes. */
export interface PopulationFile {
  paramNames: string[];
  models: { finalLoss: number; params: number[] }[];
}

/** `landscape --json`. */
export interface LandscapeReport {
  backend: string;
  model: { cell: string; inputSize: number; hiddenSize: number };
  points: number;
  check: { failures: number };
  path: { start: { x: number; y: number; loss: number }; end: { x: number; y: number; loss: number } } | null;
}

/** The grid file `landscape --out x.json` writes: ssr[iy][ix] at (x.values[ix], y.values[iy]). */
export interface LandscapeFile {
  x: { param: string; values: number[] };
  y: { param: string; values: number[] };
  ssr: number[][];
}

/** `unroll-study --json` over values of w2 (the notes' network). */
export interface UnrollStudyReport {
  backend: string;
  inputs: number[];
  rows: { w2: number; dPredicted: number[]; contributions: number[] }[];
  closedFormCheck: { failures: number } | null;
}

/** One model's row of `unroll-study --json` over cells (--cells or --model). */
export interface CellStudyRow {
  label: string;
  cell: string;
  inputs: number[];
  state: number[];
  input: number[];
  wx: number[];
  loss: number;
  perStep: { state: { verdict: string } };
}

/** `unroll-study --json` over cells, with the engine's input side on --backend webgpu. */
export interface CellStudyReport {
  rows: CellStudyRow[];
  engine: {
    backend: string;
    check: { values: number; failures: number };
    rows: { input: number[] }[];
  } | null;
}

/** `forecast --json`. */
export interface ForecastReport {
  test: {
    windows: number;
    model: { mae: number; rmse: number };
    naive: { mae: number; rmse: number };
  } | null;
  forecast: Record<string, string | number>[];
}

/** `predict --json`: one row per window, [time label or index, prediction, actual or null]. */
export interface PredictReport {
  rows: [string | number, number, number | null][];
}
