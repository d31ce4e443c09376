// cells/lstm.wgsl — the LSTM cell (PyTorch's nn.LSTM, gates i, f, g, o stacked in the rows of Wx, Wh, bx, bh):
//   a = Wx·x_t + bx + Wh·h_{t−1} + bh;  i, f, o = σ(a);  g = tanh(a);  c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/lstm.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = 2H (h, then c), OFF_H0 = NPARAM, OFF_C0 = OFF_H0 + H, NWEIGHTS = OFF_C0 + H.
// The per-sequence parts come first; the gemm strategy's elementwise parts follow them.
