// `npm run bench:sweep` (issue 3, item 8): forward and forward+BPTT sequence-steps/s over H × N × T for every
// registered kernel strategy, beside the CPU reference, with GFLOP/s and GB/s. Each cell has a time budget; slow
// cells are cut off and reported with their estimate. Options: --h 1,16,64,256 --n 1024,16384,262144
// --t 16,64,256 --budget <s per peer and cell> --repeats k --json F --markdown F --no-cpu

import { cellLine, fmtRate } from '../src/bench/format.ts';
import { fmtSeconds } from '../src/bench/measure.ts';
import { machineInfo, nodePeers, versions, writeTextAtomic } from '../src/bench/node-env.ts';
import { WebGpuPeer } from '../src/bench/peer.ts';
import { runBench, type CellResult } from '../src/bench/run.ts';
import { workload } from '../src/bench/workloads.ts';
import { STRATEGIES } from '../src/gpu/strategies/index.ts';
import { STRATEGY_CHOICES, type StrategyChoice } from '../src/gpu/strategy.ts';

function arg(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? process.argv[k + 1] : def;
}
function list(name: string, def: string): number[] {
  const xs = arg(name, def).split(',').map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) {
    console.error(`bench:sweep: --${name} must list positive integers, got "${arg(name, def)}"`);
    process.exit(2);
  }
  return xs;
}

const Hs = list('h', '1,16,64,256');
const Ns = list('n', '1024,16384,262144');
const Ts = list('t', '16,64,256');
const budget = Number(arg('budget', '10'));
const repeats = Number(arg('repeats', '3'));
if (!(budget > 0) || !Number.isInteger(repeats) || repeats < 1) {
  console.error('bench:sweep: --budget must be positive seconds and --repeats a positive integer');
  process.exit(2);
}
const registered = STRATEGIES.map((s) => s.name) as StrategyChoice[];
const missing = STRATEGY_CHOICES.filter((s) => s !== 'auto' && !registered.includes(s));
const withCpu = !process.argv.includes('--no-cpu');

const cpu = await nodePeers(withCpu ? ['cpu-ref'] : [], []);
const peers = [...registered.map((s) => new WebGpuPeer(`webgpu:${s}`, s)), ...cpu.peers];
const unavailable = cpu.unavailable;
const sizes: [number, number][] = Ns.flatMap((N) => Ts.map((T) => [N, T] as [number, number]));
const started = performance.now();
const report = await runBench(
  { workloads: Hs.map((H) => workload(H === 1 ? 'seed' : `h${H}`)), N: Ns[0], T: Ts[0], sizes, repeats, budgetSeconds: budget, noProbes: false },
  peers,
  { machine: machineInfo(), versions: versions(), unavailable },
  { onCell: (c) => console.error(`sweep: ${cellLine(c)}`), onNote: (t) => console.error(`sweep: ${t}`) },
);

const cellText = (c: CellResult | undefined): string => {
  if (!c) return '–';
  if (c.status === 'ok') return fmtRate(c.stepsPerSecond);
  if (c.status === 'cut-off') return `cut off (est. ${fmtRate(c.estimatedStepsPerSecond)})`;
  if (c.status === 'unsupported') return 'n/a';
  return c.status;
};
const rows: string[] = [];
rows.push(`| H | N | T | work | strategy | steps/s (wall) | steps/s (GPU time) | GFLOP/s | GB/s | CPU reference steps/s |`);
rows.push('|---|---|---|---|---|---|---|---|---|---|');
const notes = new Set<string>();
for (const c of report.results.filter((c) => c.peer.startsWith('webgpu'))) {
  const cpu = report.results.find((x) => x.peer === 'cpu-ref' && x.workload === c.workload && x.N === c.N && x.T === c.T && x.phase === c.phase);
  if (c.status === 'unsupported' && c.reason) notes.add(`${c.peer.replace('webgpu:', '')} at H=${c.hiddenSize}: ${c.reason}`);
  rows.push(
    `| ${c.hiddenSize} | ${c.N} | ${c.T} | ${c.phase} | ${c.peer.replace('webgpu:', '')} | ${cellText(c)} | ${fmtRate(c.gpuStepsPerSecond)} | ${c.gpuGflops?.toFixed(2) ?? c.gflops?.toFixed(2) ?? '–'} | ${c.gpuGbps?.toFixed(2) ?? c.gbps?.toFixed(2) ?? '–'} | ${withCpu ? cellText(cpu) : 'not run'} |`,
  );
}
const bad = report.results.filter((c) => c.check && !c.check.ok);
const md = [
  `Sweep of ${new Date(report.date).toISOString().slice(0, 16).replace('T', ' ')} UTC: \`npm run bench:sweep -- --h ${Hs.join(',')} --n ${Ns.join(',')} --t ${Ts.join(',')} --budget ${budget} --repeats ${repeats}\`, ` +
    `${fmtSeconds((performance.now() - started) / 1000)} in all. Machine: ${report.machine.cpu}, ${report.machine.cores} cores; adapter \`${report.adapter?.summary ?? 'none'}\`. ` +
    `Budget ${budget} s per strategy (or CPU reference) and cell; a cut-off cell shows the rate its calibration implies.`,
  '',
  ...rows,
  '',
  `Strategies registered: ${registered.join(', ') || 'none'}.${missing.length ? ` Not available in this build: ${missing.join(', ')} (not registered in src/gpu/strategies).` : ''}`,
  ...[...notes].map((n) => `- ${n}`),
  bad.length ? `**Mismatch:** ${bad.map((c) => `${c.peer} H=${c.hiddenSize} N=${c.N} T=${c.T} ${c.phase}`).join('; ')}` : `Every strategy and the CPU reference agree with the first strategy's loss and gradients (${report.results.filter((c) => c.check).length} checks).`,
].join('\n');
console.log(md);
const json = arg('json', '');
if (json) writeTextAtomic(json, JSON.stringify({ ...report, strategiesMissing: missing }, null, 2) + '\n');
const mdFile = arg('markdown', '');
if (mdFile) writeTextAtomic(mdFile, md + '\n');
process.exit(bad.length ? 1 : 0);
