// `npm run bench:sweep`: forward and forward+BPTT sequence-steps/s over H × N × T for every
// registered kernel strategy, beside the CPU reference, with GFLOP/s and GB/s. Each cell has a time budget; slow
// cells are cut off and reported with their estimate. Options: --h 1,16,64,256 --n 1024,16384,262144
// --t 16,64,256 --budget <s per peer and cell> --repeats k --json F --markdown F --no-cpu; --from F.json prints
// the Markdown of an earlier run's JSON without running anything.

import { cellLine, fmtRate } from '../src/benchmark/format.ts';
import { fmtSeconds } from '../src/benchmark/measure.ts';
import { machineInfo, nodePeers, versions, writeTextAtomic } from '../src/benchmark/node-env.ts';
import { WebGpuPeer } from '../src/benchmark/peer.ts';
import { runBench, type BenchReport, type CellResult } from '../src/benchmark/run.ts';
import { readFileSync } from 'node:fs';
import { benchOptions, integer, number, positiveList } from './options.ts';
import { workload } from '../src/benchmark/workloads.ts';
import { STRATEGIES } from '../src/gpu/registry.ts';
import { STRATEGY_CHOICES, type StrategyChoice } from '../src/gpu/strategy.ts';

const opts = benchOptions<{
  h: number[];
  n: number[];
  t: number[];
  budget: number;
  repeats: number;
  json?: string;
  markdown?: string;
  cpu: boolean;
  from?: string;
}>('bench:sweep', 'sequence-steps/s over H × N × T for every registered strategy', (c) =>
  c
    .option('--h <list>', 'hidden sizes', positiveList, [1, 16, 64, 256])
    .option('--n <list>', 'sequences per batch', positiveList, [1024, 16384, 262144])
    .option('--t <list>', 'steps per sequence', positiveList, [16, 64, 256])
    .option('--budget <seconds>', 'seconds per peer and cell', number('positive'), 10)
    .option('--repeats <k>', 'timed repeats after the warm-up', integer(1), 3)
    .option('--json <file>', 'write every figure as JSON')
    .option('--markdown <file>', 'write the Markdown table')
    .option('--no-cpu', 'leave out the CPU reference')
    .option('--from <file>', "print the Markdown of an earlier run's JSON without running anything"),
);
const Hs = opts.h;
const Ns = opts.n;
const Ts = opts.t;
const budget = opts.budget;
const repeats = opts.repeats;
const registered = STRATEGIES.map((s) => s.name) as StrategyChoice[];
const withCpu = opts.cpu;
const from = opts.from ?? '';
type SweepReport = BenchReport & { strategiesMissing: string[]; seconds: number };
let report: SweepReport;
if (from) report = JSON.parse(readFileSync(from, 'utf8')) as SweepReport;
else {
  const missing = STRATEGY_CHOICES.filter((s) => s !== 'auto' && !registered.includes(s));
  const cpu = await nodePeers(withCpu ? ['cpu-ref'] : [], []);
  const peers = [...registered.map((s) => new WebGpuPeer(`webgpu:${s}`, s)), ...cpu.peers];
  const sizes: [number, number][] = Ns.flatMap((N) => Ts.map((T) => [N, T] as [number, number]));
  const started = performance.now();
  const r = await runBench(
    {
      workloads: Hs.map((H) => workload(H === 1 ? 'seed' : `h${H}`)),
      N: Ns[0],
      T: Ts[0],
      sizes,
      repeats,
      budgetSeconds: budget,
      noProbes: false,
    },
    peers,
    { machine: machineInfo(), versions: versions(), unavailable: cpu.unavailable },
    { onCell: (c) => console.error(`sweep: ${cellLine(c)}`), onNote: (t) => console.error(`sweep: ${t}`) },
  );
  report = { ...r, strategiesMissing: missing, seconds: (performance.now() - started) / 1000 };
}
const hasCpu = report.results.some((c) => c.peer === 'cpu-ref');
const sizesOf = (k: 0 | 1): string => [...new Set(report.config.sizes.map((x) => x[k]))].join(',');
const Hlist = [...new Set(report.results.map((c) => c.hiddenSize))].join(',');

const cellText = (c: CellResult | undefined): string => {
  if (!c) return '–';
  if (c.status === 'ok') return fmtRate(c.stepsPerSecond);
  if (c.status === 'cut-off') return `cut off (est. ${fmtRate(c.estimatedStepsPerSecond)})`;
  if (c.status === 'unsupported') return 'n/a';
  return c.status;
};
const num = (x: number | null): string =>
  x === null ? '–' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(2);
const rows: string[] = [];
rows.push(
  `| H | N | T | work | strategy | steps/s (wall) | steps/s (GPU time) | GFLOP/s | GB/s | CPU reference steps/s |`,
);
rows.push('|---|---|---|---|---|---|---|---|---|---|');
const notes = new Set<string>();
for (const c of report.results.filter((c) => c.peer.startsWith('webgpu'))) {
  const cpu = report.results.find(
    (x) => x.peer === 'cpu-ref' && x.workload === c.workload && x.N === c.N && x.T === c.T && x.phase === c.phase,
  );
  const strategy = c.peer.replace('webgpu:', '');
  if (c.status === 'unsupported') {
    notes.add(`${strategy} at H=${c.hiddenSize}: ${(c.reason ?? '').replace(/^strategy: /, '')}`);
    continue;
  }
  rows.push(
    `| ${c.hiddenSize} | ${c.N} | ${c.T} | ${c.phase} | ${strategy} | ${cellText(c)} | ${fmtRate(c.gpuStepsPerSecond)} | ${num(c.gpuGflops ?? c.gflops)} | ${num(c.gpuGbps ?? c.gbps)} | ${hasCpu ? cellText(cpu) : 'not run'} |`,
  );
}
const bad = report.results.filter((c) => c.check && !c.check.ok);
const registeredNames = [
  ...new Set(report.results.filter((c) => c.peer.startsWith('webgpu:')).map((c) => c.peer.slice(7))),
];
const md = [
  `Sweep of ${report.date.slice(0, 16).replace('T', ' ')} UTC: \`npm run bench:sweep -- --h ${Hlist} --n ${sizesOf(0)} --t ${sizesOf(1)} --budget ${report.config.budgetSeconds} --repeats ${report.config.repeats}\`, ` +
    `${report.seconds ? `${fmtSeconds(report.seconds)} in all. ` : ''}Machine: ${report.machine.cpu}, ${report.machine.cores} cores; adapter \`${report.adapter?.summary ?? 'none'}\`. ` +
    `Budget ${report.config.budgetSeconds} s per strategy (or CPU reference) and cell, its first run not counted; a cut-off cell shows the rate its calibration implies.`,
  '',
  ...rows,
  '',
  `Strategies: ${registeredNames.join(', ') || 'none'}.${report.strategiesMissing.length ? ` Not available in this build: ${report.strategiesMissing.join(', ')} (not registered in src/gpu/strategies).` : ''} Shapes a strategy cannot serve are left out of the table:`,
  ...[...notes].map((n) => `- ${n}`),
  '',
  bad.length
    ? `**Mismatch:** ${bad.map((c) => `${c.peer} H=${c.hiddenSize} N=${c.N} T=${c.T} ${c.phase}`).join('; ')}`
    : `Every strategy and the CPU reference agree with the first strategy that ran each shape, or with the CPU reference (${report.results.filter((c) => c.check).length} checks, loss and gradients within 1e-3 relative).`,
].join('\n');
console.log(md);
const json = opts.json ?? '';
if (json && !from) writeTextAtomic(json, JSON.stringify(report, null, 2) + '\n');
const mdFile = opts.markdown ?? '';
if (mdFile) writeTextAtomic(mdFile, md + '\n');
process.exit(bad.length ? 1 : 0);
