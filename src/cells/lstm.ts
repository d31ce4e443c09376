// The LSTM cell, PyTorch's nn.LSTM (one layer), as a descriptor (see cell.ts); its WGSL is shaders/cells/lstm.wgsl.
// Gates stacked in the rows of Wx (4H×I), Wh (4H×H), bx (4H), bh (4H) in PyTorch's order i, f, g, o:
//   i, f, o = σ(Wx·x + bx + Wh·h + bh)  (their rows),  g = tanh(…),  c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t).
// The state is [h, c]; the initial state h0, c0 follows the parameters in the kernels' weights buffer.

import type { Cell } from './cell.ts';

export const LSTM_PARAMS = ['Wx', 'Wh', 'bx', 'bh', 'Wy', 'by'] as const;
export type LstmParam = (typeof LSTM_PARAMS)[number];

export const lstm: Cell<LstmParam> = {
  name: 'lstm',
  blocks: [
    { name: 'Wx', rows: { dim: 'H', times: 4 }, cols: { dim: 'I', times: 1 }, role: 'cell' },
    { name: 'Wh', rows: { dim: 'H', times: 4 }, cols: { dim: 'H', times: 1 }, role: 'cell' },
    { name: 'bx', rows: { dim: 'H', times: 4 }, cols: null, role: 'cell' },
    { name: 'bh', rows: { dim: 'H', times: 4 }, cols: null, role: 'cell' },
    { name: 'Wy', rows: { dim: 'O', times: 1 }, cols: { dim: 'H', times: 1 }, role: 'readout' },
    { name: 'by', rows: { dim: 'O', times: 1 }, cols: null, role: 'readout' },
  ],
  gates: 4,
  stateVectors: 2,
  initialState: ['h0', 'c0'],
  activations: ['tanh'],
  overrides: () => ({}),
  // gemm: a step keeps [h, c, i, f, g, o] (Zx into i, f, g, o); its gradients are [da_i, da_f, da_g, da_o, dc_{t−1}]
  // (both sides alike, but two biases: WGRAD_X sums the input side).
  gemm: {
    blocks: { input: 'Wx', recurrent: 'Wh', inputBias: 'bx', recurrentBias: 'bh' },
    slot: 6,
    grad: 5,
    gradX: 0,
    zx: 2,
  },
};
