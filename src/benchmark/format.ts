// Text output of a benchmark report (browser-safe): the terminal table and a Markdown section for the docs with
// the ratio of our rate to each peer's, the checks, every cell's share of the adapter's probes, the strategy and
// pipeline creation time per cell, and the targets (met / missed / not measurable, with the figure).

import { fmtSeconds } from './measure.ts';
import { ratioTo, targetValueText, type BenchReport, type CellResult, type TargetCheck } from './run.ts';
import { PHASE_LABEL, workload } from './workloads.ts';

export function fmtRate(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '–';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e8 ? 0 : 2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)} k`;
  return x.toFixed(x >= 10 ? 0 : 2);
}

function fmtNum(x: number | null, digits = 2): string {
  if (x === null || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(digits);
  return x.toPrecision(digits);
}

export function fmtRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '–';
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function workloadName(c: CellResult): string {
  if (c.workload === 'seed') return 'seed (H=1)';
  const w = workload(c.workload);
  const cell = w.cell === 'elman' ? '' : `${w.cell.toUpperCase()} `;
  return `${cell}H=${c.hiddenSize}${w.numLayers > 1 ? ` ×${w.numLayers}` : ''}${w.bidirectional ? ' bi' : ''}`;
}

function checkText(c: CellResult): string {
  if (!c.check) return '';
  const k = c.check;
  const grads = k.gradsRelDiff === null ? '' : `, grads ${k.gradsRelDiff.toExponential(1)}`;
  return `${k.ok ? 'agrees' : 'MISMATCH'} (loss ${k.lossRelDiff.toExponential(1)}${grads} rel. vs ${k.against}${k.N !== c.N ? ` at N=${k.N}` : ''})`;
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((s, i) => (s ?? '').padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function statusText(c: CellResult): string {
  if (c.status === 'ok') return 'ok';
  if (c.status === 'cut-off') {
    const first = c.firstRunSeconds ? ` (+ first run ${fmtSeconds(c.firstRunSeconds)}, not counted)` : '';
    return `cut off after ${fmtSeconds(c.elapsedSeconds - (c.firstRunSeconds ?? 0))}${first}: ${c.reason}`;
  }
  return `${c.status}: ${c.reason ?? ''}`;
}

/** One line per measured cell, e.g. for progress output. */
export function cellLine(c: CellResult): string {
  const rate =
    c.stepsPerSecond !== null
      ? `${fmtRate(c.stepsPerSecond)} steps/s`
      : c.estimatedStepsPerSecond !== null
        ? `≈${fmtRate(c.estimatedStepsPerSecond)} steps/s (estimate)`
        : '';
  const gpu = c.gpuStepsPerSecond !== null ? `, GPU ${fmtRate(c.gpuStepsPerSecond)} steps/s` : '';
  return `${workloadName(c)} ${c.phase} N=${c.N} T=${c.T} ${c.peer}: ${c.status === 'ok' ? rate + gpu : statusText(c)}${c.check ? ' ' + checkText(c) : ''}`;
}

/** The terminal report. */
export function formatText(r: BenchReport): string {
  const out: string[] = [];
  out.push(
    `webgpu-rnn bench ${r.config.quick ? '(quick) ' : ''}— N=${r.config.N} sequences × T=${r.config.T} steps, median of up to ${r.config.repeats} runs after a warm-up, budget ${r.config.budgetSeconds} s per peer and cell`,
  );
  out.push(
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores${r.machine.memoryBytes ? `, ${(r.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB` : ''}, ${r.machine.platform}`,
  );
  out.push(
    `adapter: ${r.adapter ? `${r.adapter.summary}${r.adapter.software ? ' — a CPU (software) adapter' : ''}; timestamp-query ${r.adapter.timestampQuery ? 'yes' : 'no'}` : 'none'}`,
  );
  out.push(
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  for (const p of r.peers) if (p.status === 'unavailable') out.push(`peer ${p.id}: unavailable: ${p.reason}`);
  out.push('');
  const rows: string[][] = [
    [
      'workload',
      'work',
      'peer',
      'median',
      'min–max',
      'steps/s',
      'GPU-time steps/s',
      'GFLOP/s',
      'GB/s',
      'of FMA',
      'of copy',
      'strategy',
      'pipelines',
      'webgpu ÷ peer',
      'check / status',
    ],
  ];
  for (const c of r.results) {
    const ratio = c.peer === 'webgpu' ? { ratio: null, estimated: false } : ratioTo(r, c.workload, c.phase, c.peer);
    rows.push([
      workloadName(c),
      c.phase,
      c.peer,
      c.wallSeconds ? fmtSeconds(c.wallSeconds.median) : '–',
      c.wallSeconds ? `${fmtSeconds(c.wallSeconds.min)}–${fmtSeconds(c.wallSeconds.max)} (${c.wallSeconds.runs})` : '–',
      c.stepsPerSecond !== null
        ? fmtRate(c.stepsPerSecond)
        : c.estimatedStepsPerSecond !== null
          ? `≈${fmtRate(c.estimatedStepsPerSecond)}`
          : '–',
      fmtRate(c.gpuStepsPerSecond),
      fmtNum(c.gpuGflops ?? c.gflops),
      fmtNum(c.gpuGbps ?? c.gbps),
      fmtFraction(c.fractionOfFmaProbe, c.probeFractionsEstimated),
      fmtFraction(c.fractionOfCopyProbe, c.probeFractionsEstimated),
      c.strategy ?? '–',
      fmtMs(c.pipelineMilliseconds),
      ratio.ratio === null ? '' : `${ratio.estimated ? '≈' : ''}${fmtRatio(ratio.ratio)}`,
      c.status === 'ok' ? checkText(c) : statusText(c),
    ]);
  }
  out.push(pad(rows));
  out.push('');
  out.push(
    'Wall time: host packing, upload, compute and readback. GPU time: timestamp queries around the compute passes.',
  );
  out.push('GFLOP/s and GB/s use GPU time where there is one, else wall time (torch-cpu: its own timing in Python);');
  out.push("'of FMA' / 'of copy': that rate ÷ the adapter's multiply-add / copy probe (≈: a cut-off cell's estimate);");
  out.push(
    "'pipelines': pipeline creation time of the cell's cold run (– where the engine does not report it). Per step:",
  );
  for (const f of r.formulas) out.push(`  ${f}`);
  out.push(probeText(r));
  if (r.targets.length) {
    out.push('');
    out.push(
      `Targets${r.targets[0].atTargetSize ? '' : ` (this run: N=${r.config.N}, T=${r.config.T}; the targets are for N=65536, T=64)`}:`,
    );
    for (const t of r.targets)
      out.push(
        `  ${targetStatus(t.met)} ${t.group}: ${t.target}: ${targetValueText(t)}${t.against ? ` of ${t.against}` : ''}${t.note ? ` — ${t.note}` : ''}`,
      );
  }
  const bad = r.results.filter((c) => c.check && !c.check.ok);
  if (bad.length) {
    out.push('');
    out.push(
      `LOSS/GRADIENT MISMATCH: ${bad.map((c) => `${c.peer} on ${c.workload} ${c.phase}`).join('; ')} — these peers did not compute the same thing as ours`,
    );
  }
  return out.join('\n') + '\n';
}

function fmtFraction(x: number | null, estimated = false): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return `${estimated ? '≈' : ''}${(100 * x).toFixed(x < 0.001 ? 3 : x < 0.01 ? 2 : 1)}%`;
}

function fmtMs(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) ? '–' : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}

function targetResult(t: TargetCheck): string {
  return t.met === null ? 'not measurable' : t.met ? 'met' : 'missed';
}

function targetStatus(met: boolean | null): string {
  return met === null ? '[n/a] ' : met ? '[met] ' : '[miss]';
}

function probeText(r: BenchReport): string {
  const lines: string[] = [];
  const g = r.probes.gpuCopy;
  if (g)
    lines.push(
      `GPU copy probe (${(g.bytes / 2 ** 20).toFixed(0)} MiB, read + write): ${g.gpuGBps ? `${fmtNum(g.gpuGBps.median)} GB/s GPU time, ` : ''}${fmtNum(g.wallGBps.median)} GB/s wall`,
    );
  if (r.probes.gpuCopyError) lines.push(`GPU copy probe failed: ${r.probes.gpuCopyError}`);
  const f = r.probes.gpuFma;
  if (f)
    lines.push(
      `GPU FMA probe (vec4 multiply-adds from registers, best of ${f.tried.map((t) => t.invocations).join(', ')} invocations: ${f.invocations} × ${f.iterations} rounds): ${f.gpuGflops ? `${fmtNum(f.gpuGflops.median)} GFLOP/s GPU time, ` : ''}${fmtNum(f.wallGflops.median)} GFLOP/s wall`,
    );
  if (r.probes.gpuFmaError) lines.push(`GPU FMA probe failed: ${r.probes.gpuFmaError}`);
  const c = r.probes.cpuCopy;
  if (c)
    lines.push(
      `CPU copy probe (JS TypedArray.set, ${(c.bytes / 2 ** 20).toFixed(0)} MiB, read + write): ${fmtNum(c.GBps.median)} GB/s`,
    );
  const peak = r.adapter?.peak;
  lines.push(
    peak
      ? `adapter peak (data sheet): ${peak.name}, ${peak.bandwidthGBps} GB/s, ${peak.fp32Gflops / 1000} TFLOP/s FP32`
      : r.adapter?.software
        ? 'adapter peak: none — a software adapter runs on the CPU, whose limits are the probes above'
        : 'adapter peak: not in the table of known adapters',
  );
  return lines.join('\n');
}

/** The Markdown report (as in docs/benchmark-reports/): the rates with ratios, the checks, the hardware figures, the targets. */
export function formatMarkdown(r: BenchReport, command: string): string {
  const out: string[] = [];
  const peers = r.peers.filter((p) => p.id !== 'webgpu');
  const date = r.date.replace('T', ' ').slice(0, 16) + ' UTC';
  out.push(
    `Measured ${date} with \`${command}\`: N = ${r.config.N.toLocaleString('en-US')} sequences × T = ${r.config.T} steps, I = O = 1, output \`last\`, median of up to ${r.config.repeats} runs after a warm-up.`,
  );
  out.push(
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores${r.machine.memoryBytes ? `, ${(r.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB` : ''}. Adapter: \`${r.adapter?.summary ?? 'none'}\`${r.adapter?.software ? ' (a CPU Vulkan driver: no real GPU)' : ''}${r.adapter?.diskShaderCache === true ? ", Mesa's on-disk shader cache on" : r.adapter?.diskShaderCache === false ? ", Mesa's on-disk shader cache off (pipelines compiled cold)" : ''}. ${Object.entries(
      r.versions,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  out.push('');
  out.push(
    `Sequence-steps per second (wall time, including upload and readback); in parentheses webgpu-rnn's rate ÷ the peer's:`,
  );
  out.push('');
  out.push(`| workload | work | webgpu-rnn WebGPU | GPU time only | ${peers.map((p) => p.id).join(' | ')} |`);
  out.push(`|---|---|---|---|${peers.map(() => '---|').join('')}`);
  const keys = [...new Set(r.results.map((c) => `${c.workload}|${c.phase}`))];
  for (const key of keys) {
    const [workload, phase] = key.split('|');
    const cells = r.results.filter((c) => c.workload === workload && c.phase === phase);
    const ours = cells.find((c) => c.peer === 'webgpu');
    const first = cells[0];
    const cell = (c: CellResult | undefined, withRatio: boolean): string => {
      if (!c) return 'not run';
      if (c.status === 'ok') {
        const { ratio, estimated } = withRatio
          ? ratioTo(r, workload, c.phase, c.peer)
          : { ratio: null, estimated: false };
        const bad = c.check && !c.check.ok ? ' **loss mismatch**' : '';
        return `${fmtRate(c.stepsPerSecond)}${ratio !== null ? ` (${estimated ? '≈' : ''}${fmtRatio(ratio)})` : ''}${bad}`;
      }
      if (c.status === 'cut-off') {
        const { ratio } = withRatio ? ratioTo(r, workload, c.phase, c.peer) : { ratio: null };
        return `cut off after ${fmtSeconds(c.elapsedSeconds - (c.firstRunSeconds ?? 0))}, est. ${fmtRate(c.estimatedStepsPerSecond)}${ratio !== null ? ` (≈${fmtRatio(ratio)})` : ''}`;
      }
      return c.status === 'unsupported' ? 'n/a (H too large)' : c.status;
    };
    out.push(
      `| ${workloadName(first)} | ${PHASE_LABEL[first.phase]} | ${cell(ours, false)} | ${ours?.gpuStepsPerSecond ? fmtRate(ours.gpuStepsPerSecond) : '–'} | ${peers
        .map((p) =>
          p.status === 'unavailable'
            ? 'unavailable'
            : cell(
                cells.find((c) => c.peer === p.id),
                true,
              ),
        )
        .join(' | ')} |`,
    );
  }
  out.push('');
  const checked = r.results.filter((c) => c.check);
  const bad = checked.filter((c) => !c.check!.ok);
  out.push(
    bad.length
      ? `**Mismatch:** ${bad.map((c) => `${c.peer} on ${c.workload} ${c.phase} (loss rel. diff ${c.check!.lossRelDiff.toExponential(1)})`).join('; ')}.`
      : `Every peer's loss${r.config.phases.includes('gradient') ? ' and gradients' : ''} agree with ours within ${checked[0]?.check?.tolerance ?? 1e-3} relative (${checked.length} checks, same weights and data; a cut-off peer is checked at its calibration size).`,
  );
  const unavailable = r.peers.filter((p) => p.status === 'unavailable');
  if (unavailable.length) out.push(`Unavailable: ${unavailable.map((p) => `${p.id} (${p.reason})`).join('; ')}.`);
  const unsupported = r.results.filter((c) => c.status === 'unsupported' && c.peer === 'webgpu');
  if (unsupported.length)
    out.push(
      `Not run by webgpu-rnn: ${[...new Set(unsupported.map((c) => `${workloadName(c)}: ${c.reason}`))].join('; ')}.`,
    );
  out.push('');
  out.push(
    "Every cell against the adapter's probes: GFLOP/s ÷ the FMA probe and GB/s ÷ the copy probe (rates from GPU time where timed, else wall time; torch-cpu: timed in Python; ≈: a cut-off cell's calibration estimate). For webgpu-rnn also the strategy that ran and the pipeline creation time of the cell's cold run:",
  );
  out.push('');
  const peak = r.adapter?.peak;
  out.push(
    `| workload | work | peer | FLOPs/step | bytes/step | GFLOP/s | GB/s | of FMA probe | of copy probe |${peak ? ' of peak bandwidth | of peak FP32 |' : ''} strategy | pipeline creation |`,
  );
  out.push(`|---|---|---|---|---|---|---|---|---|${peak ? '---|---|' : ''}---|---|`);
  for (const c of r.results.filter((c) => c.status === 'ok' || c.status === 'cut-off')) {
    const est = c.stepsPerSecond === null;
    const rate = c.gpuStepsPerSecond ?? c.stepsPerSecond ?? c.estimatedStepsPerSecond;
    const gflops = rate === null ? null : (rate * c.flopsPerStep) / 1e9;
    const gbps = rate === null ? null : (rate * c.bytesPerStep) / 1e9;
    const e = est && rate !== null ? '≈' : '';
    const peakCols = peak ? ` ${fmtFraction(c.fractionOfPeakBandwidth)} | ${fmtFraction(c.fractionOfPeakFlops)} |` : '';
    out.push(
      `| ${workloadName(c)} | ${PHASE_LABEL[c.phase]} | ${c.peer} | ${fmtNum(c.flopsPerStep, 1)} | ${fmtNum(c.bytesPerStep, 1)} | ${e}${fmtNum(gflops)}${c.gpuTimed ? ' (GPU)' : ''} | ${e}${fmtNum(gbps)} | ${fmtFraction(c.fractionOfFmaProbe, c.probeFractionsEstimated)} | ${fmtFraction(c.fractionOfCopyProbe, c.probeFractionsEstimated)} |${peakCols} ${c.strategy ?? '–'} | ${c.peer === 'webgpu' ? fmtMs(c.pipelineMilliseconds) : ''} |`,
    );
  }
  out.push('');
  out.push(
    probeText(r)
      .split('\n')
      .map((l) => `- ${l}`)
      .join('\n'),
  );
  if (r.targets.length) {
    out.push('');
    out.push(
      `Targets${r.targets[0].atTargetSize ? '' : ` (this run: N = ${r.config.N}, T = ${r.config.T}; the targets are for N = 65,536, T = 64)`}:`,
    );
    out.push('');
    out.push('| kind | target | this run | result | note |');
    out.push('|---|---|---|---|---|');
    for (const t of r.targets)
      out.push(
        `| ${t.group} | ${t.target} | ${targetValueText(t)}${t.against ? ` of ${t.against}` : ''} | ${targetResult(t)} | ${t.note ?? ''} |`,
      );
  }
  return out.join('\n') + '\n';
}
