// The GRU cell, PyTorch's nn.GRU (one layer), as a descriptor (see cell.ts); its WGSL is shaders/cells/gru.wgsl.
// Gates stacked in the rows of Wx (3H×I), Wh (3H×H), bx (3H), bh (3H) in PyTorch's order r, z, n:
//   r, z = σ(Wx·x + bx + Wh·h + bh)  (their rows),  n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)),
//   h_t = (1 − z)⊙n + z⊙h_{t−1}.
// The state is h; the initial state h0 follows the parameters in the kernels' weights buffer.

import type { Cell } from './cell.ts';

export const GRU_PARAMS = ['Wx', 'Wh', 'bx', 'bh', 'Wy', 'by'] as const;
export type GruParam = (typeof GRU_PARAMS)[number];

export const gru: Cell<GruParam> = {
  name: 'gru',
  blocks: [
    { name: 'Wx', rows: { dim: 'H', times: 3 }, cols: { dim: 'I', times: 1 }, role: 'cell' },
    { name: 'Wh', rows: { dim: 'H', times: 3 }, cols: { dim: 'H', times: 1 }, role: 'cell' },
    { name: 'bx', rows: { dim: 'H', times: 3 }, cols: null, role: 'cell' },
    { name: 'bh', rows: { dim: 'H', times: 3 }, cols: null, role: 'cell' },
    { name: 'Wy', rows: { dim: 'O', times: 1 }, cols: { dim: 'H', times: 1 }, role: 'readout' },
    { name: 'by', rows: { dim: 'O', times: 1 }, cols: null, role: 'readout' },
  ],
  gates: 3,
  stateVectors: 1,
  initialState: ['h0'],
  activations: ['tanh'],
  overrides: () => ({}),
  // gemm: a step keeps [h, r, z, n, Wh_n·h_{t−1} + bh_n] (Zx into r, z, n); its gradients are [da_r, da_z, r⊙da_n
  // (the recurrent side), z⊙dh (the carry into h_{t−1}), da_r, da_z, da_n (the input side)].
  gemm: {
    blocks: { input: 'Wx', recurrent: 'Wh', inputBias: 'bx', recurrentBias: 'bh' },
    slot: 5,
    grad: 7,
    gradX: 4,
    zx: 1,
  },
};
