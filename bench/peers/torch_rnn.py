#!/usr/bin/env python3
# PyTorch on the CPU as a benchmark peer (dev-only; driven by bench/peers/torch.ts over stdin/stdout, one JSON
# object per line). It loads a model and a batch written by the benchmark (a JSON header line, then float32 inputs
# N×T×I and targets N×O), builds nn.RNN, nn.LSTM or nn.GRU (stacked or bidirectional from the state_dict in the
# header) + nn.Linear with exactly those weights (float32), and runs forward = SSR or forward + autograd of the
# SSR, timing each run inside Python with time.perf_counter.
#
# Commands (one per line):  load ID PATH forward|gradient   run ID THREADS   free ID
# Replies: {"ok": true} / {"loss": L, "grads": [...] | null, "seconds": S, "threads": K} / {"error": "..."}
# Gradients come back in webgpu-rnn's canonical order, row-major: Elman Wx (H×I), Wh (H×H), bh, Wy (O×H), by; the
# gated cells Wx (gH×I), Wh (gH×H), bx, bh, Wy, by, which are PyTorch's weight_ih, weight_hh, bias_ih, bias_hh as
# they are (the same gate order).

import json
import platform
import sys
import time


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    try:
        import numpy as np
        import torch
    except Exception as e:  # reported as the reason the peer is unavailable
        reply({"error": f"{type(e).__name__}: {e}"})
        return 1
    torch.set_num_interop_threads(1)
    reply({"ready": True, "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
           "executable": sys.executable, "maxThreads": torch.get_num_threads()})

    runs = {}

    def load(path, phase):
        with open(path, "rb") as f:
            head = json.loads(f.readline())
            rest = f.read()
        I, H, O, N, T = (int(head[k]) for k in ("I", "H", "O", "N", "T"))
        act = head["activation"]
        need = 4 * (N * T * I + N * O)
        if len(rest) != need:
            raise ValueError(f"data file holds {len(rest)} bytes after the header, expected {need}")
        x = torch.from_numpy(np.frombuffer(rest, dtype="<f4", count=N * T * I).reshape(N, T, I).copy())
        y = torch.from_numpy(np.frombuffer(rest, dtype="<f4", count=N * O, offset=4 * N * T * I).reshape(N, O).copy())
        cell = head.get("cell", "elman")
        L = int(head.get("numLayers", 1))
        bi = bool(head.get("bidirectional", False))
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)
        if head.get("stateDict") is not None:
            # Stacked or bidirectional: PyTorch's state_dict as the interop module names it (rnn.*, fc.*), and the
            # gradients in our order: per layer-direction Wx, Wh, (gated: bx,) bh, then Wy, by.
            sd = {t["name"]: f32(t["values"]).reshape(t["shape"]) for t in head["stateDict"]}
            D = 2 if bi else 1
            if cell == "lstm":
                rnn = torch.nn.LSTM(I, H, num_layers=L, bidirectional=bi, batch_first=True)
            elif cell == "gru":
                rnn = torch.nn.GRU(I, H, num_layers=L, bidirectional=bi, batch_first=True)
            else:
                rnn = torch.nn.RNN(I, H, num_layers=L, bidirectional=bi, nonlinearity=act, batch_first=True)
            lin = torch.nn.Linear(D * H, O)
            with torch.no_grad():
                for name, p in rnn.named_parameters():
                    p.copy_(sd["rnn." + name])
                lin.weight.copy_(sd["fc.weight"])
                lin.bias.copy_(sd["fc.bias"])
            params = []
            for k in range(L * D):
                suffix = f"_l{k // D}" + ("_reverse" if k % D else "")
                params += [getattr(rnn, "weight_ih" + suffix), getattr(rnn, "weight_hh" + suffix)]
                biases = ["bias_ih", "bias_hh"] if cell in ("lstm", "gru") else ["bias_hh"]
                params += [getattr(rnn, b + suffix) for b in biases]
            params += [lin.weight, lin.bias]

            def last_h():
                out, _ = rnn(x)
                return out[:, -1, :]

            how = {"lstm": "nn.LSTM", "gru": "nn.GRU"}.get(cell, "nn.RNN") + f" ({L} layer{'s' if L > 1 else ''}{', bidirectional' if bi else ''})"
        else:
            w = head["weights"]
            lin = torch.nn.Linear(H, O)
            with torch.no_grad():
                lin.weight.copy_(f32(w["Wy"]))
                lin.bias.copy_(f32(w["by"]))
            if cell in ("lstm", "gru"):
                rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(I, H, batch_first=True)
                with torch.no_grad():
                    rnn.weight_ih_l0.copy_(f32(w["Wx"]))
                    rnn.weight_hh_l0.copy_(f32(w["Wh"]))
                    rnn.bias_ih_l0.copy_(f32(w["bx"]))
                    rnn.bias_hh_l0.copy_(f32(w["bh"]))
                params = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, lin.weight, lin.bias]

                def last_h():
                    _, state = rnn(x)
                    return (state[0] if cell == "lstm" else state)[0]

                how = "nn.LSTM" if cell == "lstm" else "nn.GRU"
            elif act in ("tanh", "relu"):
                rnn = torch.nn.RNN(I, H, nonlinearity=act, batch_first=True)
                with torch.no_grad():
                    rnn.weight_ih_l0.copy_(f32(w["Wx"]))
                    rnn.weight_hh_l0.copy_(f32(w["Wh"]))
                    rnn.bias_ih_l0.copy_(f32(w["bh"]))
                    rnn.bias_hh_l0.zero_()
                params = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, lin.weight, lin.bias]

                def last_h():
                    _, hn = rnn(x)
                    return hn[0]

                how = "nn.RNN"
            else:  # identity: nn.RNN has no such nonlinearity, so an explicit loop over the steps
                Wx = torch.nn.Parameter(f32(w["Wx"]))
                Wh = torch.nn.Parameter(f32(w["Wh"]))
                bh = torch.nn.Parameter(f32(w["bh"]))
                params = [Wx, Wh, bh, lin.weight, lin.bias]

                def last_h():
                    h = torch.zeros(N, H)
                    for t in range(T):
                        h = x[:, t, :] @ Wx.T + h @ Wh.T + bh
                    return h

                how = "explicit loop"

        def ssr():
            d = lin(last_h()) - y
            return (d * d).sum()

        if phase == "forward":
            def run():
                with torch.no_grad():
                    return float(ssr()), None
        else:
            def run():
                for p in params:
                    p.grad = None
                loss = ssr()
                loss.backward()
                return float(loss), params

        return run, how

    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            cmd = parts[0]
            if cmd == "load":
                runs[parts[1]] = load(parts[2], parts[3])
                reply({"ok": True, "how": runs[parts[1]][1]})
            elif cmd == "run":
                run, how = runs[parts[1]]
                threads = int(parts[2])
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
                t0 = time.perf_counter()
                loss, params = run()
                seconds = time.perf_counter() - t0
                grads = None
                if params is not None:
                    grads = [v for p in params for v in p.grad.reshape(-1).tolist()]
                reply({"loss": loss, "grads": grads, "seconds": seconds, "threads": torch.get_num_threads(), "how": how})
            elif cmd == "free":
                runs.pop(parts[1], None)
                reply({"ok": True})
            else:
                reply({"error": f"unknown command {cmd!r}"})
        except Exception as e:
            reply({"error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
