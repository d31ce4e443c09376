// PyTorch on the CPU as a benchmark peer `torch-cpu` (dev-only, Node; nn.RNN, nn.LSTM or nn.GRU, stacked and
// bidirectional too, + nn.Linear): one long-lived `python3` process running
// bench/peers/torch_rnn.py, fed the model and batch through a temporary file, timed inside Python. For each batch
// size the faster of 1 and 2 threads (torch.set_num_threads) is chosen by one timed run each after a warm-up
// (a slow size keeps the choice of the previous, smaller one). The
// interpreter is WEBGPU_RNN_PYTHON when set, else `python3` on the PATH, then /usr/bin/python3 (Debian's, where
// python3-torch installs). Without python3 or torch the peer is unavailable, with the reason.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch } from '../../src/batch.ts';
import { modelToStateDict } from '../../src/interop/state-dict.ts';
import type { ModelJSON } from '../../src/model.ts';
import type { Peer, PeerRun, PreparedRun } from '../../src/benchmark/peer.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';

const SCRIPT = fileURLToPath(new URL('./torch_rnn.py', import.meta.url));
/** Seconds to wait for python3 to import torch and answer. */
const START_TIMEOUT = 180;

interface Reply {
  ok?: boolean;
  error?: string;
  ready?: boolean;
  torch?: string;
  python?: string;
  executable?: string;
  loss?: number;
  grads?: number[] | null;
  seconds?: number;
  threads?: number;
  how?: string;
}

/** One python3 process speaking the line protocol of torch_rnn.py. */
class PythonWorker {
  private buffer = '';
  private waiting: ((r: Reply) => void)[] = [];
  private stderr = '';
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let k = this.buffer.indexOf('\n'); k >= 0; k = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, k);
        this.buffer = this.buffer.slice(k + 1);
        if (!line.trim()) continue;
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          reply = { error: `unreadable reply from python: ${line.slice(0, 200)}` };
        }
        this.waiting.shift()?.(reply);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => void (this.stderr = (this.stderr + chunk).slice(-4000)));
    const fail = (why: string): void => {
      this.exited = why;
      for (const w of this.waiting.splice(0)) w({ error: why });
    };
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`python exited (${signal ?? `code ${code}`})${this.lastError()}`));
  }

  private lastError(): string {
    const lines = this.stderr.trim().split('\n').filter(Boolean);
    return lines.length ? `: ${lines[lines.length - 1]}` : '';
  }

  static async start(python: string): Promise<{ worker: PythonWorker; hello: Reply }> {
    const child = spawn(python, ['-u', SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const worker = new PythonWorker(child);
    const hello = await worker.next(START_TIMEOUT);
    if (!hello.ready) {
      worker.close();
      throw new Error(hello.error ?? 'no answer');
    }
    return { worker, hello };
  }

  private next(timeoutSeconds = 0): Promise<Reply> {
    if (this.exited) return Promise.resolve({ error: this.exited });
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (r: Reply): void => {
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      this.waiting.push(done);
      if (timeoutSeconds > 0) {
        timer = setTimeout(() => {
          const k = this.waiting.indexOf(done);
          if (k >= 0) this.waiting.splice(k, 1);
          resolve({ error: `no answer within ${timeoutSeconds} s` });
        }, timeoutSeconds * 1000);
      }
    });
  }

  async send(command: string): Promise<Reply> {
    if (this.exited) throw new Error(this.exited);
    const reply = this.next();
    this.child.stdin.write(command + '\n');
    const r = await reply;
    if (r.error) throw new Error(`torch: ${r.error}`);
    return r;
  }

  close(): void {
    if (this.exited) return;
    this.child.stdin.end();
    this.child.kill();
  }
}

/** The float32 data file torch_rnn.py loads: a JSON header line, then inputs N×T×I and targets N×O. */
function writeData(path: string, model: ModelJSON, batch: Batch): void {
  const { inputSize: I, hiddenSize: H, outputSize: O } = model;
  const N = batch.count;
  const T = batch.lengths[0];
  const cell = model.cell ?? 'elman';
  const layered = (model.numLayers ?? 1) > 1 || !!model.bidirectional;
  // Stacked and bidirectional models go as PyTorch's state_dict (the interop module's names and order).
  const stateDict = layered ? modelToStateDict(model) : undefined;
  const header =
    JSON.stringify({
      I,
      H,
      O,
      N,
      T,
      cell,
      activation: model.activation,
      numLayers: model.numLayers ?? 1,
      bidirectional: !!model.bidirectional,
      weights: layered ? undefined : model.weights,
      stateDict,
    }) + '\n';
  const head = new TextEncoder().encode(header);
  const body = new Float32Array(N * T * I + N * O);
  body.set(batch.inputs);
  body.set(batch.targets!, N * T * I);
  const bytes = new Uint8Array(head.length + body.byteLength);
  bytes.set(head, 0);
  bytes.set(new Uint8Array(body.buffer), head.length);
  writeFileSync(path, bytes);
}

export class TorchPeer implements Peer {
  readonly id = 'torch-cpu';
  readonly label = 'PyTorch on the CPU (nn.RNN, nn.LSTM or nn.GRU + nn.Linear, float32)';
  readonly ours = false;
  detail = '';
  private worker: PythonWorker | null = null;
  private dir: string | null = null;
  private nextId = 0;
  /** The thread count chosen for each shape and phase at the last size tried. */
  private readonly chosen = new Map<string, number>();
  /** Candidate thread counts: 1 and 2 (fewer on a one-core machine). */
  private readonly threads = cpus().length >= 2 ? [1, 2] : [1];

  async init(): Promise<void> {
    const env = process.env.WEBGPU_RNN_PYTHON;
    const candidates = env ? [env] : ['python3', '/usr/bin/python3'];
    const failures: string[] = [];
    for (const python of candidates) {
      try {
        const { worker, hello } = await PythonWorker.start(python);
        this.worker = worker;
        this.detail = `torch ${hello.torch}, Python ${hello.python} (${hello.executable}), best of ${this.threads.join(' and ')} threads per size`;
        this.dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-torch-'));
        return;
      } catch (e) {
        failures.push(`${python}: ${(e as Error).message}`);
      }
    }
    throw new Error(
      `no python3 with torch (${failures.join('; ')}); on Debian: apt-get install python3-torch, or set WEBGPU_RNN_PYTHON`,
    );
  }

  async prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const worker = this.worker!;
    const N = batch.count;
    const T = batch.lengths[0];
    for (let n = 0; n < N; n++)
      if (batch.lengths[n] !== T) throw new Error('the torch peer takes sequences of one length only');
    if (!batch.targets || batch.output !== 'last' || model.output !== 'last')
      throw new Error('the torch peer takes output "last" with targets');
    if (model.h0?.some((v) => v !== 0) || model.c0?.some((v) => v !== 0))
      throw new Error('the torch peer takes zero initial states only');
    const id = `r${this.nextId++}`;
    const path = join(this.dir!, `${id}.bin`);
    try {
      writeData(path, model, batch);
      await worker.send(`load ${id} ${path} ${phase}`);
    } finally {
      rmSync(path, { force: true });
    }
    const once = async (threads: number): Promise<PeerRun & { selfSeconds: number }> => {
      const r = await worker.send(`run ${id} ${threads}`);
      return {
        loss: r.loss ?? NaN,
        grads: r.grads ? Float64Array.from(r.grads) : null,
        selfSeconds: r.seconds ?? NaN,
        strategy: `${r.how ?? 'nn.RNN'}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`,
      };
    };
    // Warm-up (first use of the shapes), then one timed run per thread count: the faster count is used. Where the
    // warm-up took over half a second and a smaller batch of this shape has chosen already, that choice is kept.
    const key = `${model.cell ?? 'elman'}|${model.numLayers ?? 1}|${!!model.bidirectional}|${model.inputSize}|${model.hiddenSize}|${model.outputSize}|${model.activation}|${T}|${phase}`;
    let best = this.chosen.get(key) ?? this.threads[this.threads.length - 1];
    if (this.threads.length > 1) {
      const warm = await once(this.threads[this.threads.length - 1]);
      if (warm.selfSeconds < 0.5 || !this.chosen.has(key)) {
        let bestSeconds = Infinity;
        for (const k of this.threads) {
          const s = (await once(k)).selfSeconds;
          if (s < bestSeconds) [best, bestSeconds] = [k, s];
        }
        this.chosen.set(key, best);
      }
    }
    return {
      run: () => once(best),
      dispose: () => void worker.send(`free ${id}`).catch(() => {}),
    };
  }

  dispose(): void {
    this.worker?.close();
    this.worker = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

export function torchPeer(): TorchPeer {
  return new TorchPeer();
}
