// Seeded random stacked and bidirectional models in the layered model JSON (weights.layers in PyTorch's order l0,
// l0_reverse, l1, …) and their data, for the layer tests (test/cpu-layers.test.ts, torch-cells.test.ts, the CLI's).

import { batchFromArrays, type Batch, type RnnStates } from '../../src/batch.ts';
import type { CellName } from '../../src/cells/index.ts';
import { modelFromJSON, type Model, type ModelJSON, type OutputMode } from '../../src/model.ts';
import { parseModel } from '../../src/validate.ts';
import { randomData, type CaseData, type Rng } from './random-cases.ts';

export interface LayeredShape {
  cell: CellName;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  output: OutputMode;
  numLayers: number;
  bidirectional: boolean;
  /** Elman's activation (default tanh). */
  activation?: 'tanh' | 'relu' | 'identity';
  /** Nonzero h0 (and c0 for the LSTM), one vector per layer and direction. */
  h0?: boolean;
  /** Elman layers: give bx (PyTorch's bias_ih) too. */
  bx?: boolean;
}

const vec = (rng: Rng, n: number, a: number): number[] => Array.from({ length: n }, () => rng.uniform(-a, a));
const mat = (rng: Rng, rows: number, cols: number, a: number): number[][] =>
  Array.from({ length: rows }, () => vec(rng, cols, a));

/** A random model in the layered form with moderate weights (no layer saturates or dies over a few steps). */
export function randomLayeredModelJSON(rng: Rng, s: LayeredShape): ModelJSON {
  const { inputSize: I, hiddenSize: H, outputSize: O } = s;
  const D = s.bidirectional ? 2 : 1;
  const G = s.cell === 'lstm' ? 4 : s.cell === 'gru' ? 3 : 1;
  const gated = G > 1;
  const K = s.numLayers * D;
  const layers = Array.from({ length: K }, (_, k) => {
    const cols = k < D ? I : D * H;
    return {
      Wx: mat(rng, G * H, cols, 1.2 / Math.sqrt(cols)),
      Wh: mat(rng, G * H, H, 0.9 / Math.sqrt(H)),
      ...(gated || s.bx ? { bx: vec(rng, G * H, 0.4) } : {}),
      bh: vec(rng, G * H, 0.4),
    };
  });
  const json = {
    ...(s.cell !== 'elman' ? { cell: s.cell } : {}),
    numLayers: s.numLayers,
    bidirectional: s.bidirectional,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    activation: gated ? 'tanh' : (s.activation ?? 'tanh'),
    output: s.output,
    weights: { layers, Wy: mat(rng, O, D * H, 1 / Math.sqrt(D * H)), by: vec(rng, O, 0.5) },
  } as unknown as ModelJSON;
  if (s.h0) json.h0 = Array.from({ length: K }, () => vec(rng, H, 0.8));
  if (s.h0 && s.cell === 'lstm') json.c0 = Array.from({ length: K }, () => vec(rng, H, 0.8));
  return json;
}

export interface LayeredCase {
  /** The JSON as written (layered form). */
  json: ModelJSON;
  model: Model;
  data: CaseData;
  batch: Batch;
}

/** A seeded layered model (validated) with random data of the given lengths. */
export function layeredCase(rng: Rng, s: LayeredShape, lengths: number[]): LayeredCase {
  const json = randomLayeredModelJSON(rng, s);
  const model = modelFromJSON(parseModel(json));
  const data = randomData(rng, { ...s }, lengths);
  return { json, model, data, batch: batchFromArrays(data.inputs, data.targets, s.output) };
}

/**
 * Runs a case with output `all` in pieces: sequence n is cut at steps cuts[n] (from 0 to its length), and piece p of
 * every sequence runs in one call that carries the previous piece's final states in. Returns each sequence's
 * outputs in one run's order (`outputSize` per step) and the last piece's final states.
 */
export async function runInPieces(
  run: (batch: Batch) => Promise<{ outputs?: Float64Array; finalStates?: RnnStates }>,
  data: CaseData,
  cuts: number[][],
  outputSize: number,
): Promise<{ outputs: number[]; states: RnnStates }> {
  const outs: number[][] = cuts.map(() => []);
  let carried: RnnStates | undefined;
  for (let p = 0; p + 1 < cuts[0].length; p++) {
    const inputs = data.inputs.map((x, n) => x.slice(cuts[n][p], cuts[n][p + 1]));
    const targets = (data.targets as number[][][]).map((x, n) => x.slice(cuts[n][p], cuts[n][p + 1]));
    const batch: Batch = { ...batchFromArrays(inputs, targets, 'all'), ...(carried ? { initialStates: carried } : {}) };
    const r = await run(batch);
    for (let n = 0; n < cuts.length; n++) {
      const from = batch.offsets[n] * outputSize;
      outs[n].push(...Array.from(r.outputs!.subarray(from, from + batch.lengths[n] * outputSize)));
    }
    carried = r.finalStates;
  }
  return { outputs: outs.flat(), states: carried! };
}
