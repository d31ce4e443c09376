// Engines and runs for the commands: an engine for --backend (saying on stderr when auto falls back to the CPU),
// disposed however the command ends, and engine.run with progress on stderr; the shared body of grad and forward.

import type { BackendChoice, RunOptions } from '../backend.ts';
import type { Batch } from '../batch.ts';
import { cpuOnlyRun } from '../cpu-only.ts';
import { Engine, type Result } from '../engine.ts';
import { InputError } from '../errors.ts';
import { readDataFile, readJsonFile, readModelFile } from '../io/files.ts';
import { modelFromJSON, type Model } from '../model.ts';
import { checkFloat32Range, parseStates } from '../validate.ts';
import { jsonText, resultJson, resultText, statesText } from './format.ts';
import { checkOutputsAreNotInputs, outputKind, printable, writeOutputs, type CliIO } from './io.ts';
import type { KernelCliOptions } from './options.ts';
import { startProgress } from './progress.ts';
import { adapterGpuOptions, runStatsJson, runStatsText } from './run-options.ts';

async function createEngine(backend: BackendChoice, io: CliIO, memoryBudget?: number): Promise<Engine> {
  const engine = await Engine.create({
    backend,
    gpu: { ...(memoryBudget === undefined ? {} : { memoryBudget }), ...adapterGpuOptions() },
  });
  if (backend === 'auto' && engine.fallbackReason) {
    io.err(`webgpu-rnn: WebGPU unavailable (${printable(engine.fallbackReason)}); using the CPU reference\n`);
  }
  return engine;
}

/** Runs `body` with an engine for `backend`, disposing it afterwards. */
export async function withEngine<T>(
  backend: BackendChoice,
  io: CliIO,
  body: (engine: Engine) => Promise<T>,
  memoryBudget?: number,
): Promise<T> {
  const engine = await createEngine(backend, io, memoryBudget);
  try {
    return await body(engine);
  } finally {
    engine.dispose();
  }
}

/** engine.run with a progress line on stderr (on a terminal, for runs past about a second), cleared however it ends. */
export async function runWithProgress(
  io: CliIO,
  label: string,
  engine: Engine,
  model: Model,
  batch: Batch,
  opts: RunOptions,
): Promise<Result> {
  const progress = startProgress(io, label, batch.count, { unit: 'sequences' });
  try {
    return await engine.run(model, batch, { ...opts, onProgress: (done) => progress.update(done) });
  } finally {
    progress.done();
  }
}

/**
 * On the WebGPU backend every value must fit float32: checked here so the error names the files (the engine's own
 * check can only say `model` and `data`). Runs that only the CPU serves (stacked or bidirectional models, carried
 * states, of a shape the layered kernels do not take) are not checked: they run on the CPU in float64 (or are
 * refused on WebGPU by the engine).
 */
export function checkFloat32Files(
  engine: Engine,
  model: Model,
  batch: Batch,
  modelFile: string,
  dataFile: string,
  opts: RunOptions = {},
): void {
  if (engine.backend === 'webgpu' && !cpuOnlyRun(model, batch, opts))
    checkFloat32Range(model, batch, dataFile, modelFile);
}

export interface RunCommandOptions extends KernelCliOptions {
  model: string;
  data: string;
  backend: BackendChoice;
  json?: boolean;
  outputs?: boolean;
  /** grad: truncated BPTT window. */
  truncate?: number;
  /** grad: clip the gradient to this global norm. */
  clipNorm?: number;
  /** A states file: each sequence's initial states (in place of the model's h0, c0). */
  statesIn?: string;
  /** Write each sequence's final states to this states file. */
  statesOut?: string;
}

/** grad and forward: read the files, run, print the result. */
export async function runModel(kind: 'grad' | 'forward', o: RunCommandOptions, io: CliIO): Promise<void> {
  const modelJson = readModelFile(o.model);
  const batch = readDataFile(o.data, modelJson);
  const model = modelFromJSON(modelJson);
  const withGrads = kind === 'grad';
  const withOutputs = kind === 'forward' || !!o.outputs;
  if (withGrads && !batch.targets)
    throw new InputError('targets', 'grad needs targets: the data file has none', o.data);
  if (o.statesOut !== undefined) outputKind(o.statesOut, '--states-out', ['json']);
  checkOutputsAreNotInputs(
    [['--states-out', o.statesOut]],
    [
      ['--model', o.model],
      ['--data', o.data],
      ['--states-in', o.statesIn],
    ],
  );
  if (o.statesIn !== undefined)
    batch.initialStates = parseStates(readJsonFile(o.statesIn), model, batch.count, o.statesIn);
  const text = await withEngine(
    o.backend,
    io,
    async (engine) => {
      const opts: RunOptions = {
        gradients: withGrads,
        outputs: withOutputs,
        truncation: o.truncate,
        clipNorm: o.clipNorm,
        strategy: o.strategy,
        ...(o.statesOut !== undefined ? { finalStates: true } : {}),
      };
      checkFloat32Files(engine, model, batch, o.model, o.data, opts);
      const r = await runWithProgress(io, kind, engine, model, batch, opts);
      if (r.fallbackReason) io.err(`webgpu-rnn: ${printable(r.fallbackReason)}; using the CPU reference\n`);
      if (o.statesOut !== undefined)
        writeOutputs([{ path: o.statesOut, text: statesText(r.finalStates!, model, batch.count) }]);
      const stats = engine.lastRunStats;
      if (o.json)
        return (
          jsonText({
            ...resultJson(r, batch, modelJson, withGrads, withOutputs),
            ...(stats && !r.fallbackReason ? { run: runStatsJson(stats) } : {}),
          }) + '\n'
        );
      let text = resultText(r, batch, modelJson, withGrads, withOutputs, engine.fallbackReason);
      const states = [
        ...(o.statesIn !== undefined ? [`initial from ${o.statesIn}`] : []),
        ...(o.statesOut !== undefined ? [`final written to ${o.statesOut}`] : []),
      ];
      if (states.length) text = text.replace(/^(batch .*\n)/m, `$1states    ${states.join('; ')}\n`);
      return stats && !r.fallbackReason
        ? text.replace(/^(adapter .*\n)/m, `$1run       ${runStatsText(stats)}\n`)
        : text;
    },
    o.memoryBudget,
  );
  await io.out(text);
}
