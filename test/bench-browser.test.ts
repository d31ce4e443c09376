// The in-browser benchmark (`bench --browser`, bench/browser-run.ts) in Chromium on SwiftShader: ONNX Runtime Web on
// its WebGPU execution provider runs our exported LSTM and Elman graphs beside our engine, its SSR agrees with ours,
// and the session log's node placement is reported (which ops ran on WebGPU, which fell back to the CPU). Also the
// log parser on ORT's own lines. No timing assertions.

import { describe, expect, it } from 'vitest';
import { runInChromium } from '../bench/browser-run.ts';
import { placementSummary } from '../bench/peers/ort-web.ts';
import { describeBrowser } from './helpers/browser.ts';

describe("ORT's node-placement log", () => {
  const prefix = (n: number) =>
    `2026-12-07 18:04:33.49 [V:onnxruntime:, session_state.cc:${n} VerifyEachNodeIsAssignedToAnEp]`;
  it('lists the ops each execution provider took', () => {
    const log = [
      `${prefix(1578)} Node placements`,
      `${prefix(1584)}  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 3`,
      `${prefix(1586)}   Transpose (rnn_l0_transpose)`,
      `${prefix(1586)}   MatMul (fc_matmul)`,
      `${prefix(1586)}   MatMul (fc_matmul_2)`,
      `${prefix(1584)}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1`,
      `${prefix(1586)}   RNN (rnn_l0)`,
    ];
    expect(placementSummary(log, ['RNN', 'Transpose', 'MatMul'])).toBe('WebGPU: Transpose, MatMul; CPU (wasm): RNN');
  });
  it('takes "All nodes placed on" as every op of the graph', () => {
    const log = [`${prefix(1581)}  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 5`];
    expect(placementSummary(log, ['LSTM', 'MatMul', 'Add'])).toBe('WebGPU: LSTM, MatMul, Add');
  });
  it('says when the log has no placement', () => {
    expect(placementSummary(['something else'], ['RNN'])).toBe('op placement not in the log');
  });
});

describeBrowser('bench --browser: ONNX Runtime Web on WebGPU beside ours', () => {
  it('runs our exported LSTM and Elman graphs, agrees with our SSR and reports where each op ran', async () => {
    const lines: string[] = [];
    const { report, text } = await runInChromium(
      { workloads: ['lstm8', 'h8'], N: 64, T: 6, repeats: 1, budgetSeconds: 20, peers: ['ort-webgpu'], noProbes: true },
      (l) => lines.push(l),
    );
    expect(lines[0]).toMatch(/building/);
    const ort = report.peers.find((p) => p.id === 'ort-webgpu')!;
    expect(ort.status, ort.reason).toBe('ok');
    expect(ort.detail).toMatch(/^onnxruntime-web \d/);
    for (const w of ['lstm8', 'h8']) {
      const fwd = report.results.find((c) => c.peer === 'ort-webgpu' && c.workload === w && c.phase === 'forward')!;
      expect(['ok', 'cut-off']).toContain(fwd.status);
      expect(fwd.check?.ok, JSON.stringify(fwd.check)).toBe(true);
      expect(fwd.check!.lossRelDiff).toBeLessThan(1e-4);
      expect(fwd.strategy).toMatch(
        w === 'lstm8' ? /^ONNX LSTM op; .*WebGPU: / : /^ONNX RNN op; .*(WebGPU|CPU \(wasm\)): /,
      );
      const grad = report.results.find((c) => c.peer === 'ort-webgpu' && c.workload === w && c.phase === 'gradient')!;
      expect(grad.status).toBe('unsupported');
    }
    expect(text).toContain('ort-webgpu');
  }, 240_000);
});
