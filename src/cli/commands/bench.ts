// `webgpu-rnn bench`: our WebGPU engine against the CPU reference, TensorFlow.js (cpu, wasm, webgpu backends),
// PyTorch and ONNX Runtime on the CPU (dev-only peers) on the same workloads in one run, with GPU timestamps, the
// adapter's copy and multiply-add probes and the targets; writes the report as a terminal table, and optionally as
// JSON (--json) and as Markdown (--markdown). `--browser` runs the same benchmark in Chromium on SwiftShader, with
// the browser peers (tfjs, ONNX Runtime Web on WebGPU). See docs/benchmarks.md.

import { Command, Option } from 'commander';
import { formatMarkdown, formatText, cellLine } from '../../benchmark/format.ts';
import {
  machineInfo,
  nodePeers,
  parsePeers,
  PEER_IDS,
  selectAdapter,
  versions,
  writeTextAtomic,
} from '../../benchmark/node-env.ts';
import { ADAPTER_CHOICES, type AdapterChoice } from '../../benchmark/adapters.ts';
import { BROWSER_PEER_IDS } from '../../benchmark/browser.ts';
import { runBench, type BenchReport } from '../../benchmark/run.ts';
import { CELL_WORKLOAD_IDS, LAYER_WORKLOAD_IDS, parseWorkloads, WORKLOAD_IDS } from '../../benchmark/workloads.ts';
import { InputError } from '../../errors.ts';
import { STRATEGY_CHOICES, type StrategyChoice } from '../../gpu/strategy.ts';
import type { CliIO } from '../io.ts';
import { integer, number } from '../options.ts';

/** Option parser: an integer from 1 to max (the shared decimal parser). */
const positiveInt = (max = Number.MAX_SAFE_INTEGER): ((v: string) => number) => integer(1, max);

/** Option parser: seconds > 0 (the shared decimal parser). */
const positiveSeconds = number('positive');

interface BenchCliOptions {
  workloads?: string;
  n?: number;
  t?: number;
  repeats?: number;
  peers?: string;
  budget?: number;
  browser?: boolean;
  strategy: StrategyChoice;
  adapter: AdapterChoice;
  quick?: boolean;
  json?: string;
  markdown?: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('bench')
    .description(
      'benchmark: sequence-steps/s of forward and forward+BPTT on WebGPU against the CPU reference and TensorFlow.js, in one run',
    )
    .option(
      '--workloads <list>',
      `comma-separated: ${[...WORKLOAD_IDS, ...CELL_WORKLOAD_IDS, ...LAYER_WORKLOAD_IDS].join(', ')} (or h<H>, lstm<H>, gru<H>, with x<layers> and bi) (default: the first four; --quick: seed,h16)`,
    )
    .option('--n <sequences>', 'sequences per batch (default 65536; --quick: 1024)', positiveInt())
    .option('--t <steps>', 'steps per sequence (default 64; --quick: 16)', positiveInt(4096))
    .option(
      '--repeats <k>',
      'timed runs after the warm-up; the median is reported (default 5; --quick: 2)',
      positiveInt(1000),
    )
    .option(
      '--peers <list>',
      `comma-separated peers beside our WebGPU engine: ${PEER_IDS.join(', ')} (default: all); with --browser: ${BROWSER_PEER_IDS.join(', ')} (default: all)`,
    )
    .option(
      '--budget <seconds>',
      'time each peer may spend per workload and phase; slower ones are cut off and estimated (default 30; --quick: 5)',
      positiveSeconds,
    )
    .addOption(
      new Option('--strategy <name>', "our engine's kernel strategy").choices(STRATEGY_CHOICES).default('auto'),
    )
    .addOption(
      new Option(
        '--adapter <name>',
        'the WebGPU adapter: auto, swiftshader, lavapipe or hardware (the run stops if another one comes)',
      )
        .choices(ADAPTER_CHOICES)
        .default('auto'),
    )
    .option('--quick', 'a smoke test that runs in seconds (small sizes; no timing claims)')
    .option(
      '--browser',
      'run in Chromium (WebGPU on SwiftShader) with the browser peers; from the sources only (npm run bench -- --browser)',
    )
    .option('--json <file>', 'write every figure, the machine, adapter and versions as JSON')
    .option('--markdown <file>', 'write the report as Markdown (tables with ratios, as in docs/benchmark-reports/)')
    .action(async (o: BenchCliOptions) => {
      const quick = !!o.quick;
      const workloads = parseWorkloads(o.workloads ?? (quick ? 'seed,h16' : WORKLOAD_IDS.join(',')));
      if (o.browser)
        return benchInBrowser(
          o,
          workloads.map((w) => w.id),
          quick,
          io,
        );
      const peerIds = parsePeers(o.peers ?? PEER_IDS.join(','));
      const config = {
        workloads,
        N: o.n ?? (quick ? 1024 : 65_536),
        T: o.t ?? (quick ? 16 : 64),
        repeats: o.repeats ?? (quick ? 2 : 5),
        budgetSeconds: o.budget ?? (quick ? 5 : 30),
        quick,
        adapter: o.adapter,
      };
      const selected = selectAdapter(o.adapter);
      if (selected) io.err(`bench: --adapter ${o.adapter}: ${selected}\n`);
      const { peers, unavailable } = await nodePeers(peerIds, [o.strategy]);
      for (const p of unavailable) io.err(`bench: ${p.id}: unavailable: ${p.reason}\n`);
      const report = await runBench(
        config,
        peers,
        { machine: machineInfo(), versions: versions(), unavailable },
        {
          onCell: (c) => io.err(`bench: ${cellLine(c)}\n`),
          onNote: (t) => io.err(`bench: ${t}\n`),
        },
      );
      const command = [
        'npx webgpu-rnn bench',
        `--workloads ${report.config.workloads.join(',')}`,
        `--n ${config.N} --t ${config.T} --repeats ${config.repeats} --budget ${config.budgetSeconds}`,
        `--peers ${peerIds.join(',') || 'none'}`,
        o.strategy !== 'auto' ? `--strategy ${o.strategy}` : '',
        o.adapter !== 'auto' ? `--adapter ${o.adapter}` : '',
        quick ? '--quick' : '',
      ]
        .filter(Boolean)
        .join(' ');
      if (o.json) writeTextAtomic(o.json, JSON.stringify({ ...report, command }, null, 2) + '\n');
      if (o.markdown) writeTextAtomic(o.markdown, formatMarkdown(report, command));
      await io.out(formatText(report));
    });
}

/** `bench --browser`: the benchmark page in Chromium on SwiftShader (bench/browser-run.ts, dev-only). */
async function benchInBrowser(o: BenchCliOptions, workloads: string[], quick: boolean, io: CliIO): Promise<void> {
  if (o.adapter !== 'auto' && o.adapter !== 'swiftshader')
    throw new InputError('--adapter', `--browser runs on Chromium's SwiftShader; got ${o.adapter}`);
  if (o.strategy !== 'auto') throw new InputError('--strategy', "--browser runs the engine's own choice (auto)");
  const peers = parsePeers(o.peers ?? BROWSER_PEER_IDS.join(','), BROWSER_PEER_IDS, 'browser ');
  const req = {
    workloads,
    N: o.n ?? (quick ? 1024 : 16_384),
    T: o.t ?? (quick ? 16 : 64),
    repeats: o.repeats ?? (quick ? 2 : 3),
    budgetSeconds: o.budget ?? (quick ? 5 : 10),
    peers,
  };
  type Run = (
    r: typeof req,
    onLine: (line: string) => void,
  ) => Promise<{ report: BenchReport; text: string; markdown: string }>;
  let run: Run;
  try {
    const path = '../../../bench/browser-run.ts';
    // dev-only file: typed here, not imported, so the library build leaves it out
    run = ((await import(/* @vite-ignore */ path)) as { runInChromium: Run }).runInChromium;
  } catch (e) {
    throw new InputError(
      '--browser',
      `runs from the sources only (npm run bench -- --browser): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const result = await run(req, (line) => io.err(`bench: ${line}\n`));
  const command = [
    'npx webgpu-rnn bench --browser',
    `--workloads ${workloads.join(',')}`,
    `--n ${req.N} --t ${req.T} --repeats ${req.repeats} --budget ${req.budgetSeconds}`,
    `--peers ${peers.join(',') || 'none'}`,
    quick ? '--quick' : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (o.json) writeTextAtomic(o.json, JSON.stringify({ ...result.report, command }, null, 2) + '\n');
  if (o.markdown) writeTextAtomic(o.markdown, formatMarkdown(result.report, command));
  await io.out(result.text);
}
