# PyTorch's side of the interop tests (test/interop-torch.test.ts), one process for all cases. Reads JSON on stdin:
#   {"make": [case, ...], "load": [file, ...], "dir": DIR}
# make: for each case (cell, numLayers, bidirectional, I, H, O, dtype, prefixes, nonlinearity, inputs, targets,
#   output, readout: fc(out) at every step, or fc(out[-1]) or fc(h_n[-1]), one prediction per sequence), builds
#   nn.RNN/LSTM/GRU + nn.Linear in float64 with seeded weights rounded to the case's dtype, writes its state_dict as
#   DIR/<id>.safetensors (struct + json, in that dtype) and, when asked, torch.onnx.export of the module as
#   DIR/<id>.onnx (opset 14), and returns the SSR loss, the predictions and every gradient (autograd).
# load: for each exported safetensors file, builds the module from its shape, load_state_dict (strict) in float64,
#   and returns fc(out) at every step, [N][T][O] flattened, and the metadata.
# Writes {"made": [...], "loaded": [...]} on stdout.
import json
import struct
import sys
import warnings

import torch

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)

CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "elman": torch.nn.RNN}
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}
FORMATS = {"F32": "<f", "F64": "<d", "F16": "<e"}


class Net(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        kw = {"num_layers": c["numLayers"], "bidirectional": c["bidirectional"]}
        if c["cell"] == "elman":
            kw["nonlinearity"] = c.get("nonlinearity", "tanh")
        self.rnn = CLASSES[c["cell"]](c["I"], c["H"], **kw)
        self.fc = torch.nn.Linear(c["H"] * (2 if c["bidirectional"] else 1), c["O"])

        self.readout = c.get("readout", "every")

    def forward(self, x):
        out, h = self.rnn(x)
        if self.readout == "out-last":  # fc(out[-1]): one prediction per sequence
            return self.fc(out[-1])
        if self.readout == "hn-last":  # fc(h_n[-1]), one direction only
            return self.fc((h[0] if isinstance(h, tuple) else h)[-1])
        return self.fc(out)


def tensor_bytes(t, dtype):
    t = t.detach().to(DTYPES[dtype]).contiguous()
    if dtype == "BF16":
        bits = t.view(torch.int16).flatten().tolist()
        return struct.pack("<%dh" % len(bits), *bits)
    vals = t.flatten().tolist()
    return struct.pack("<%d%s" % (len(vals), FORMATS[dtype][1]), *vals)


def write_safetensors(path, tensors, dtype, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        assert e["dtype"] == "F32", e["dtype"]
        vals = struct.unpack("<%df" % ((end - b) // 4), data[8 + n + b : 8 + n + end])
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(e["shape"])
    return out, meta


def make(c, d):
    torch.manual_seed(c["seed"])
    net = Net(c)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.6, 0.6)
            p.copy_(p.to(DTYPES[c["dtype"]]).to(torch.float64))
    sd = {}
    for k, v in net.rnn.state_dict().items():
        sd[c["rnnPrefix"] + k] = v
    for k, v in net.fc.state_dict().items():
        sd[c["fcPrefix"] + k] = v
    write_safetensors("%s/%s.safetensors" % (d, c["id"]), sd, c["dtype"])
    x = torch.tensor(c["inputs"]).permute(1, 0, 2).contiguous()  # [T, N, I]
    if c.get("onnx"):
        torch.onnx.export(
            net,
            x,
            "%s/%s.onnx" % (d, c["id"]),
            opset_version=14,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "T", 1: "N"}, "y": {0: "T", 1: "N"}},
        )
    y = net(x)  # [T, N, O], or [N, O] for a readout of the last step
    if net.readout == "every":
        y = y[-1] if c["output"] == "last" else y.permute(1, 0, 2)
    tgt = torch.tensor(c["targets"])
    loss = ((y - tgt) ** 2).sum()
    net.zero_grad()
    loss.backward()
    grads = {k: p.grad.flatten().tolist() for k, p in net.rnn.named_parameters()}
    grads.update({"fc." + k: p.grad.flatten().tolist() for k, p in net.fc.named_parameters()})
    return {"loss": loss.item(), "outputs": y.detach().flatten().tolist(), "grads": grads}


def load(f):
    tensors, meta = read_safetensors(f["path"])
    net = Net(f)
    net.load_state_dict(tensors, strict=True)
    x = torch.tensor(f["inputs"]).permute(1, 0, 2).contiguous()
    with torch.no_grad():
        y = net(x).permute(1, 0, 2)
    return {"outputs": y.flatten().tolist(), "metadata": meta}


def main():
    req = json.load(sys.stdin)
    made = [make(c, req["dir"]) for c in req.get("make", [])]
    loaded = [load(f) for f in req.get("load", [])]
    json.dump({"made": made, "loaded": loaded}, sys.stdout)


main()
