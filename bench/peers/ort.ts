// ONNX Runtime on the CPU as a benchmark peer `ort-cpu` (dev-only, Node): the workload's model exported by our
// ONNX exporter (src/interop/export.ts: one RNN, LSTM or GRU op, then MatMul and Add), run by onnxruntime-node's
// CPU execution provider (MLAS kernels). Forward only: ONNX Runtime runs inference, not training. The graph gives
// every step's prediction [T, N, O]; the SSR is taken over the last step's, in float64 on the host, inside the
// timed run. The inputs are laid out time-major ([T, N, I], as ONNX's ops take them) once, before timing. For each
// shape the faster of 1 and 2 intra-op threads is chosen by one timed run each after a warm-up.

import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { Batch } from '../../src/batch.ts';
import type { Peer, PeerRun, PreparedRun } from '../../src/benchmark/peer.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';
import type { ModelJSON } from '../../src/model.ts';
import { onnxBatch, onnxUnsupported } from './onnx-batch.ts';

const require = createRequire(import.meta.url);

export class OrtPeer implements Peer {
  readonly id = 'ort-cpu';
  readonly label = 'ONNX Runtime on the CPU (onnxruntime-node, our exported graph)';
  readonly ours = false;
  detail = '';
  private ort: typeof Ort | null = null;
  /** Candidate intra-op thread counts: 1 and 2 (fewer on a one-core machine). */
  private readonly threads = cpus().length >= 2 ? [1, 2] : [1];

  async init(): Promise<void> {
    try {
      this.ort = await import('onnxruntime-node');
    } catch (e) {
      throw new Error(
        `onnxruntime-node is not installed (npm install --save-dev onnxruntime-node): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    this.detail = `onnxruntime-node ${version}, CPU execution provider, best of ${this.threads.join(' and ')} intra-op threads per shape`;
  }

  unsupported(model: ModelJSON, phase: Phase): string | null {
    return onnxUnsupported(model, phase);
  }

  async prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const ort = this.ort!;
    const { bytes, op, x, dims, lastStepSSR } = onnxBatch(model, batch, phase);
    const feeds = { x: new ort.Tensor('float32', x, dims) };
    const sessions = new Map<number, Ort.InferenceSession>();
    const session = async (threads: number): Promise<Ort.InferenceSession> => {
      let s = sessions.get(threads);
      if (!s) {
        s = await ort.InferenceSession.create(bytes, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
        sessions.set(threads, s);
      }
      return s;
    };
    const once = async (threads: number): Promise<PeerRun & { selfSeconds: number }> => {
      const s = await session(threads);
      const t0 = performance.now();
      const out = await s.run(feeds);
      const loss = lastStepSSR(out.y.data as Float32Array);
      const selfSeconds = (performance.now() - t0) / 1000;
      for (const v of Object.values(out)) v.dispose();
      return {
        loss,
        grads: null,
        selfSeconds,
        strategy: `ONNX ${op} op, ${threads} thread${threads === 1 ? '' : 's'}`,
      };
    };
    let best = this.threads[this.threads.length - 1];
    if (this.threads.length > 1) {
      await once(best); // warm-up: the session's first run
      let bestSeconds = Infinity;
      for (const k of this.threads) {
        const s = (await once(k)).selfSeconds;
        if (s < bestSeconds) [best, bestSeconds] = [k, s];
      }
    }
    for (const [k, s] of [...sessions])
      if (k !== best) {
        sessions.delete(k);
        void s.release().catch(() => {});
      }
    return {
      run: () => once(best),
      dispose: () => {
        for (const s of sessions.values()) void s.release().catch(() => {});
        sessions.clear();
      },
    };
  }

  dispose(): void {
    this.ort = null;
  }
}

export function ortPeer(): OrtPeer {
  return new OrtPeer();
}
