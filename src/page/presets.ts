// Presets of the page: named settings of the seed panel's weights and activation, of the unroll study and of the
// cells study that show one lesson each (the notes' solution, a vanishing and an exploding gradient, a dead ReLU
// unit, a saturated tanh unit, a chaotic tanh network). Choosing one sets the fields and fires their input/change
// events, so the panels recompute (the seed panel at once) and the URL keeps the settings; a preset of the cells
// study also runs it, and the other presets put the cells study's settings back to the page's defaults.

import { $ } from './ui.ts';

export interface Preset {
  note: string;
  seed?: { w1: number; b1: number; w2: number; w3: number; b2: number; act: string };
  unroll?: { t: number; w2: string; act: string };
  /** The cells study's fields: steps, hidden size, seed, weight scale, saturation bias, measure. */
  cells?: { t: number; hidden: number; seed: number; scale: number; sat: number; measure: 'state' | 'input' };
}

export const PRESETS: Record<string, Preset> = {
  notes: {
    note: "The notes' trained network: ReLU, w1 = 1.8, w2 = −0.5, w3 = 1.1; it predicts 0 for the first sequence and 0.99 for the second.",
    seed: { w1: 1.8, b1: 0, w2: -0.5, w3: 1.1, b2: 0, act: 'relu' },
    unroll: { t: 20, w2: '0.5, 0.9, 1, 1.1, 1.5', act: 'identity' },
  },
  vanishing: {
    note: 'Identity activation with w2 = 0.3: each step back multiplies the gradient term by 0.3, so inputs more than a few days back barely move dSSR/dw1 (see the unroll study).',
    seed: { w1: 1.8, b1: 0, w2: 0.3, w3: 1.1, b2: 0, act: 'identity' },
    unroll: { t: 40, w2: '0.3, 0.6, 0.9', act: 'identity' },
  },
  exploding: {
    note: 'Identity activation with w2 = 1.6: each step back multiplies the gradient term by 1.6, so the oldest inputs dominate dSSR/dw1 and it grows like 1.6^T (see the unroll study).',
    seed: { w1: 1.8, b1: 0, w2: 1.6, w3: 1.1, b2: 0, act: 'identity' },
    unroll: { t: 40, w2: '1.1, 1.3, 1.6', act: 'identity' },
  },
  dead: {
    note: 'ReLU with b1 = −3: the pre-activation w1·input + b1 + w2·hidden is negative for every input here, so the hidden unit is 0, ReLU′ = 0, and the gradients of w1, b1, w2 and w3 are exactly 0 (only b2 learns): training cannot revive the unit.',
    seed: { w1: 1.8, b1: -3, w2: -0.5, w3: 1.1, b2: 0, act: 'relu' },
    unroll: { t: 20, w2: '0.5, 1, 1.5', act: 'relu' },
  },
  tanh: {
    note: 'tanh with w2 = −3: the hidden value saturates near ±1 and flips sign every day, tanh′ = 1 − hidden² is near 0, and the gradient through time almost vanishes although |w2| > 1. (One unit cannot be chaotic: it is a one-dimensional monotone map; larger tanh networks with big recurrent weights can be.)',
    seed: { w1: 2, b1: 0, w2: -3, w3: 1.1, b2: 0, act: 'tanh' },
    unroll: { t: 40, w2: '-3, -1, 1, 3', act: 'tanh' },
  },
  chaos: {
    note: 'The cells study below with a tanh Elman network of 32 units, weights uniform in [−1, 1] (seed 1): a random recurrent matrix with gain √(32/3) ≈ 3.3, far above 1, makes it chaotic. Two runs whose states differ by 1e-12 drift apart by a factor of about 1.2 a step until they are as far apart as the states themselves, and the gradient reaching the state k steps back grows at the same rate, ×1.23 per step over 100 steps, although tanh′ ≤ 1. The LSTM and GRU with the same weights vanish. Set the weight scale to 0.3 and the Elman network vanishes too.',
    cells: { t: 100, hidden: 32, seed: 1, scale: 1, sat: 20, measure: 'state' },
  },
};

function set(id: string, value: string | number): void {
  const el = $<HTMLInputElement | HTMLSelectElement>(id);
  el.value = String(value);
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

/** Wires the preset selector; `runCells` runs the cells study after a preset set its fields. */
export function initPresets(runCells: () => void): void {
  const select = $<HTMLSelectElement>('preset');
  // The cells study's own settings (the page's defaults), restored by a preset that does not set them, so that a
  // chosen preset leaves no other preset's cells settings behind (in the fields or the URL).
  const CELL_FIELDS = ['t', 'hidden', 'seed', 'scale', 'sat', 'measure'] as const;
  const cellDefaults = new Map(CELL_FIELDS.map((k) => [k, $<HTMLInputElement | HTMLSelectElement>(`uc-${k}`).value]));
  select.addEventListener('change', () => {
    const p = PRESETS[select.value];
    if (!p) {
      $('preset-note').textContent = '';
      return;
    }
    if (p.seed) {
      for (const k of ['w1', 'b1', 'w2', 'w3', 'b2'] as const) {
        set(`seed-${k}`, p.seed[k]);
        $<HTMLInputElement>(`seed-${k}-range`).value = String(Math.max(-3, Math.min(3, p.seed[k])));
      }
      set('seed-act', p.seed.act);
    }
    if (p.unroll) {
      set('ur-t', p.unroll.t);
      set('ur-w2', p.unroll.w2);
      set('ur-act', p.unroll.act);
    }
    if (p.cells) {
      for (const k of CELL_FIELDS) set(`uc-${k}`, p.cells[k]);
      runCells();
    } else
      for (const k of CELL_FIELDS) {
        const v = cellDefaults.get(k)!;
        if ($<HTMLInputElement | HTMLSelectElement>(`uc-${k}`).value !== v) set(`uc-${k}`, v);
      }
    $('preset-note').textContent = p.note;
  });
}
