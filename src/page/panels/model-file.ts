// Panel "Model file": opens a PyTorch state_dict (.safetensors), a torch.onnx.export file (.onnx) or a model JSON
// (file picker or drop), then verifies it on this page's backend against the float64 CPU reference on a seeded
// random batch, runs it on a CSV series' windows, trains it further there, and saves it back as .safetensors, .onnx
// or .json (src/interop/: the same importModel and exportModel as the library and the CLI).

import { csvData } from '../../data/index.ts';
import { exportModel, type InteropFormat } from '../../interop/export.ts';
import { importModel } from '../../interop/import.ts';
import { modelFromJSON, modelToJSON, type ModelJSON } from '../../model.ts';
import { randomBatch } from '../../random.ts';
import { train } from '../../train/index.ts';
import { parseModel } from '../../validate.ts';
import { compareResults } from '../../verify.ts';
import { download } from '../export.ts';
import type { Session } from '../session.ts';
import { $, FieldError, readNumber, StatusLine } from '../ui.ts';

/** What the panel publishes after each action (for tests and the console). */
export interface ModelFileResult {
  action: 'open' | 'verify' | 'csv' | 'train' | 'save';
  /** The model the panel holds after the action. */
  model: ModelJSON;
  /** open: the file's format and the import's notes. */
  format?: InteropFormat | 'json';
  notes?: string[];
  /** verify: whether every quantity agreed, on which backend, and why it was the CPU when it was. */
  ok?: boolean;
  backend?: string;
  fallbackReason?: string;
  /** csv, train: the SSR on the CSV windows (train: before and after). */
  loss?: number;
  initialLoss?: number;
  /** save: the file name and its size. */
  file?: string;
  bytes?: number;
}

/** One line describing a model: cell, layers, sizes, activation, output. */
function describe(m: ModelJSON): string {
  const layers = m.numLayers ?? 1;
  return `${(m.cell ?? 'elman').toUpperCase()}, ${layers} layer${layers > 1 ? 's' : ''}${m.bidirectional ? ', bidirectional' : ''}; I ${m.inputSize}, H ${m.hiddenSize}, O ${m.outputSize}; activation ${m.activation}, output ${m.output}`;
}

export function initModelFile(session: Session, publish: (r: ModelFileResult) => void): void {
  const section = $('model-file');
  const status = new StatusLine($('mf-status'));
  const summary = $('mf-summary');
  const input = $<HTMLInputElement>('mf-file');
  const actions = [
    $<HTMLButtonElement>('mf-verify'),
    $<HTMLButtonElement>('mf-csv-run'),
    $<HTMLButtonElement>('mf-train'),
  ];
  const saves = Array.from(section.querySelectorAll<HTMLButtonElement>('[data-save]'));
  let current: ModelJSON | null = null;
  let name = 'model';

  const hold = (m: ModelJSON): void => {
    current = m;
    summary.textContent = describe(m);
    for (const b of [...actions, ...saves]) b.disabled = false;
  };

  async function open(file: File): Promise<void> {
    await session.guard(status, section, async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const lower = file.name.toLowerCase();
      let model: ModelJSON;
      let format: InteropFormat | 'json';
      let notes: string[] = [];
      if (lower.endsWith('.json')) {
        model = modelToJSON(
          modelFromJSON(parseModel(JSON.parse(new TextDecoder().decode(bytes)) as unknown, file.name)),
        );
        format = 'json';
      } else {
        const format0 = lower.endsWith('.onnx') ? 'onnx' : lower.endsWith('.safetensors') ? 'safetensors' : undefined;
        const r = importModel(bytes, { source: file.name, ...(format0 ? { format: format0 } : {}) });
        ({ model, format, notes } = r);
      }
      name = file.name.replace(/\.(safetensors|onnx|json)$/i, '') || 'model';
      hold(model);
      status.done(`Opened ${file.name} (${format}).${notes.length ? ` ${notes.join('; ')}.` : ''}`);
      publish({ action: 'open', model, format, notes });
    });
  }

  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void open(f);
  });
  section.addEventListener('dragover', (e) => {
    e.preventDefault();
    section.classList.add('dropping');
  });
  section.addEventListener('dragleave', () => section.classList.remove('dropping'));
  section.addEventListener('drop', (e) => {
    e.preventDefault();
    section.classList.remove('dropping');
    const f = e.dataTransfer?.files[0];
    if (f) void open(f);
  });

  /** The CSV windows for the current model, and the model run on them (CSV windows predict at the last step). */
  function csvBatch(m: ModelJSON) {
    const text = $<HTMLTextAreaElement>('mf-csv').value;
    if (!text.trim()) throw new FieldError($('mf-csv'), 'CSV: paste a series (one column per model input)');
    const window = readNumber($<HTMLInputElement>('mf-window'), { min: 1, max: 4096, integer: true });
    const horizon = m.outputSize / m.inputSize;
    if (!Number.isInteger(horizon))
      throw new FieldError(
        $('mf-csv'),
        `CSV: a model with O = ${m.outputSize} and I = ${m.inputSize} does not predict a series' next values`,
      );
    const ds = csvData(text, { window, horizon, source: 'CSV' });
    if (ds.batch.inputSize !== m.inputSize)
      throw new FieldError($('mf-csv'), `CSV: ${ds.batch.inputSize} columns, the model reads ${m.inputSize}`);
    return { batch: ds.batch, model: { ...m, output: 'last' as const } };
  }

  $('mf-verify').addEventListener('click', () => {
    const m = current;
    if (!m) return;
    void session.guard(status, section, async () => {
      const batch = randomBatch({
        count: 64,
        inputSize: m.inputSize,
        outputSize: m.outputSize,
        output: m.output,
        minLength: 1,
        maxLength: 16,
        seed: 1,
        withTargets: true,
      });
      const model = modelFromJSON(m);
      const r = await session.exclusive(() => session.engine.run(model, batch, { outputs: true }), {
        status,
        panel: 'Model file',
      });
      const ref = await session.cpu.run(model, batch, { outputs: true });
      const report = compareResults(model, batch, r, ref);
      const where = r.fallbackReason
        ? `ran on the CPU (${r.fallbackReason})`
        : `${r.backend === 'webgpu' ? 'WebGPU' : 'the CPU'} against the float64 CPU reference`;
      if (report.ok) status.done(`Verified on 64 random sequences: ${where}; every quantity within tolerance.`);
      else
        status.error(
          `Mismatch: ${where}: ${report.checks
            .filter((c) => c.details !== '')
            .map((c) => c.name)
            .join(', ')}.`,
        );
      publish({
        action: 'verify',
        model: m,
        ok: report.ok,
        backend: r.backend,
        ...(r.fallbackReason ? { fallbackReason: r.fallbackReason } : {}),
      });
    });
  });

  $('mf-csv-run').addEventListener('click', () => {
    const m = current;
    if (!m) return;
    void session.guard(status, section, async () => {
      const { batch, model } = csvBatch(m);
      const r = await session.exclusive(() => session.engine.run(model, batch, { gradients: false }), {
        status,
        panel: 'Model file',
      });
      status.done(`On ${batch.count} windows of the CSV: SSR ${r.loss!.toPrecision(6)} (${r.backend}).`);
      publish({ action: 'csv', model: m, loss: r.loss!, backend: r.backend });
    });
  });

  $('mf-train').addEventListener('click', () => {
    const m = current;
    if (!m) return;
    void session.guard(status, section, async () => {
      const { batch, model } = csvBatch(m);
      const steps = readNumber($<HTMLInputElement>('mf-steps'), { min: 1, max: 100_000, integer: true });
      const lr = readNumber($<HTMLInputElement>('mf-lr'), { min: 1e-9, max: 10 });
      const { before, t } = await session.exclusive(
        async () => ({
          before: (await session.engine.run(model, batch, { gradients: false })).loss!,
          t: await train(session.engine, model, batch, { optimizer: { kind: 'adam', lr }, steps }),
        }),
        { status, panel: 'Model file', busy: 'the Model file panel is training' },
      );
      const trained: ModelJSON = { ...modelToJSON(t.model), output: m.output };
      hold(trained);
      status.done(
        `Trained ${steps} steps of Adam (lr ${lr}) on ${batch.count} CSV windows: SSR ${before.toPrecision(6)} → ${t.finalLoss.toPrecision(6)}.`,
      );
      publish({ action: 'train', model: trained, initialLoss: before, loss: t.finalLoss });
    });
  });

  for (const b of saves)
    b.addEventListener('click', () => {
      const m = current;
      if (!m) return;
      void session.guard(status, section, () => {
        const format = b.dataset.save as InteropFormat | 'json';
        const bytes =
          format === 'json' ? new TextEncoder().encode(JSON.stringify(m) + '\n') : exportModel(m, format).bytes;
        const file = `${name}.${format}`;
        download(file, new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
        const notes = format === 'json' ? [] : exportModel(m, format).notes;
        status.done(`Saved ${file} (${bytes.length} bytes).${notes.length ? ` ${notes.join('; ')}.` : ''}`);
        publish({ action: 'save', model: m, file, bytes: bytes.length });
        return Promise.resolve();
      });
    });
}
