// ONNX Runtime Web on its WebGPU execution provider as a benchmark peer `ort-webgpu` (dev-only; the browser, bundled
// by Vite): the workload's model exported by our ONNX exporter (src/interop/export.ts), run by onnxruntime-web's
// WebGPU build on the page's navigator.gpu, the same adapter as ours. Forward only (inference). The session is
// created with verbose logging, and the log's node-placement lines ("Node(s) placed on [...]") say which ops run on
// WebGPU and which fall back to the CPU (WebAssembly); the peer's strategy column carries that summary. The graph
// gives every step's prediction; the SSR over the last step is taken on the host inside the timed run, as in the
// Node peer (bench/peers/ort.ts).

import type * as OrtWeb from 'onnxruntime-web';
import type { Batch } from '../../src/batch.ts';
import type { Peer, PeerRun, PreparedRun } from '../../src/benchmark/peer.ts';
import type { Phase } from '../../src/benchmark/workloads.ts';
import { decodeOnnx } from '../../src/interop/onnx.ts';
import type { ModelJSON } from '../../src/model.ts';
import { onnxBatch, onnxUnsupported } from './onnx-batch.ts';

type Ort = typeof OrtWeb;

/** The execution providers ORT's log names, and ours for them. */
const EP_NAME: Record<string, string> = {
  JsExecutionProvider: 'WebGPU',
  WebGpuExecutionProvider: 'WebGPU',
  CPUExecutionProvider: 'CPU (wasm)',
};

/**
 * Which ops ran where, from ORT's verbose session log: the lines "Node(s) placed on [EP]. Number of nodes: k"
 * followed by "  OpType (node name)" lines, or "All nodes placed on [EP]. Number of nodes: k" (each line after ORT's
 * "time [V:onnxruntime:, file:line function]" prefix).
 */
export function placementSummary(log: string[], opTypes: string[]): string {
  const where = new Map<string, string[]>();
  let current: string | null = null;
  for (const raw of log.flatMap((l) => l.split('\n'))) {
    const line = raw.trim();
    const all = /All nodes placed on \[(\w+)\]/.exec(line);
    if (all) {
      const ep = EP_NAME[all[1]] ?? all[1];
      where.set(ep, [...new Set([...(where.get(ep) ?? []), ...opTypes])]);
      current = null;
      continue;
    }
    const some = /Node\(s\) placed on \[(\w+)\]/.exec(line);
    if (some) {
      current = EP_NAME[some[1]] ?? some[1];
      if (!where.has(current)) where.set(current, []);
      continue;
    }
    const op = current ? /(?:^|\]\s+)(\w+) \([^)]*\)$/.exec(line) : null;
    if (op && current && !where.get(current)!.includes(op[1])) where.get(current)!.push(op[1]);
  }
  if (where.size === 0) return 'op placement not in the log';
  return [...where].map(([ep, ops]) => `${ep}: ${ops.join(', ') || '–'}`).join('; ');
}

export class OrtWebPeer implements Peer {
  readonly id = 'ort-webgpu';
  readonly label = 'ONNX Runtime Web (WebGPU execution provider, our exported graph)';
  readonly ours = false;
  detail = '';
  private ort: Ort | null = null;

  async init(): Promise<void> {
    if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) throw new Error('no navigator.gpu here');
    const ort = (await import('onnxruntime-web/webgpu')) as Ort;
    const { default: wasm } = await import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url');
    ort.env.wasm.wasmPaths = { wasm };
    // One thread: threads need a cross-origin-isolated page (SharedArrayBuffer), which the bench page is not.
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'verbose';
    this.interceptLog();
    this.ort = ort;
    this.detail = `onnxruntime-web ${ort.env.versions.web ?? '?'}, WebGPU execution provider, 1 wasm thread`;
  }

  unsupported(model: ModelJSON, phase: Phase): string | null {
    return onnxUnsupported(model, phase);
  }

  /** Where ORT's log lines go while a session is created (null: ORT's verbose lines are dropped). */
  private capture: string[] | null = null;

  /**
   * ORT's WebAssembly build writes its log, every severity, to console.error, which it binds once when it starts: so
   * console.error is wrapped once, before the first session, and the wrapper collects the lines of the session
   * being created, drops ORT's verbose and info lines otherwise, and passes everything else on.
   */
  private interceptLog(): void {
    const error = console.error.bind(console);
    console.error = (...a: unknown[]): void => {
      const line = a.map(String).join(' ');
      if (this.capture) this.capture.push(line);
      else if (!/\[[VI]:onnxruntime/.test(line)) error(...a);
    };
  }

  /** Creates a session with verbose logging, returning its log lines (for the node placement). */
  private async session(bytes: Uint8Array): Promise<{ session: OrtWeb.InferenceSession; log: string[] }> {
    const log: string[] = [];
    this.capture = log;
    try {
      const session = await this.ort!.InferenceSession.create(bytes, {
        executionProviders: ['webgpu'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
      });
      return { session, log };
    } finally {
      this.capture = null;
    }
  }

  async prepare(model: ModelJSON, batch: Batch, phase: Phase): Promise<PreparedRun> {
    const ort = this.ort!;
    const { bytes, op, x, dims, lastStepSSR } = onnxBatch(model, batch, phase);
    const { session, log } = await this.session(bytes);
    const placement = placementSummary(log, [
      ...new Set((decodeOnnx(bytes).graph?.node ?? []).map((n) => n.opType ?? '?')),
    ]);
    const feeds = { x: new ort.Tensor('float32', x, dims) };
    return {
      run: async (): Promise<PeerRun> => {
        const t0 = performance.now();
        const out = await session.run(feeds, { logSeverityLevel: 3 });
        const loss = lastStepSSR((await out.y.getData()) as Float32Array);
        const selfSeconds = (performance.now() - t0) / 1000;
        for (const v of Object.values(out)) v.dispose();
        return { loss, grads: null, selfSeconds, strategy: `ONNX ${op} op; ${placement}` };
      },
      dispose: () => void session.release().catch(() => {}),
    };
  }

  dispose(): void {
    this.ort = null;
  }
}

export function ortWebPeer(): OrtWebPeer {
  return new OrtWebPeer();
}
