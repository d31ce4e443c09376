// The benchmark's gated-cell workloads (lstm<H>, gru<H>) through the CPU peers, in process: ONNX Runtime on the
// CPU (our exported graph, forward) and PyTorch (nn.LSTM / nn.GRU, forward and gradients) agree with the float64
// CPU reference on the same weights and data; the per-step costs follow the stated formulas for each cell; the
// tfjs peer says it runs Elman networks only. No timing assertions.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuRefPeer, type Peer } from '../src/benchmark/peer.ts';
import { stepCost, workload, workloadBatch, workloadModel } from '../src/benchmark/workloads.ts';
import { OrtPeer } from '../bench/peers/ort.ts';
import { TorchPeer } from '../bench/peers/torch.ts';
import { TfjsPeer } from '../bench/peers/tfjs.ts';
import { torchPython } from './helpers/torch.ts';

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-30, Math.abs(b));
const maxRel = (a: Float64Array, b: Float64Array): number => {
  let scale = 0;
  let worst = 0;
  for (let k = 0; k < b.length; k++) scale = Math.max(scale, Math.abs(b[k]));
  for (let k = 0; k < b.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / scale);
  return worst;
};

const ref = new CpuRefPeer();
const ort = new OrtPeer();
beforeAll(async () => {
  await ref.init();
  await ort.init();
}, 60_000);
afterAll(() => {
  ref.dispose();
  ort.dispose();
});

async function runOnce(p: Peer, id: string, phase: 'forward' | 'gradient', N = 24, T = 7) {
  const w = workload(id);
  const prepared = await p.prepare(workloadModel(w), workloadBatch(w, N, T), phase);
  try {
    return await prepared.run();
  } finally {
    prepared.dispose();
  }
}

describe('gated-cell workloads', () => {
  it('per-step costs follow the stated formulas for each cell', () => {
    const T = 64;
    const H = 64;
    for (const [id, g, b, e, s] of [
      ['h64', 1, 1, 1, 1],
      ['lstm64', 4, 2, 9, 2],
      ['gru64', 3, 2, 8, 1],
    ] as const) {
      const w = workload(id);
      expect(w.cell).toBe(id === 'h64' ? 'elman' : id.replace('64', ''));
      const fwd = stepCost(w, T, 'forward');
      expect(fwd.flops).toBeCloseTo(2 * g * H * (1 + H) + b * g * H + e * H + (2 * H + 3) / T, 9);
      const P = g * H + g * H * H + b * g * H + H + 1;
      const grad = stepCost(w, T, 'gradient');
      expect(grad.flops).toBeCloseTo(fwd.flops + 2 * g * H * (2 * H + 1) + b * g * H + e * H + (4 * H + 2) / T, 9);
      expect(grad.bytes).toBeCloseTo(8 + 8 * s * H + (8 + 4 * (P + 2)) / T, 9);
      expect(workloadModel(w).cell ?? 'elman').toBe(w.cell);
    }
  });

  it('bad workload names are refused, naming the known ones', () => {
    expect(() => workload('lstm')).toThrow(/--workloads.*lstm64, gru64, lstm64x2, gru64bi, h64x3.*lstm<H>/);
    expect(() => workload('h64x9')).toThrow(/at most 8 layers/);
  });

  it('network workloads: layers and directions in the model, and costs summed over them', () => {
    const w = workload('lstm64x2bi');
    expect(w).toMatchObject({ cell: 'lstm', hiddenSize: 64, numLayers: 2, bidirectional: true });
    const m = workloadModel(w);
    expect(m).toMatchObject({ cell: 'lstm', numLayers: 2, bidirectional: true });
    expect(m.weights.layers!.map((l) => [l.Wx.length, l.Wx[0].length])).toEqual([
      [256, 1],
      [256, 1],
      [256, 128],
      [256, 128],
    ]);
    expect([m.weights.Wy.length, m.weights.Wy[0].length]).toEqual([1, 128]);
    // One layer-direction of the first layer costs what lstm64 does, less the readout; the others read 2H inputs.
    const T = 32;
    const one = stepCost(workload('lstm64'), T, 'forward').flops - (2 * 64 + 3) / T;
    const upper = 2 * 4 * 64 * (128 + 64) + 2 * 4 * 64 + 9 * 64;
    expect(stepCost(w, T, 'forward').flops).toBeCloseTo(2 * one + 2 * upper + (2 * 128 + 3) / T, 9);
  });

  for (const id of ['lstm8', 'gru8', 'h8', 'lstm8x2', 'gru8bi', 'h8x3']) {
    it(`${id}: ONNX Runtime's forward SSR agrees with the CPU reference; it refuses gradients`, async () => {
      const [a, b] = [await runOnce(ort, id, 'forward'), await runOnce(ref, id, 'forward')];
      expect(a.loss).toBeGreaterThan(0);
      expect(relDiff(a.loss, b.loss)).toBeLessThan(1e-5);
      expect(a.strategy).toMatch(/^ONNX (LSTM|GRU|RNN) op, [12] threads?$/);
      expect(ort.unsupported(workloadModel(workload(id)), 'gradient')).toMatch(/inference only/);
    });
  }

  it('the tfjs peer says it runs Elman networks only', () => {
    const tfjs = new TfjsPeer('cpu', () => Promise.reject(new Error('not loaded')));
    expect(tfjs.unsupported(workloadModel(workload('lstm8')))).toMatch(/Elman networks/);
    expect(tfjs.unsupported(workloadModel(workload('h8')))).toBeNull();
  });
});

const python = torchPython('bench-cell-peers.test.ts', "PyTorch's gated-cell peer checks");
describe.skipIf(!python)("PyTorch's peer on gated cells", () => {
  const torch = new TorchPeer();
  beforeAll(async () => {
    process.env.WEBGPU_RNN_PYTHON ??= python!;
    await torch.init();
  }, 200_000);
  afterAll(() => torch.dispose());

  for (const id of ['lstm8', 'gru8', 'lstm8x2', 'gru8bi', 'h8x3', 'lstm8x2bi']) {
    const module = id.startsWith('lstm') ? 'LSTM' : id.startsWith('gru') ? 'GRU' : 'RNN';
    it(`${id}: nn.${module} gives the CPU reference's SSR and gradients`, async () => {
      for (const phase of ['forward', 'gradient'] as const) {
        const [a, b] = [await runOnce(torch, id, phase), await runOnce(ref, id, phase)];
        expect(relDiff(a.loss, b.loss)).toBeLessThan(1e-5);
        expect(a.strategy).toMatch(new RegExp(`^nn\\.${module}${/x|bi/.test(id) ? ' \\(\\d layers?' : ''}`));
        if (phase === 'gradient') {
          expect(a.grads!.length).toBe(b.grads!.length);
          expect(maxRel(a.grads!, b.grads!)).toBeLessThan(1e-4);
        }
      }
    }, 60_000);
  }
});
