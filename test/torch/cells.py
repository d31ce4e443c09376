# PyTorch's nn.LSTM / nn.GRU / nn.RNN in float64 on one model and data set given as JSON on stdin (the project's
# model JSON plus "inputs" N×T_n×I and "targets"): prints the SSR, the predictions and dSSR/dθ in the project's
# flat order (Wx = weight_ih_l0, Wh = weight_hh_l0, bx = bias_ih_l0, bh = bias_hh_l0, Wy, by) as JSON. Sequences
# run one by one (ragged lengths). An independent check of the layout and equations in test/torch-cells.test.ts.
#
# Given {"cases": [...]} instead, runs each case (a model, flat or layered: numLayers, bidirectional, weights.layers;
# "inputs", "targets" and optionally "states" {"h", "c"} as [numLayers·D][N][H]) as one batch packed with
# pack_padded_sequence, the whole batch at once, and prints {"results": [...]}: loss, predictions, gradients in
# the project's layered flat order (every layer's Wx, Wh, bx (gated cells), bh in PyTorch's order l0, l0_reverse,
# l1, …; then Wy, by) and h_n, c_n flattened [numLayers·D][N][H].
import json
import sys

import torch


def run_packed(req):
    m = req["model"]
    cell, I, H, O = m.get("cell", "elman"), m["inputSize"], m["hiddenSize"], m["outputSize"]
    L = m.get("numLayers", 1)
    bi = m.get("bidirectional", False)
    D = 2 if bi else 1
    K = L * D
    G = {"lstm": 4, "gru": 3}.get(cell, 1)
    W = m["weights"]
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    kw = dict(num_layers=L, bidirectional=bi, batch_first=True)
    if cell == "lstm":
        rnn = torch.nn.LSTM(I, H, **kw).double()
    elif cell == "gru":
        rnn = torch.nn.GRU(I, H, **kw).double()
    else:
        rnn = torch.nn.RNN(I, H, nonlinearity=m["activation"], bias=True, **kw).double()
    lin = torch.nn.Linear(D * H, O).double()
    layers = W["layers"] if "layers" in W else [{k: W[k] for k in ("Wx", "Wh", "bx", "bh") if k in W}]
    suffix = lambda k: f"l{k // D}" + ("_reverse" if k % D else "")
    with torch.no_grad():
        for k, lw in enumerate(layers):
            getattr(rnn, "weight_ih_" + suffix(k)).copy_(t(lw["Wx"]))
            getattr(rnn, "weight_hh_" + suffix(k)).copy_(t(lw["Wh"]))
            getattr(rnn, "bias_ih_" + suffix(k)).copy_(t(lw["bx"]) if "bx" in lw else torch.zeros(G * H, dtype=torch.float64))
            getattr(rnn, "bias_hh_" + suffix(k)).copy_(t(lw["bh"]))
        lin.weight.copy_(t(W["Wy"]))
        lin.bias.copy_(t(W["by"]))
    seqs = req["inputs"]
    N = len(seqs)
    lengths = [len(s) for s in seqs]
    Tmax = max(lengths)
    x = torch.zeros(N, Tmax, I, dtype=torch.float64)
    for n, s in enumerate(seqs):
        x[n, : len(s)] = t(s)

    def initial(key):
        if "states" in req:
            return t(req["states"][key]) if key in req["states"] else None
        v = m.get(key + "0")
        if v is None:
            return torch.zeros(K, N, H, dtype=torch.float64)
        rows = v if isinstance(v[0], list) else [v]
        return t(rows).reshape(K, 1, H).expand(K, N, H).contiguous()

    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    if cell == "lstm":
        out, (h_n, c_n) = rnn(packed, (initial("h"), initial("c")))
    else:
        out, h_n = rnn(packed, initial("h"))
        c_n = None
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=Tmax)
    p = lin(out)  # N × Tmax × O
    loss = torch.zeros((), dtype=torch.float64)
    outs = []
    for n in range(N):
        T = lengths[n]
        pn = p[n, T - 1 : T] if m["output"] == "last" else p[n, :T]
        target = t(req["targets"][n]).reshape(pn.shape)
        outs.extend(pn.reshape(-1).tolist())
        loss = loss + ((pn - target) ** 2).sum()
    loss.backward()
    blocks = []
    for k in range(K):
        blocks += [getattr(rnn, "weight_ih_" + suffix(k)), getattr(rnn, "weight_hh_" + suffix(k))]
        if cell != "elman":
            blocks.append(getattr(rnn, "bias_ih_" + suffix(k)))
        blocks.append(getattr(rnn, "bias_hh_" + suffix(k)))
    blocks += [lin.weight, lin.bias]
    grads = [v for b in blocks for v in b.grad.reshape(-1).tolist()]
    # Elman layers: the project adds bias_ih into bias_hh, so its bh gradient must be both of theirs (equal).
    bias_agree = cell != "elman" or all(
        torch.allclose(getattr(rnn, "bias_ih_" + suffix(k)).grad, getattr(rnn, "bias_hh_" + suffix(k)).grad, rtol=1e-12, atol=1e-14)
        for k in range(K)
    )
    r = {"loss": loss.item(), "outputs": outs, "grads": grads, "h_n": h_n.detach().reshape(-1).tolist(), "biasGradsAgree": bias_agree}
    if c_n is not None:
        r["c_n"] = c_n.detach().reshape(-1).tolist()
    return r


req = json.load(sys.stdin)
if "cases" in req:
    print(json.dumps({"results": [run_packed(c) for c in req["cases"]], "version": torch.__version__}))
else:
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
