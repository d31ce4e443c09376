// `webgpu-rnn bench --quick` as a smoke test: it completes, writes valid JSON and Markdown, and every peer that
// ran (CPU reference, tfjs cpu/wasm/webgpu, PyTorch where python3 has torch) agrees with our loss and gradients on
// the same weights and data. No timing assertions. Also: the probes' bookkeeping, the per-step cost formulas, the
// calibration's extrapolation, the targets' evaluation, a missing python3, and bad input (exit 2).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../src/cli/app.ts';
import { extrapolate, summarize } from '../src/benchmark/measure.ts';
import { evaluateTargets, type BenchReport, type CellResult } from '../src/benchmark/run.ts';
import { FMA_FLOPS_PER_ROUND } from '../src/benchmark/probes.ts';
import { adapterMismatch, knownPeak } from '../src/benchmark/adapters.ts';
import { stepCost, workload, workloadModel } from '../src/benchmark/workloads.ts';
import { gpuRequired } from './helpers/gpu.ts';
import { CLI } from './helpers/cli-process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench --quick', () => {
  const json = join(dir, 'quick.json');
  const md = join(dir, 'quick.md');
  const peers = ['cpu-ref', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu', 'torch-cpu', 'ort-cpu'];
  let report: BenchReport & { command: string };
  let run: ReturnType<typeof spawnSync>;

  it('completes and writes valid JSON with the machine, adapter and versions', () => {
    run = spawnSync(
      process.execPath,
      [...CLI, 'bench', '--quick', '--workloads', 'seed', '--budget', '4', '--json', json, '--markdown', md],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 150_000,
      },
    );
    expect(run.status, String(run.stderr)).toBe(0);
    report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport & { command: string };
    expect(report.schema).toBe('webgpu-rnn-bench/2');
    expect(report.config).toMatchObject({
      workloads: ['seed'],
      N: 1024,
      T: 16,
      quick: true,
      phases: ['forward', 'gradient'],
      adapter: 'auto',
    });
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
      // The FMA probe: FLOPs per dispatch are 256 per invocation and round; the reported size is the fastest tried.
      const f = report.probes.gpuFma!;
      expect(f, report.probes.gpuFmaError).toBeTruthy();
      expect(f.flops).toBe(f.invocations * f.iterations * FMA_FLOPS_PER_ROUND);
      expect(f.wallGflops.median).toBeGreaterThan(0);
      const rate = (p: { gpuGflops: { median: number } | null; wallGflops: { median: number } }) =>
        (p.gpuGflops ?? p.wallGflops).median;
      for (const t of f.tried) expect(rate(f)).toBeGreaterThanOrEqual(rate(t));
      // Every measured cell of ours: its rates ÷ the probes, and the strategy that ran.
      for (const c of report.results.filter((c) => c.peer === 'webgpu' && c.status === 'ok')) {
        expect(c.strategy).toBeTruthy();
        const copy = report.probes.gpuCopy!;
        expect(c.fractionOfFmaProbe).toBeCloseTo((c.gpuGflops ?? c.gflops)! / rate(f), 9);
        expect(c.fractionOfCopyProbe).toBeCloseTo((c.gpuGbps ?? c.gbps)! / (copy.gpuGBps ?? copy.wallGBps).median, 9);
        if (c.pipelineMilliseconds !== null) expect(c.pipelineMilliseconds).toBeGreaterThanOrEqual(0);
      }
      expect(report.targets.map((t) => t.group)).toEqual(
        expect.arrayContaining(['compute-bound', 'memory-bound', 'against peers', 'real GPU', 'compile time']),
      );
    }
    expect(String(run.stdout)).toContain('webgpu-rnn bench (quick)');
    expect(readFileSync(md, 'utf8')).toMatch(/\| workload \| work \| webgpu-rnn WebGPU \|/);
  }, 160_000);

  it('has a result for every peer and phase, and every peer agrees with our loss and gradients', () => {
    expect(report).toBeDefined();
    for (const id of peers) expect(report.peers.map((p) => p.id)).toContain(id);
    const running = report.peers.filter((p) => p.status === 'ok');
    expect(running.map((p) => p.id)).toEqual(expect.arrayContaining(['cpu-ref', 'tfjs-cpu']));
    for (const p of running) {
      for (const phase of ['forward', 'gradient'] as const) {
        const cell = report.results.find((c) => c.peer === p.id && c.phase === phase && c.workload === 'seed');
        expect(cell, `${p.id} ${phase}`).toBeDefined();
        if (p.id === 'ort-cpu' && phase === 'gradient') {
          expect(cell!.status).toBe('unsupported');
          expect(cell!.reason).toMatch(/inference only/);
          continue;
        }
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

  it('checks PyTorch on the CPU where python3 has torch, and says why not otherwise', (ctx) => {
    expect(report).toBeDefined();
    const torch = report.peers.find((p) => p.id === 'torch-cpu')!;
    if (torch.status === 'unavailable') {
      expect(torch.reason).toMatch(/python|torch/i);
      ctx.skip(`torch-cpu unavailable: ${torch.reason}`);
    }
    expect(torch.detail).toMatch(/^torch \d/);
    for (const phase of ['forward', 'gradient'] as const) {
      const cell = report.results.find((c) => c.peer === 'torch-cpu' && c.phase === phase)!;
      expect(cell.strategy).toMatch(/nn\.RNN, [12] threads?/);
      expect(cell.check?.ok, JSON.stringify(cell.check)).toBe(true);
    }
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
    expect(workloadModel(workload('seed')).weights).toEqual({
      Wx: [[1.8]],
      Wh: [[-0.5]],
      bh: [0],
      Wy: [[1.1]],
      by: [0],
    });
    expect(workloadModel(workload('h64'))).toEqual(workloadModel(workload('h64')));
    expect(workloadModel(workload('h64')).hiddenSize).toBe(64);
  });

  it('calibration extrapolates through fixed cost + cost per sequence', () => {
    expect(extrapolate([[16, 0.2]], 1024)).toBeCloseTo(12.8, 12);
    expect(
      extrapolate(
        [
          [16, 1.0],
          [128, 1.7],
        ],
        1024,
      ),
    ).toBeCloseTo(1.7 + (0.7 / 112) * 896, 12);
    expect(
      extrapolate(
        [
          [16, 1.0],
          [128, 0.9],
        ],
        1024,
      ),
    ).toBe(0.9);
    expect(summarize([3, 1, 2, 10])).toEqual({ median: 2.5, min: 1, max: 10, runs: 4 });
  });

  it('evaluates the targets: probe fractions, the fastest CPU peer, software adapters, compile time', () => {
    const cell = (
      workload: string,
      H: number,
      phase: 'forward' | 'gradient',
      peer: string,
      more: Partial<CellResult>,
    ): CellResult =>
      ({
        workload,
        hiddenSize: H,
        phase,
        peer,
        status: 'ok',
        stepsPerSecond: null,
        estimatedStepsPerSecond: null,
        gpuGbps: null,
        fractionOfFmaProbe: null,
        fractionOfPeakBandwidth: null,
        fractionOfPeakFlops: null,
        probeFractionsEstimated: false,
        pipelineMilliseconds: null,
        strategy: null,
        ...more,
      }) as CellResult;
    const report = {
      config: { workloads: ['seed', 'h64'], phases: ['forward', 'gradient'], N: 65_536, T: 64 },
      adapter: { software: true, peak: null },
      probes: {
        gpuCopy: { gpuGBps: { median: 2 }, wallGBps: { median: 1 } },
        gpuFma: { gpuGflops: { median: 10 }, wallGflops: { median: 9 } },
        cpuCopy: null,
      },
      results: [
        cell('seed', 1, 'forward', 'webgpu', { stepsPerSecond: 100, gpuGbps: 1.5, pipelineMilliseconds: 120 }),
        cell('seed', 1, 'forward', 'tfjs-cpu', { stepsPerSecond: 50 }),
        cell('seed', 1, 'forward', 'torch-cpu', { stepsPerSecond: 400 }),
        cell('seed', 1, 'forward', 'cpu-ref', { stepsPerSecond: 1000 }), // not a target peer
        cell('h64', 64, 'gradient', 'webgpu', {
          status: 'cut-off',
          estimatedStepsPerSecond: 30,
          fractionOfFmaProbe: 0.6,
          probeFractionsEstimated: true,
          pipelineMilliseconds: 2500,
        }),
        cell('h64', 64, 'gradient', 'tfjs-wasm', { stepsPerSecond: 20 }),
      ],
    } as unknown as BenchReport;
    const t = evaluateTargets(report);
    const find = (re: RegExp) => t.find((x) => re.test(x.target))!;
    expect(find(/H=64 forward\+gradient ≥ 50% of the adapter's FMA/)).toMatchObject({
      value: 0.6,
      met: true,
      estimated: true,
    });
    expect(find(/H=256 forward\+gradient ≥ 50%/)).toMatchObject({ value: null, met: null });
    expect(find(/H=1 forward ≥ 50% of the adapter's copy/)).toMatchObject({ value: 0.75, met: true });
    expect(find(/H=1 forward ≥ 1× the fastest/)).toMatchObject({ value: 0.25, against: 'torch-cpu', met: false });
    expect(find(/H=64 forward\+gradient ≥ 1× the fastest/)).toMatchObject({
      value: 1.5,
      against: 'tfjs-wasm',
      met: true,
      estimated: true,
    });
    expect(find(/H=16 forward ≥ 1×/).met).toBeNull();
    for (const x of t.filter((x) => x.group === 'real GPU'))
      expect(x).toMatchObject({ met: null, note: expect.stringMatching(/software adapter/) as unknown });
    expect(find(/every pipeline/)).toMatchObject({ value: 2500, met: false, workload: 'h64' });
    // With Mesa's on-disk shader cache on (lavapipe), pipeline times are not cold: no verdict, and the note says why.
    const warm = evaluateTargets({
      ...report,
      adapter: { software: true, peak: null, diskShaderCache: true },
    } as unknown as BenchReport);
    expect(warm.find((x) => /every pipeline/.test(x.target))).toMatchObject({
      value: 2500,
      met: null,
      note: expect.stringMatching(/MESA_SHADER_CACHE_DISABLE=true/) as unknown,
    });
  });

  it('matches known adapters, and not software ones', () => {
    const id = (description: string, vendor = 'nvidia') => ({ vendor, architecture: '', device: '', description });
    expect(knownPeak(id('NVIDIA H100 80GB HBM3'))?.bandwidthGBps).toBe(3350);
    expect(knownPeak(id('NVIDIA H100 PCIe'))?.bandwidthGBps).toBe(2000);
    expect(knownPeak(id('NVIDIA GeForce RTX 4090'))?.name).toMatch(/4090/);
    expect(knownPeak(id('SwiftShader Device (Subzero)', 'google'))).toBeNull();
    expect(adapterMismatch('swiftshader', id('SwiftShader Device (Subzero)', 'google'))).toBeNull();
    expect(adapterMismatch('lavapipe', id('SwiftShader Device (Subzero)', 'google'))).toMatch(/lavapipe/);
    expect(adapterMismatch('lavapipe', id('llvmpipe (LLVM 15.0.6, 256 bits)', 'mesa'))).toBeNull();
    expect(adapterMismatch('hardware', id('llvmpipe (LLVM 15.0.6, 256 bits)', 'mesa'))).toMatch(/hardware/);
    expect(adapterMismatch('hardware', id('NVIDIA H200'))).toBeNull();
  });

  it('reports torch-cpu unavailable, with the reason, when there is no such python, and the rest runs', () => {
    const run = spawnSync(
      process.execPath,
      [
        ...CLI,
        'bench',
        '--quick',
        '--workloads',
        'seed',
        '--n',
        '64',
        '--t',
        '4',
        '--peers',
        'cpu-ref,torch-cpu',
        '--budget',
        '2',
        '--json',
        join(dir, 'nopython.json'),
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, WEBGPU_RNN_PYTHON: join(dir, 'no-such-python3') },
      },
    );
    expect(run.status, String(run.stderr)).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, 'nopython.json'), 'utf8')) as BenchReport;
    const torch = r.peers.find((p) => p.id === 'torch-cpu')!;
    expect(torch.status).toBe('unavailable');
    expect(torch.reason).toMatch(/no-such-python3.*ENOENT|no python3 with torch/);
    expect(r.results.filter((c) => c.peer === 'cpu-ref' && c.check?.ok)).toHaveLength(2);
    expect(String(run.stderr)).toMatch(/torch-cpu: unavailable/);
  }, 70_000);
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
    [['--adapter', 'nvidia'], /--adapter/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} exits 2 with a clear message and nothing on stdout`, async () => {
      let out = '';
      let err = '';
      const io: CliIO = {
        out: (t) => {
          out += t;
          return Promise.resolve();
        },
        err: (t) => void (err += t),
        progress: false,
        debug: false,
      };
      const code = await runCli(['bench', ...args], io);
      expect(code).toBe(2);
      expect(err).toMatch(message);
      expect(out).toBe('');
    });
  }
});
