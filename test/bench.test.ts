// `webgpu-rnn bench --quick` as a smoke test: it completes, writes valid JSON and Markdown, and every peer that
// ran (CPU reference, tfjs cpu/wasm/webgpu) agrees with our loss and gradients on the same weights and data.
// No timing assertions. Also: the per-step cost formulas, the calibration's extrapolation, and bad input (exit 2).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/app.ts';
import { extrapolate, summarize } from '../src/bench/measure.ts';
import type { BenchReport } from '../src/bench/run.ts';
import { knownPeak } from '../src/bench/adapters.ts';
import { stepCost, workload, workloadModel } from '../src/bench/workloads.ts';
import { gpuRequired } from './helpers/gpu.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench --quick', () => {
  const json = join(dir, 'quick.json');
  const md = join(dir, 'quick.md');
  const peers = ['cpu-ref', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu'];
  let report: BenchReport & { command: string };
  let run: ReturnType<typeof spawnSync>;

  it('completes and writes valid JSON with the machine, adapter and versions', () => {
    run = spawnSync(process.execPath, ['bin/webgpu-rnn.js', 'bench', '--quick', '--workloads', 'seed', '--budget', '4', '--json', json, '--markdown', md], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, String(run.stderr)).toBe(0);
    report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.schema).toBe('webgpu-rnn-bench/1');
    expect(report.config).toMatchObject({ workloads: ['seed'], N: 1024, T: 16, quick: true, phases: ['forward', 'gradient'] });
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(typeof report.machine.cpu).toBe('string');
    expect(report.versions.node).toBe(process.version);
    expect(report.versions['@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.command).toContain('webgpu-rnn bench');
    const ours = report.peers.find((p) => p.id === 'webgpu')!;
    if (ours.status === 'unavailable') expect(gpuRequired, `no WebGPU: ${ours.reason}`).toBe(false);
    else {
      expect(report.adapter?.summary).toBe(ours.detail);
      expect(report.probes.gpuCopy?.wallGBps.median).toBeGreaterThan(0);
    }
    expect(String(run.stdout)).toContain('webgpu-rnn bench (quick)');
    expect(readFileSync(md, 'utf8')).toMatch(/\| workload \| work \| webgpu-rnn WebGPU \|/);
  }, 70_000);

  it('has a result for every peer and phase, and every peer agrees with our loss and gradients', () => {
    expect(report).toBeDefined();
    for (const id of peers) expect(report.peers.map((p) => p.id)).toContain(id);
    const running = report.peers.filter((p) => p.status === 'ok');
    expect(running.map((p) => p.id)).toEqual(expect.arrayContaining(['cpu-ref', 'tfjs-cpu']));
    for (const p of running) {
      for (const phase of ['forward', 'gradient'] as const) {
        const cell = report.results.find((c) => c.peer === p.id && c.phase === phase && c.workload === 'seed');
        expect(cell, `${p.id} ${phase}`).toBeDefined();
        expect(['ok', 'cut-off'], `${p.id} ${phase}: ${cell!.reason}`).toContain(cell!.status);
        expect(cell!.flopsPerStep).toBeCloseTo(stepCost(workload('seed'), 16, phase).flops, 12);
        if (cell!.status === 'ok') {
          expect(cell!.wallSeconds!.median).toBeGreaterThan(0);
          expect(cell!.stepsPerSecond).toBeCloseTo((1024 * 16) / cell!.wallSeconds!.median, 6);
        } else expect(cell!.estimatedStepsPerSecond).toBeGreaterThan(0);
        if (p.id === 'webgpu') continue;
        // Each peer is checked against ours (or the CPU reference without WebGPU), at full size or its calibration size.
        expect(cell!.check, `${p.id} ${phase} has no check`).not.toBeNull();
        expect(cell!.check!.ok, `${p.id} ${phase}: ${JSON.stringify(cell!.check)}`).toBe(true);
        expect(cell!.check!.lossRelDiff).toBeLessThan(1e-3);
        if (phase === 'gradient') expect(cell!.check!.gradsRelDiff).toBeLessThan(1e-3);
        else expect(cell!.check!.gradsRelDiff).toBeNull();
      }
    }
    // A peer that did not load says why.
    for (const p of report.peers.filter((p) => p.status === 'unavailable')) expect(p.reason).toBeTruthy();
  });
});

describe('bench building blocks', () => {
  it('per-step costs follow the stated formulas', () => {
    const w = workload('h16'); // I = O = 1, H = 16
    const T = 64;
    const fwd = stepCost(w, T, 'forward');
    expect(fwd.flops).toBeCloseTo(2 * 16 * 17 + 32 + (32 + 3) / T, 12);
    expect(fwd.bytes).toBeCloseTo(4 + 16 / T, 12);
    const P = 16 + 256 + 16 + 16 + 1;
    const g = stepCost(w, T, 'gradient');
    expect(g.flops).toBeCloseTo(fwd.flops + 2 * 16 * 33 + 32 + 66 / T, 12);
    expect(g.bytes).toBeCloseTo(8 + 128 + (8 + 4 * (P + 2)) / T, 12);
  });

  it('the seed workload is the notes network, and larger workloads are seeded', () => {
    expect(workloadModel(workload('seed')).weights).toEqual({ Wx: [[1.8]], Wh: [[-0.5]], bh: [0], Wy: [[1.1]], by: [0] });
    expect(workloadModel(workload('h64'))).toEqual(workloadModel(workload('h64')));
    expect(workloadModel(workload('h64')).hiddenSize).toBe(64);
  });

  it('calibration extrapolates through fixed cost + cost per sequence', () => {
    expect(extrapolate([[16, 0.2]], 1024)).toBeCloseTo(12.8, 12);
    expect(extrapolate([[16, 1.0], [128, 1.7]], 1024)).toBeCloseTo(1.7 + (0.7 / 112) * 896, 12);
    expect(extrapolate([[16, 1.0], [128, 0.9]], 1024)).toBe(0.9);
    expect(summarize([3, 1, 2, 10])).toEqual({ median: 2.5, min: 1, max: 10, runs: 4 });
  });

  it('matches known adapters, and not software ones', () => {
    const id = (description: string, vendor = 'nvidia') => ({ vendor, architecture: '', device: '', description });
    expect(knownPeak(id('NVIDIA H100 80GB HBM3'))?.bandwidthGBps).toBe(3350);
    expect(knownPeak(id('NVIDIA H100 PCIe'))?.bandwidthGBps).toBe(2000);
    expect(knownPeak(id('NVIDIA GeForce RTX 4090'))?.name).toMatch(/4090/);
    expect(knownPeak(id('SwiftShader Device (Subzero)', 'google'))).toBeNull();
  });
});

describe('bench bad input', () => {
  const cases: [string[], RegExp][] = [
    [['--peers', 'tfjs-foo'], /unknown peer "tfjs-foo"/],
    [['--workloads', 'seed,h0'], /unknown workload "h0"/],
    [['--workloads', 'bogus'], /unknown workload "bogus"/],
    [['--n', '0'], /--n/],
    [['--t', '-3'], /--t/],
    [['--repeats', '1.5'], /--repeats/],
    [['--budget', '0'], /--budget/],
    [['--strategy', 'nonsense'], /--strategy/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} exits 2 with a clear message and nothing on stdout`, async () => {
      let out = '';
      let err = '';
      const io: CliIO = { out: async (t) => void (out += t), err: (t) => void (err += t), progress: false, debug: false };
      const code = await runCli(['bench', ...args], io);
      expect(code).toBe(2);
      expect(err).toMatch(message);
      expect(out).toBe('');
    });
  }
});
