// The Train panel's data-set chooser: the seed notes' data, a noisy sine, the adding problem, or a user's CSV
// time series (uploaded or pasted), all built by src/data. A CSV series is split by time and normalised as the
// CLI's `train` does it (`forecastSplit`: z-score, min-max or none, fitted on the training rows; windows and a
// horizon inside each part), and the file's name, rows, columns and detected time column are shown as soon as it is
// loaded. Bad fields and malformed CSV become FieldErrors/InputErrors that the panel shows inline; nothing is built
// from bad input.

import { addingData, forecastSplit, parseCsv, seedData, sineData, type DataSet } from '../data/index.ts';
import type { TimeSeries } from '../data/csv.ts';
import type { Normalization, NormalizationKind } from '../data/series.ts';
import { InputError } from '../errors.ts';
import { $, FieldError, readNumber, valueOf } from './ui.ts';

/**
 * What the form built: the data set to train on and, for a CSV series, the validation part's windows (null without
 * a validation fraction) and the normalisation fitted on the training rows (null for none).
 */
export interface FormData {
  set: DataSet;
  /** A CSV series' validation windows (split by rows, as the CLI does); undefined for the other data sets. */
  validation?: DataSet | null;
  normalization?: Normalization | null;
  /** A CSV series, normalised as the model sees it (every row), for rolling the model past its end. */
  series?: TimeSeries;
  /** A CSV series' test windows (its last rows, as the CLI's `--test`), or null without a test fraction. */
  test?: DataSet | null;
  /** Rows to forecast past the end of a CSV series (0: none). */
  forecast?: number;
}

/** One line about a parsed CSV: its name, rows, columns and the time column (detected or none). */
export function describeSeries(name: string, s: TimeSeries): string {
  return `${name}: ${s.length} row${s.length === 1 ? '' : 's'}, ${s.names.length} value column${s.names.length === 1 ? '' : 's'} (${s.names.join(', ')}); time column: ${s.timeColumn === null ? 'none detected' : `${s.timeColumn} (detected; read as labels)`}${s.times && s.times.length ? `, ${s.times[0]} to ${s.times[s.times.length - 1]}` : ''}.`;
}

export type DataKind = 'seed' | 'sine' | 'adding' | 'csv';

/** Biggest CSV text the page reads (characters). */
const MAX_CSV = 5_000_000;
const MAX_STEPS = 2_000_000;

/** Wires the chooser (showing only the fields the chosen data set uses) and loads an uploaded CSV file. */
export function initDataForm(onKindChange: (kind: DataKind) => void): { read: () => FormData; kind: () => DataKind } {
  const select = $<HTMLSelectElement>('tr-data');
  const csvBox = $('tr-csv-box');
  const file = $<HTMLInputElement>('tr-file');
  const text = $<HTMLTextAreaElement>('tr-csv');
  const kind = (): DataKind => valueOf(select) as DataKind;

  function showFields(): void {
    const k = kind();
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-for]')))
      el.hidden = !el.dataset.for!.split(' ').includes(k);
    csvBox.hidden = k !== 'csv';
    onKindChange(k);
  }
  select.addEventListener('change', showFields);
  file.addEventListener('change', () => void loadFile());
  async function loadFile(): Promise<void> {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > MAX_CSV) {
      text.value = '';
      file.setAttribute('aria-invalid', 'true');
      return;
    }
    file.removeAttribute('aria-invalid');
    text.value = await f.text();
    text.removeAttribute('aria-invalid');
    showInfo();
  }
  const info = $('tr-csv-info');
  const csvName = (): string => file.files?.[0]?.name ?? 'pasted CSV';
  /** The file's (or the pasted text's) rows, columns and time column, or what is wrong with it. */
  function showInfo(): void {
    if (text.value.trim() === '') {
      info.textContent = '';
      return;
    }
    try {
      info.textContent = describeSeries(csvName(), parseCsv(text.value, { timeColumn: 'auto', source: csvName() }));
    } catch (e) {
      info.textContent = `${csvName()}: ${(e as Error).message}`;
    }
  }
  let infoTimer = 0;
  text.addEventListener('input', () => {
    clearTimeout(infoTimer);
    infoTimer = window.setTimeout(showInfo, 200);
  });
  showFields();

  function read(): FormData {
    const k = kind();
    const seed = readNumber($<HTMLInputElement>('tr-seed'), { min: 0, max: 4294967295, integer: true });
    if (k === 'seed') return { set: seedData(2) };
    const countField = $<HTMLInputElement>('tr-count');
    const lenField = $<HTMLInputElement>('tr-len');
    const T = readNumber(lenField, { min: k === 'adding' ? 2 : 1, max: 256, integer: true });
    if (k === 'csv') {
      if (file.getAttribute('aria-invalid') === 'true')
        throw new FieldError(file, `CSV file: larger than ${MAX_CSV / 1e6} MB`);
      const csv = text.value;
      if (csv.trim() === '') throw new FieldError(text, 'CSV: choose a file or paste CSV text first');
      if (csv.length > MAX_CSV) throw new FieldError(text, `CSV: more than ${MAX_CSV / 1e6} M characters`);
      const name = csvName();
      const horizonField = $<HTMLInputElement>('tr-horizon');
      const horizon = readNumber(horizonField, { min: 1, max: 64, integer: true });
      const fraction = readNumber($<HTMLInputElement>('tr-val'), { min: 0, max: 0.5 });
      const testField = $<HTMLInputElement>('tr-test');
      const test = readNumber(testField, { min: 0, max: 0.5 });
      const norm = valueOf($<HTMLSelectElement>('tr-norm'));
      const normalize: NormalizationKind | null = norm === 'zscore' || norm === 'minmax' ? norm : null;
      let series: TimeSeries;
      try {
        series = parseCsv(csv, { timeColumn: 'auto', source: name });
      } catch (e) {
        // The CSV text (pasted, or loaded from the file) is in the textarea: mark it.
        if (e instanceof InputError) throw new FieldError(text, `CSV: ${e.message}`);
        throw e;
      }
      let split;
      try {
        split = forecastSplit(series, {
          window: T,
          horizon,
          validation: fraction,
          test,
          normalize,
          source: name,
          name,
        });
      } catch (e) {
        // The CLI's option names: the window, horizon and validation fields here.
        if (e instanceof InputError) {
          const field = /--horizon/.test(e.field)
            ? horizonField
            : /--validation/.test(e.field)
              ? $('tr-val')
              : /--test/.test(e.field)
                ? testField
                : /column/.test(e.field)
                  ? $('tr-norm')
                  : lenField;
          throw new FieldError(
            field,
            `CSV: ${e.message
              .replace(/--window/g, 'the window')
              .replace(/--horizon/g, 'the horizon')
              .replace(/--validation/g, 'the validation fraction')
              .replace(/--test/g, 'the test fraction')}`,
          );
        }
        throw e;
      }
      const data = split.train;
      if (data.batch.count * T > MAX_STEPS)
        throw new FieldError(
          lenField,
          `CSV: ${data.batch.count} windows × ${T} steps is more than this page trains on (${MAX_STEPS / 1e6} M steps)`,
        );
      const forecast = readNumber($<HTMLInputElement>('tr-forecast'), { min: 0, max: 500, integer: true });
      return {
        set: data,
        validation: split.validation,
        test: split.test,
        normalization: split.normalization,
        series: split.normalized,
        forecast,
      };
    }
    const N = readNumber(countField, { min: 1, max: 100_000, integer: true });
    if (N * T > MAX_STEPS)
      throw new FieldError(
        countField,
        `Sequences: ${N} × ${T} steps is more than this page trains on (${MAX_STEPS / 1e6} M steps)`,
      );
    return { set: k === 'sine' ? sineData({ count: N, length: T, seed }) : addingData({ count: N, length: T, seed }) };
  }
  return { read, kind };
}
