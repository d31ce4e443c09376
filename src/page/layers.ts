// The model controls' stacking: a Layers field (numLayers 1 to 8) and a Direction switch (one direction or
// bidirectional) in a panel's form, the random models of that shape (the library's zeroModel and initialWeights, as
// the CLI's --layers and --bidirectional build them), and the one line saying that such a model ran on the CPU
// although the page runs on WebGPU (the fallbackReason of `auto`).

import { LIMITS, modelToJSON, type Activation, type ModelJSON, type OutputMode, type Shape } from '../model.ts';
import { randomModel } from '../random.ts';
import { initialWeights } from '../train/init.ts';
import { zeroModel } from '../train/index.ts';
import type { CellName } from '../cells/index.ts';
import { $, readNumber } from './ui.ts';

/** How a panel's model is stacked: numLayers recurrent layers, each in one direction or both. */
export interface Stack {
  numLayers: number;
  bidirectional: boolean;
}

/** The panel's Layers field (`<prefix>-layers`) and Direction switch (`<prefix>-dir`). */
export function readStack(prefix: string): Stack {
  const numLayers = readNumber($<HTMLInputElement>(`${prefix}-layers`), {
    min: 1,
    max: LIMITS.maxLayers,
    integer: true,
  });
  return { numLayers, bidirectional: $<HTMLSelectElement>(`${prefix}-dir`).value === 'bi' };
}

/** True for more than one layer or both directions (the library's layered form). */
export const isStacked = (s: Stack): boolean => s.numLayers > 1 || s.bidirectional;

/** `, 2 layers, bidirectional`, or empty for one layer in one direction. */
export function stackText(s: { numLayers?: number; bidirectional?: boolean }): string {
  const L = s.numLayers ?? 1;
  if (L === 1 && !s.bidirectional) return '';
  return `, ${L} layer${L === 1 ? '' : 's'}${s.bidirectional ? ', bidirectional' : ''}`;
}

/**
 * A random model of the panel's shape: one layer in one direction is `randomModel` (every weight uniform in
 * ±scale, the page's draws so far); a stacked or bidirectional model is `zeroModel` of that stacking with every
 * parameter uniform in ±scale (`initialWeights`, the CLI's draws for --layers and --bidirectional).
 */
export function stackedModel(
  shape: Shape,
  activation: Activation,
  output: OutputMode,
  seed: number,
  scale: number,
  cell: CellName,
  stack: Stack,
): ModelJSON {
  if (!isStacked(stack)) return randomModel(shape, activation, output, seed, scale, cell);
  const base = zeroModel(
    cell,
    {
      ...shape,
      output,
      ...(stack.numLayers > 1 ? { numLayers: stack.numLayers } : {}),
      ...(stack.bidirectional ? { bidirectional: true } : {}),
    },
    activation,
  );
  return modelToJSON(initialWeights(base, seed, scale));
}

/** The one line a panel shows for a run moved to the CPU (empty when none). */
export function fallbackLine(reason: string | null | undefined): string {
  return reason ? `Runs on the CPU reference, not WebGPU: ${reason.replace(/\.$/, '')}.` : '';
}

/** Shows (or hides, for none) a panel's fallback line, `<prefix>-cpu-note`. */
export function showFallback(prefix: string, reason: string | null | undefined): void {
  const el = $(`${prefix}-cpu-note`);
  el.textContent = fallbackLine(reason);
  el.hidden = !reason;
}
