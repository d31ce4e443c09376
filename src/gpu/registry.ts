// The registry of GPU kernel strategies, the `auto` choice, and which strategies have a training program. Add a
// strategy with one line in STRATEGIES; the thresholds for `auto` live here and nowhere else.

import { cellByName, isGated } from '../cells/index.ts';
import { InputError } from '../errors.ts';
import type { Strategy, StrategyChoice, StrategyShape, TrainingShape, TrainingSupport } from './strategy.ts';
import { gemm } from './gemm/strategy.ts';
import { perSequence } from './per-sequence/strategy.ts';
import { rtrl } from './rtrl/strategy.ts';

/** Every registered strategy. A strategy listed here must pass test/gpu-strategies.test.ts. */
export const STRATEGIES: readonly Strategy[] = [perSequence, gemm, rtrl];

/**
 * `auto` tries, in order, the first registered strategy of each rung whose `supports` accepts the shape:
 *   hiddenSize ≤ perSequenceMaxHidden       → per-sequence (everything in registers of one invocation)
 *   otherwise                               → gemm (tiled GEMMs across the batch, cuDNN-style; the weight
 *                                             gradients as products over all (sequence, step) pairs)
 * and then any registered strategy that supports the shape. `rtrl` is only used when asked for. The crossover is
 * per adapter, measured, in the tuning table (src/gpu/tuning.ts); this is the default where none is given. Gated
 * cells (LSTM, GRU) have their own, smaller crossover, perSequenceMaxHiddenGated: a unit carries 3–4 gates, so the
 * per-sequence kernel's registers run out sooner (it serves them to H = 8) and gemm's products have 3–4× the rows.
 */
export const AUTO_THRESHOLDS = { perSequenceMaxHidden: 16, perSequenceMaxHiddenGated: 8 } as const;

/** The crossovers `auto` uses (an adapter's tuning, src/gpu/tuning.ts). */
export type AutoThresholds = { perSequenceMaxHidden: number; perSequenceMaxHiddenGated: number };

export function findStrategy(name: string): Strategy | undefined {
  return STRATEGIES.find((s) => s.name === name);
}

/**
 * The preference order of `auto` for a shape, with the adapter's crossover (a number: the crossover of every
 * cell, as before gated cells had their own).
 */
export function autoOrder(
  shape: StrategyShape,
  thresholds: number | Partial<AutoThresholds> = AUTO_THRESHOLDS,
): string[] {
  const t =
    typeof thresholds === 'number'
      ? { perSequenceMaxHidden: thresholds, perSequenceMaxHiddenGated: thresholds }
      : { ...AUTO_THRESHOLDS, ...thresholds };
  const H = shape.hiddenSize;
  const gated = shape.cell !== undefined && isGated(cellByName(shape.cell));
  if (H <= (gated ? t.perSequenceMaxHiddenGated : t.perSequenceMaxHidden)) return ['per-sequence', 'gemm'];
  return ['gemm', 'per-sequence'];
}

/** The strategy for a run: the requested one (InputError naming why when it cannot serve), or `auto`'s choice. */
export function chooseStrategy(
  requested: StrategyChoice | undefined,
  shape: StrategyShape,
  limits: GPUSupportedLimits,
  thresholds?: number | Partial<AutoThresholds>,
): Strategy {
  const choice = requested ?? 'auto';
  if (choice !== 'auto') {
    const s = findStrategy(choice);
    if (!s) {
      const known = STRATEGIES.map((x) => x.name).join(', ');
      throw new InputError(
        'strategy',
        `unknown or unavailable strategy "${String(choice)}" (available: auto, ${known})`,
      );
    }
    const why = s.supports(shape, limits);
    if (why) throw new InputError('strategy', `strategy "${s.name}" cannot serve this run: ${why}`);
    return s;
  }
  const reasons: string[] = [];
  for (const name of autoOrder(shape, thresholds)) {
    const s = findStrategy(name);
    if (!s) continue;
    const why = s.supports(shape, limits);
    if (!why) return s;
    reasons.push(`${name}: ${why}`);
  }
  throw new InputError('strategy', `no strategy can serve this run (${reasons.join('; ')})`);
}

/** Why a training program that trains one layer in one direction cannot train a shape (null when it can). */
function oneLayerTraining(s: TrainingShape): string | null {
  if ((s.numLayers ?? 1) > 1)
    return `its training program trains one layer, and this model has numLayers ${s.numLayers}`;
  if (s.bidirectional) return 'its training program trains one direction, and this model is bidirectional';
  return null;
}

/**
 * The strategies with a fused training program (src/train registers the programs under these names), and which
 * shapes each serves: per-sequence its kernel's (weights in private arrays), gemm its kernels' on this device. A
 * strategy missing here (rtrl) has none.
 */
export const TRAINING: Readonly<Partial<Record<string, TrainingSupport>>> = {
  'per-sequence': {
    supports: (s, limits) =>
      oneLayerTraining(s) ?? perSequence.supports({ ...s, maxSteps: 1, count: 1, gradients: true }, limits),
  },
  gemm: {
    supports: (s, limits) =>
      oneLayerTraining(s) ?? gemm.supports({ ...s, maxSteps: 1, count: 1, gradients: true }, limits),
  },
};

/**
 * The strategy whose training program trains a shape: the first registered strategy (in STRATEGIES' order) whose
 * program serves it, or null with each strategy's reason.
 */
export function chooseTrainingStrategy(
  shape: TrainingShape,
  limits: GPUSupportedLimits,
): { strategy: Strategy; reasons?: undefined } | { strategy: null; reasons: string } {
  const reasons: string[] = [];
  for (const s of STRATEGIES) {
    const t = TRAINING[s.name];
    const why = t ? t.supports(shape, limits) : 'it has no training program';
    if (!why) return { strategy: s };
    reasons.push(`${s.name}: ${why}`);
  }
  return { strategy: null, reasons: reasons.join('; ') };
}
