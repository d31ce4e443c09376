// The in-browser benchmark page's script (dev-only, bundled by Vite): reads the run's options from the URL's hash
// (JSON: workloads, N, T, repeats, budgetSeconds, peers), runs runBrowserBench (src/benchmark/browser.ts) with our
// WebGPU engine, the CPU reference and the named peers (tfjs backends, ONNX Runtime Web on WebGPU), shows progress,
// and publishes the result as window.benchResult ({ report, text, markdown } or { error }) for bench/browser-run.ts.

import { runBrowserBench } from '../../src/benchmark/browser.ts';
import type { Peer } from '../../src/benchmark/peer.ts';
import { browserTfjsPeers } from '../peers/browser.ts';
import { ortWebPeer } from '../peers/ort-web.ts';

export interface BrowserBenchRequest {
  workloads: string[];
  N: number;
  T: number;
  repeats: number;
  budgetSeconds: number;
  /** Peer ids beside ours: cpu-ref, tfjs-cpu, tfjs-wasm, tfjs-webgpu, ort-webgpu. */
  peers: string[];
  /** Skip the adapter's probes (the tests' small runs). */
  noProbes?: boolean;
}

const out = document.getElementById('out')!;
const w = window as unknown as { benchResult?: unknown; benchProgress?: string[] };
w.benchProgress = [];

async function main(): Promise<void> {
  const req = JSON.parse(decodeURIComponent(location.hash.slice(1))) as BrowserBenchRequest;
  const peers: Peer[] = [];
  const tfjs = req.peers.filter((p) => p.startsWith('tfjs-')).map((p) => p.slice(5) as 'cpu' | 'wasm' | 'webgpu');
  peers.push(...browserTfjsPeers(tfjs));
  if (req.peers.includes('ort-webgpu')) peers.push(ortWebPeer());
  const result = await runBrowserBench({
    workloads: req.workloads,
    N: req.N,
    T: req.T,
    repeats: req.repeats,
    budgetSeconds: req.budgetSeconds,
    cpuReference: req.peers.includes('cpu-ref'),
    peers,
    noProbes: req.noProbes,
    onCell: (c) => {
      const line = `${c.workload} ${c.phase} ${c.peer}: ${c.status}${c.stepsPerSecond ? ` ${c.stepsPerSecond.toPrecision(3)} steps/s` : ''}`;
      w.benchProgress!.push(line);
      out.textContent += `\n${line}`;
    },
  });
  out.textContent = result.text;
  w.benchResult = result;
}

main().catch((e: unknown) => {
  const error = e instanceof Error ? e.message : String(e);
  out.textContent = `error: ${error}`;
  w.benchResult = { error };
});
