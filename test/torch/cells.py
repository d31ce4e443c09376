# PyTorch's nn.LSTM / nn.GRU / nn.RNN in float64 on one model and data set given as JSON on stdin (the project's
# model JSON plus "inputs" N×T_n×I and "targets"): prints the SSR, the predictions and dSSR/dθ in the project's
# flat order (Wx = weight_ih_l0, Wh = weight_hh_l0, bx = bias_ih_l0, bh = bias_hh_l0, Wy, by) as JSON. Sequences
# run one by one (ragged lengths). An independent check of the layout and equations in test/torch-cells.test.ts.
import json
import sys

import torch

req = json.load(sys.stdin)
m = req["model"]
cell, I, H, O = m.get("cell", "elman"), m["inputSize"], m["hiddenSize"], m["outputSize"]
W = m["weights"]
t = lambda v: torch.tensor(v, dtype=torch.float64)
if cell == "lstm":
    rnn = torch.nn.LSTM(I, H, batch_first=True).double()
elif cell == "gru":
    rnn = torch.nn.GRU(I, H, batch_first=True).double()
else:
    rnn = torch.nn.RNN(I, H, nonlinearity=m["activation"], batch_first=True, bias=True).double()
lin = torch.nn.Linear(H, O).double()
with torch.no_grad():
    rnn.weight_ih_l0.copy_(t(W["Wx"]))
    rnn.weight_hh_l0.copy_(t(W["Wh"]))
    rnn.bias_ih_l0.copy_(t(W["bx"]) if "bx" in W else torch.zeros(H, dtype=torch.float64))
    rnn.bias_hh_l0.copy_(t(W["bh"]))
    lin.weight.copy_(t(W["Wy"]))
    lin.bias.copy_(t(W["by"]))
h0 = t(m.get("h0", [0.0] * H)).reshape(1, 1, H)
c0 = t(m.get("c0", [0.0] * H)).reshape(1, 1, H)
loss = torch.zeros((), dtype=torch.float64)
outs = []
for n, seq in enumerate(req["inputs"]):
    x = t(seq).reshape(1, len(seq), I)
    y, _ = rnn(x, (h0, c0)) if cell == "lstm" else rnn(x, h0)
    p = lin(y[0])  # T × O
    if m["output"] == "last":
        p = p[-1:]
        target = t(req["targets"][n]).reshape(1, O)
    else:
        target = t(req["targets"][n])
    outs.extend(p.reshape(-1).tolist())
    loss = loss + ((p - target) ** 2).sum()
loss.backward()
blocks = [rnn.weight_ih_l0, rnn.weight_hh_l0] + ([rnn.bias_ih_l0] if cell != "elman" else []) + [rnn.bias_hh_l0, lin.weight, lin.bias]
grads = [v for b in blocks for v in b.grad.reshape(-1).tolist()]
print(json.dumps({"loss": loss.item(), "outputs": outs, "grads": grads, "version": torch.__version__}))
