// The webgpu-rnn command line (commander). `runCli(args)` runs one command and returns its exit code:
//
//   0  success
//   1  any other failure (WebGPU unavailable or failing: GpuError, internal errors)
//   2  bad input: InputError (bad model/data file, missing file), unknown command or option, bad option value
//   3  NonFiniteError: a loss, output or gradient overflowed to Infinity/NaN during the run
//   4  verify: WebGPU and the CPU reference differ beyond the documented tolerance
//
// Errors print one line `webgpu-rnn: <message>` on stderr (with the stack when WEBGPU_RNN_DEBUG=1). Results go to
// stdout only once the whole computation has succeeded, so a failed command prints nothing on stdout.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { BackendChoice, RunOptions } from '../backend.ts';
import { totalSteps, type Batch } from '../batch.ts';
import { Engine, type Result } from '../engine.ts';
import { GpuError, InputError, NonFiniteError } from '../errors.ts';
import { dataFormatOf, readDataFile, readModelFile, writeRandomData } from '../io/files.ts';
import { modelFromJSON, type Model } from '../model.ts';
import { formatStatquest, statquestReport } from '../statquest.ts';
import { jsonText, resultJson, resultText } from './format.ts';
import { compareResults } from '../verify.ts';
import { registerExperiments } from './commands/experiments.ts';
import { verifyJson, verifyText } from './verify.ts';
import { register as registerBench } from './commands/bench.ts';
import { adapterOption, memoryBudgetOption, runStatsJson, runStatsText, strategyOption, type KernelCliOptions } from './run-options.ts';
import { resolveAdapterChoice } from '../gpu/device.ts';
import type { AdapterChoice } from '../gpu/tuning.ts';

/** The command's --adapter (or WEBGPU_RNN_ADAPTER), checked before the command runs; engines are made with it. */
let cliAdapter: AdapterChoice | undefined;

/** Where the CLI writes. `out` resolves once the text is handed to the OS. */
export interface CliIO {
  out(text: string): Promise<void>;
  err(text: string): void;
  /** Show progress on stderr (only when it is a terminal). */
  progress: boolean;
  debug: boolean;
}

export function processIO(): CliIO {
  return {
    out: (text) => new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve()))),
    err: (text) => void process.stderr.write(text),
    progress: process.stderr.isTTY === true,
    debug: process.env.WEBGPU_RNN_DEBUG === '1',
  };
}

/** A verify mismatch: exit code 4. */
export class MismatchError extends Error {
  override name = 'MismatchError';
}

export const EXIT = { ok: 0, failure: 1, input: 2, nonFinite: 3, mismatch: 4 } as const;

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.input;
  if (e instanceof InputError) return EXIT.input;
  if (e instanceof NonFiniteError) return EXIT.nonFinite;
  if (e instanceof MismatchError) return EXIT.mismatch;
  return EXIT.failure;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const BACKENDS = ['webgpu', 'cpu', 'auto'] as const;

export function backendOption(): Option {
  return new Option('--backend <name>', 'webgpu, cpu (float64 reference) or auto (WebGPU when an adapter exists, else cpu)')
    .choices(BACKENDS)
    .default('auto');
}

/** Option parser for an integer in [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const s = v.trim();
    if (!/^[+-]?\d+$/.test(s)) throw new InvalidArgumentError(`Expected an integer, got "${v}".`);
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`It must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '2^53' : max}.`);
    }
    return n;
  };
}

/** Option parser for a finite number > 0. */
function positiveNumber(v: string): number {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`Expected a finite number > 0, got "${v}".`);
  return n;
}

/** Batches at least this many steps get a progress line (when stderr is a terminal). */
const PROGRESS_MIN_STEPS = 200_000;

/** An onProgress callback that keeps one percentage line on stderr, and a function that clears it. */
function progressLine(io: CliIO, label: string, batch: Batch): { onProgress?: RunOptions['onProgress']; done(): void } {
  if (!io.progress || totalSteps(batch) < PROGRESS_MIN_STEPS) return { done() {} };
  let last = -1;
  let shown = false;
  return {
    onProgress(done, total) {
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      if (pct === last) return;
      last = pct;
      shown = true;
      io.err(`\r${label}: ${pct}% (${done} of ${total} sequences)`);
    },
    done() {
      if (shown) io.err('\r\x1b[K');
    },
  };
}

/** engine.run with a progress line on stderr (on a terminal, for big batches), cleared however the run ends. */
async function runWithProgress(io: CliIO, label: string, engine: Engine, model: Model, batch: Batch, opts: RunOptions): Promise<Result> {
  const progress = progressLine(io, label, batch);
  try {
    return await engine.run(model, batch, { ...opts, onProgress: progress.onProgress });
  } finally {
    progress.done();
  }
}

async function createEngine(backend: BackendChoice, io: CliIO, memoryBudget?: number): Promise<Engine> {
  const engine = await Engine.create({ backend, gpu: { ...(memoryBudget === undefined ? {} : { memoryBudget }), ...(cliAdapter ? { adapter: cliAdapter } : {}) } });
  if (backend === 'auto' && engine.fallbackReason) {
    io.err(`webgpu-rnn: WebGPU unavailable (${engine.fallbackReason}); using the CPU reference\n`);
  }
  return engine;
}

export async function withEngine<T>(backend: BackendChoice, io: CliIO, body: (engine: Engine) => Promise<T>, memoryBudget?: number): Promise<T> {
  const engine = await createEngine(backend, io, memoryBudget);
  try {
    return await body(engine);
  } finally {
    engine.dispose();
  }
}

interface RunCommandOptions extends KernelCliOptions {
  model: string;
  data: string;
  backend: BackendChoice;
  json?: boolean;
  outputs?: boolean;
  /** grad: truncated BPTT window. */
  truncate?: number;
  /** grad: clip the gradient to this global norm. */
  clipNorm?: number;
}

async function runModel(kind: 'grad' | 'forward', o: RunCommandOptions, io: CliIO): Promise<void> {
  const modelJson = readModelFile(o.model);
  const batch = readDataFile(o.data, modelJson);
  const model = modelFromJSON(modelJson);
  const withGrads = kind === 'grad';
  const withOutputs = kind === 'forward' || !!o.outputs;
  if (withGrads && !batch.targets) throw new InputError('targets', 'grad needs targets: the data file has none', o.data);
  const text = await withEngine(o.backend, io, async (engine) => {
    const r = await runWithProgress(io, kind, engine, model, batch, { gradients: withGrads, outputs: withOutputs, truncation: o.truncate, clipNorm: o.clipNorm, strategy: o.strategy });
    const stats = engine.lastRunStats;
    if (o.json) return jsonText({ ...resultJson(r, batch, modelJson, withGrads, withOutputs), ...(stats ? { run: runStatsJson(stats) } : {}) }) + '\n';
    const text = resultText(r, batch, modelJson, withGrads, withOutputs, engine.fallbackReason);
    return stats ? text.replace(/^(adapter .*\n)/m, `$1run       ${runStatsText(stats)}\n`) : text;
  }, o.memoryBudget);
  await io.out(text);
}

/** Builds the commander program. Commands throw to fail; runCli maps the error to an exit code. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('webgpu-rnn');
  program
    .description('Elman RNN forward pass and backpropagation through time on WebGPU, checked against a float64 CPU reference.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void process.stdout.write(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`webgpu-rnn: ${s.replace(/^error: /, '').trimEnd()}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 other failure (e.g. WebGPU unavailable), 2 bad input or usage, 3 non-finite values during
the run, 4 verify found WebGPU and the CPU reference differing beyond tolerance.

Data files: JSON {"inputs": N×T×I, "targets": N×O ("last") or N×T×O ("all")}, or the binary .rnnb format.
A model may be a JSON file or the preset name "statquest".`,
    );

  program
    .command('statquest')
    .description("run the seed notes' worked example (w1=1.8, w2=-0.5, w3=1.1, ReLU) and compare with the closed forms")
    .addOption(backendOption())
    .option('--json', 'print the full report as JSON')
    .action(async (o: { backend: BackendChoice; json?: boolean }) => {
      const text = await withEngine(o.backend, io, async (engine) => {
        const report = await statquestReport(engine);
        return o.json ? JSON.stringify(report, null, 2) + '\n' : formatStatquest(report).replace(/\n?$/, '\n');
      });
      await io.out(text);
    });

  program
    .command('grad')
    .description('SSR loss and its gradients dSSR/dθ (summed over all sequences) by backpropagation through time')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file with targets (.json or .rnnb)')
    .addOption(backendOption())
    .option('--json', 'print {"backend","adapter","loss","grads":{"Wx","Wh","bh","Wy","by"},"gradNorm","clipped","outputs"?} as JSON')
    .option('--outputs', 'also print the predictions')
    .option('--truncate <k>', 'truncated BPTT: detach the hidden state every k steps (k ≥ 1; default: full BPTT)', integer(1))
    .option('--clip-norm <c>', 'clip the gradient by global norm: scale it to norm c when its norm exceeds c (c > 0)', positiveNumber)
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action((o: RunCommandOptions) => runModel('grad', o, io));

  program
    .command('forward')
    .description('predictions for every sequence, and the SSR loss when the data has targets')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file (.json or .rnnb); targets optional')
    .addOption(backendOption())
    .option('--json', 'print {"backend","adapter","loss","outputs"} as JSON (loss is null without targets)')
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action((o: RunCommandOptions) => runModel('forward', o, io));

  program
    .command('verify')
    .description('run WebGPU and the float64 CPU reference on the same batch and compare loss, outputs and each gradient block')
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--data <file>', 'data file (.json or .rnnb)')
    .option('--json', 'print the comparison as JSON')
    .addOption(strategyOption())
    .addOption(memoryBudgetOption())
    .action(async (o: { model: string; data: string; json?: boolean } & KernelCliOptions) => {
      const modelJson = readModelFile(o.model);
      const batch = readDataFile(o.data, modelJson);
      const model = modelFromJSON(modelJson);
      let gpu: Engine;
      try {
        gpu = await Engine.create({ backend: 'webgpu', gpu: { ...(o.memoryBudget === undefined ? {} : { memoryBudget: o.memoryBudget }), ...(cliAdapter ? { adapter: cliAdapter } : {}) } });
      } catch (e) {
        throw new GpuError(`verify compares WebGPU with the CPU reference, but WebGPU is unavailable: ${(e as Error).message}`);
      }
      const opts = { gradients: batch.targets !== null, outputs: true };
      // Free the GPU's buffers before the (possibly long) CPU run.
      let actual;
      let stats;
      try {
        actual = await runWithProgress(io, 'verify (webgpu)', gpu, model, batch, { ...opts, strategy: o.strategy });
        stats = gpu.lastRunStats;
      } finally {
        gpu.dispose();
      }
      const expected = await withEngine('cpu', io, (cpu) => runWithProgress(io, 'verify (cpu)', cpu, model, batch, opts));
      const report = compareResults(model, batch, actual, expected);
      await io.out(
        o.json
          ? jsonText({ ...verifyJson(report), ...(stats ? { run: runStatsJson(stats) } : {}) }) + '\n'
          : verifyText(report).replace(/^(actual .*\n)/, `$1          ${stats ? runStatsText(stats) : ''}\n`),
      );
      if (!report.ok) {
        const failing = report.checks.filter((c) => !c.comparison.ok).map((c) => c.name);
        throw new MismatchError(`verify: WebGPU and the CPU reference differ beyond tolerance in ${failing.join(', ')}`);
      }
    });

  program
    .command('gen-data')
    .description("write a seeded random data set for a model's input size, output size and output mode")
    .requiredOption('--model <file>', 'model JSON file, or a preset name (statquest)')
    .requiredOption('--count <n>', 'number of sequences', integer(1, 0xffffffff))
    .option('--min-length <n>', 'shortest sequence', integer(1, 0xffffffff), 1)
    .option('--max-length <n>', 'longest sequence (default: the larger of --min-length and 10)', integer(1, 0xffffffff))
    .option('--seed <n>', 'random seed (32-bit; the same seed gives the same data)', integer(-0x80000000, 0xffffffff), 1)
    .option('--no-targets', 'inputs only (for forward runs)')
    .requiredOption('--out <file>', 'output file: .json (data JSON) or .rnnb (binary); written atomically')
    .option('--json', 'print a summary as JSON')
    .action(
      async (o: { model: string; count: number; minLength: number; maxLength?: number; seed: number; targets: boolean; out: string; json?: boolean }) => {
        const format = dataFormatOf(o.out);
        if (!format) throw new InputError('--out', `must end in .json or .rnnb, got "${o.out}"`);
        const maxLen = o.maxLength ?? Math.max(o.minLength, 10);
        if (maxLen < o.minLength) throw new InputError('--max-length', `must be at least --min-length (${o.minLength}), got ${maxLen}`);
        const model = readModelFile(o.model);
        const opts = {
          count: o.count,
          inputSize: model.inputSize,
          outputSize: model.outputSize,
          output: model.output,
          minLength: o.minLength,
          maxLength: maxLen,
          seed: o.seed,
          withTargets: o.targets,
        };
        const { steps } = writeRandomData(o.out, opts);
        const summary = {
          file: o.out,
          format,
          count: o.count,
          steps,
          minLength: o.minLength,
          maxLength: maxLen,
          inputSize: model.inputSize,
          outputSize: model.outputSize,
          output: model.output,
          targets: o.targets,
          seed: o.seed,
        };
        await io.out(
          o.json
            ? JSON.stringify(summary) + '\n'
            : `wrote ${o.out} (${format}): ${summary.count} sequences, ${summary.steps} steps (lengths ${o.minLength}..${maxLen}), ` +
                `I=${summary.inputSize}, O=${summary.outputSize}, output "${summary.output}", ${summary.targets ? 'with' : 'no'} targets, seed ${o.seed}\n`,
        );
      },
    );

  registerBench(program, io);
  registerExperiments(program, io);
  // --adapter on every command that can run WebGPU (those with --backend, and verify); checked before the action.
  for (const cmd of program.commands) {
    if (cmd.options.some((opt) => opt.long === '--backend') || cmd.name() === 'verify') cmd.addOption(adapterOption());
  }
  cliAdapter = undefined;
  program.hook('preAction', (_program, action) => {
    cliAdapter = action.options.some((opt) => opt.long === '--adapter') ? resolveAdapterChoice(action.opts().adapter as string | undefined) : undefined;
  });
  return program;
}

/** Prints an error the CLI way: one line `webgpu-rnn: <message>` (and the stack in debug mode). */
function printError(e: unknown, io: CliIO): void {
  if (e instanceof CommanderError) return; // commander already printed it through outputError
  const message = e instanceof Error ? e.message : String(e);
  io.err(`webgpu-rnn: ${message}\n`);
  if (io.debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
}

/** Runs the CLI on `args` (the arguments after the program name) and returns the exit code. */
export async function runCli(args: string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    printError(e, io);
    return exitCodeOf(e);
  }
}
