// Re-renders a saved `webgpu-rnn bench --json` report with the current formatter: the targets are evaluated again
// from the stored cells and probes, and the Markdown (and with --text, the terminal table) is written. No figure
// is measured again. Usage: tsx bench/render-report.ts REPORT.json [--markdown FILE] [--text]

import { readFileSync } from 'node:fs';
import { formatMarkdown, formatText } from '../src/benchmark/format.ts';
import { writeTextAtomic } from '../src/benchmark/node-env.ts';
import { evaluateTargets, REPORT_SCHEMA, type BenchReport } from '../src/benchmark/run.ts';

const args = process.argv.slice(2);
const file = args[0];
if (!file || file.startsWith('--')) {
  process.stderr.write('usage: tsx bench/render-report.ts REPORT.json [--markdown FILE] [--text]\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport & { command?: string };
if (report.schema !== REPORT_SCHEMA) {
  process.stderr.write(`render-report: ${file}: schema ${report.schema}, expected ${REPORT_SCHEMA}\n`);
  process.exit(2);
}
report.targets = evaluateTargets(report);
const k = args.indexOf('--markdown');
const md = formatMarkdown(report, report.command ?? 'webgpu-rnn bench');
if (k >= 0) {
  if (!args[k + 1]) {
    process.stderr.write('render-report: --markdown needs a file\n');
    process.exit(2);
  }
  writeTextAtomic(args[k + 1], md);
}
process.stdout.write(args.includes('--text') ? formatText(report) : k >= 0 ? '' : md);
