// The Train panel's data-set chooser: the seed notes' data, a noisy sine, the adding problem, or a user's CSV
// time series (uploaded or pasted) cut into sliding windows, all built by src/data. Bad fields and malformed CSV
// become FieldErrors/InputErrors that the panel shows inline; nothing is built from bad input.

import { addingData, csvData, seedData, sineData, type DataSet } from '../data/index.ts';
import { InputError } from '../errors.ts';
import { $, FieldError, readNumber, valueOf } from './ui.ts';

export type DataKind = 'seed' | 'sine' | 'adding' | 'csv';

/** Biggest CSV text the page reads (characters). */
const MAX_CSV = 5_000_000;
const MAX_STEPS = 2_000_000;

/** Wires the chooser (showing only the fields the chosen data set uses) and loads an uploaded CSV file. */
export function initDataForm(onKindChange: (kind: DataKind) => void): { read: () => DataSet; kind: () => DataKind } {
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
  }
  showFields();

  function read(): DataSet {
    const k = kind();
    const seed = readNumber($<HTMLInputElement>('tr-seed'), { min: 0, max: 4294967295, integer: true });
    if (k === 'seed') return seedData(2);
    const countField = $<HTMLInputElement>('tr-count');
    const lenField = $<HTMLInputElement>('tr-len');
    const T = readNumber(lenField, { min: k === 'adding' ? 2 : 1, max: 256, integer: true });
    if (k === 'csv') {
      if (file.getAttribute('aria-invalid') === 'true')
        throw new FieldError(file, `CSV file: larger than ${MAX_CSV / 1e6} MB`);
      const csv = text.value;
      if (csv.trim() === '') throw new FieldError(text, 'CSV: choose a file or paste CSV text first');
      if (csv.length > MAX_CSV) throw new FieldError(text, `CSV: more than ${MAX_CSV / 1e6} M characters`);
      const name = file.files?.[0]?.name ?? 'pasted CSV';
      let data: DataSet;
      try {
        data = csvData(csv, { window: T, source: name, name });
      } catch (e) {
        // The CSV text (pasted, or loaded from the file) is in the textarea: mark it.
        if (e instanceof InputError) throw new FieldError(text, `CSV: ${e.message}`);
        throw e;
      }
      if (data.batch.count * T > MAX_STEPS)
        throw new FieldError(
          lenField,
          `CSV: ${data.batch.count} windows × ${T} steps is more than this page trains on (${MAX_STEPS / 1e6} M steps)`,
        );
      return data;
    }
    const N = readNumber(countField, { min: 1, max: 100_000, integer: true });
    if (N * T > MAX_STEPS)
      throw new FieldError(
        countField,
        `Sequences: ${N} × ${T} steps is more than this page trains on (${MAX_STEPS / 1e6} M steps)`,
      );
    return k === 'sine' ? sineData({ count: N, length: T, seed }) : addingData({ count: N, length: T, seed });
  }
  return { read, kind };
}
