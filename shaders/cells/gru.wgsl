// cells/gru.wgsl — the GRU cell (PyTorch's nn.GRU, gates r, z, n stacked in the rows of Wx, Wh, bx, bh):
//   r, z = σ(Wx·x_t + bx + Wh·h_{t−1} + bh);  n = tanh(Wx_n·x_t + bx_n + r⊙(Wh_n·h_{t−1} + bh_n));
//   h_t = (1 − z)⊙n + z⊙h_{t−1}
// for every kernel that runs it; spliced by the host in place of a kernel's `// @cell <part>` line (src/gpu/cell.ts,
// docs/cells.md), with the layout generated from src/cells/gru.ts: OFF_WX, OFF_WH, OFF_BX, OFF_BH, OFF_WY, OFF_BY,
// NPARAM, NREC = OFF_WY, NSTATE = H, OFF_H0 = NPARAM, NWEIGHTS = NPARAM + H.
// The per-sequence parts come first; the gemm strategy's elementwise parts follow them.
