// The Elman cell, h_t = act(Wx·x_t + Wh·h_{t−1} + bh), as a descriptor (see cell.ts); its WGSL is
// shaders/cells/elman.wgsl. Blocks in canonical order: Wx (H×I), Wh (H×H), bh (H), then the readout Wy (O×H), by (O);
// the initial state h0 (H) follows the parameters in the kernels' weights buffer.

import type { Activation } from '../model-types.ts';
import type { Cell } from './cell.ts';

export const ELMAN_PARAMS = ['Wx', 'Wh', 'bh', 'Wy', 'by'] as const;
export type ElmanParam = (typeof ELMAN_PARAMS)[number];

/** The activation's WGSL override code (ACT in shaders/cells/elman.wgsl). */
export const ACTIVATION_CODE: Record<Activation, number> = { identity: 0, relu: 1, tanh: 2 };

export const elman: Cell<ElmanParam> = {
  name: 'elman',
  blocks: [
    { name: 'Wx', rows: { dim: 'H', times: 1 }, cols: { dim: 'I', times: 1 }, role: 'cell' },
    { name: 'Wh', rows: { dim: 'H', times: 1 }, cols: { dim: 'H', times: 1 }, role: 'cell' },
    { name: 'bh', rows: { dim: 'H', times: 1 }, cols: null, role: 'cell' },
    { name: 'Wy', rows: { dim: 'O', times: 1 }, cols: { dim: 'H', times: 1 }, role: 'readout' },
    { name: 'by', rows: { dim: 'O', times: 1 }, cols: null, role: 'readout' },
  ],
  gates: 1,
  stateVectors: 1,
  initialState: ['h0'],
  activations: ['relu', 'tanh', 'identity'],
  overrides: (activation) => ({ ACT: ACTIVATION_CODE[activation] }),
  // gemm: one bias for both sides, so WGRAD_H takes dWx too; a step's slot is Zx, turned into h in place by the
  // step's epilogue; its gradient slot is dz.
  gemm: {
    blocks: { input: 'Wx', recurrent: 'Wh', inputBias: 'bh', recurrentBias: 'bh' },
    slot: 1,
    grad: 1,
    gradX: 0,
    zx: 0,
  },
};
