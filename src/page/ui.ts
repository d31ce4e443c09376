// Small DOM helpers shared by the page's panels: element lookup, validated reading of form fields (an inline
// message names the field and the problem; nothing runs with bad input), number formatting and plain tables.

import type { CellName } from '../cells/index.ts';
import type { Activation } from '../model.ts';
import { fmt } from '../statquest.ts';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
};

/** A form field whose value is unusable; the message names the field and what is wrong. */
export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly field: HTMLElement | null,
    message: string,
  ) {
    super(message);
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

function describeRange(r: NumberRule): string {
  const kind = r.integer ? 'a whole number' : 'a number';
  if (r.min !== undefined && r.max !== undefined) return `${kind} from ${r.min} to ${r.max}`;
  if (r.min !== undefined) return `${kind} ≥ ${r.min}`;
  if (r.max !== undefined) return `${kind} ≤ ${r.max}`;
  return kind;
}

/** Parses one number as typed by a person, naming `what` in the error. */
export function parseNumber(
  text: string,
  what: string,
  rule: NumberRule = {},
  field: HTMLElement | null = null,
): number {
  const t = text.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isFinite(v))
    throw new FieldError(field, `${what}: "${t}" is not a number (expected ${describeRange(rule)})`);
  if (rule.integer && !Number.isInteger(v)) throw new FieldError(field, `${what}: ${t} is not a whole number`);
  if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
    throw new FieldError(field, `${what}: ${t} is out of range (expected ${describeRange(rule)})`);
  }
  return v;
}

/** The label text of a form control, for messages. */
export function labelOf(input: HTMLElement): string {
  const id = input.id;
  const label = id ? document.querySelector(`label[for="${id}"]`) : null;
  return (label?.textContent ?? input.getAttribute('aria-label') ?? id).trim().replace(/\s+/g, ' ');
}

/**
 * Reads a numeric <input>, checking it against `rule`. The page's number fields are text inputs, so the message can
 * quote what was typed; a native number input whose text the browser could not read (validity.badInput, value "")
 * is an error too, never a blank that means "the default".
 */
/** Values read in place of some fields' (by id) while a run starts: the small runs on open (see withValues). */
let overrides: ReadonlyMap<string, string> | null = null;

/**
 * Calls `start` with the given field values read in place of the fields' own, without touching the fields (or the
 * URL): a panel's run reads its settings synchronously when it starts, so they apply to that run only.
 */
export function withValues<T>(values: ReadonlyMap<string, string>, start: () => T): T {
  overrides = values;
  try {
    return start();
  } finally {
    overrides = null;
  }
}

/** A field's value as a run reads it (withValues' value for it while a run starts, else its own). */
export function valueOf(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): string {
  return overrides?.get(el.id) ?? el.value;
}

export function readNumber(input: HTMLInputElement, rule: NumberRule = {}): number {
  if (input.validity?.badInput)
    throw new FieldError(input, `${labelOf(input)}: what was typed is not a number (expected ${describeRange(rule)})`);
  return parseNumber(valueOf(input), labelOf(input), rule, input);
}

/** Reads an optional numeric <input>: null when it is blank (only blank, never unreadable text). */
export function readOptionalNumber(input: HTMLInputElement, rule: NumberRule = {}): number | null {
  if (!input.validity?.badInput && valueOf(input).trim() === '') return null;
  return readNumber(input, rule);
}

/** Reads a comma- or space-separated list of numbers, each checked against `rule`. */
export function readList(input: HTMLInputElement, rule: NumberRule = {}, maxItems = 64): number[] {
  const what = labelOf(input);
  const parts = valueOf(input)
    .split(/[\s,;]+/)
    .filter((s) => s !== '');
  if (parts.length === 0) throw new FieldError(input, `${what}: give at least one value`);
  if (parts.length > maxItems) throw new FieldError(input, `${what}: at most ${maxItems} values, got ${parts.length}`);
  return parts.map((p, k) => parseNumber(p, `${what}, value ${k + 1}`, rule, input));
}

/** Where a panel says what it is doing: a status line (aria-live) that also shows errors. */
export class StatusLine {
  constructor(readonly el: HTMLElement) {}

  info(text: string): void {
    this.el.textContent = text;
    this.el.className = 'status';
    delete this.el.dataset.state;
  }

  done(text: string): void {
    this.el.textContent = text;
    this.el.className = 'status done';
    this.el.dataset.state = 'done';
  }

  error(text: string): void {
    this.el.textContent = text;
    this.el.className = 'status error';
    this.el.dataset.state = 'error';
  }

  /** A result with a caveat the user should read (e.g. a start point outside the grid). */
  warn(text: string): void {
    this.el.textContent = text;
    this.el.className = 'status warn';
    this.el.dataset.state = 'warn';
  }

  /** Waiting for another panel's run to finish. */
  queued(text: string): void {
    this.el.textContent = text;
    this.el.className = 'status queued';
    this.el.dataset.state = 'queued';
  }
}

/**
 * Lets the page's other tasks (timers, input, painting) run before going on, so that a long update (several charts
 * and tables after a run) is several short tasks: no part of it holds the main thread for long.
 */
export const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Resolves after the next frame has been rendered (a zero-delay timeout after an animation frame): what was drawn
 * before it is laid out and painted by then, so the next part of a large result paints in a frame of its own and
 * reads sizes without forcing a layout. In a hidden tab (no animation frames) it is `breathe`.
 */
export const afterPaint = (): Promise<void> =>
  document.hidden ? breathe() : new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/**
 * Runs `draw` on an animation frame, at most once every `everyMs` however often `request` is called: a live chart
 * redrawn on every frame costs the page's GPU process a raster each time, which on a software GPU takes the CPU
 * that the page's main thread needs. `cancel` drops a draw not yet run.
 */
export function throttledDraw(draw: () => void, everyMs = 100): { request: () => void; cancel: () => void } {
  let frame = 0;
  let timer = 0;
  let last = -Infinity;
  const onFrame = (): void => {
    frame = 0;
    last = performance.now();
    draw();
  };
  return {
    request() {
      if (frame || timer) return;
      const wait = last + everyMs - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(onFrame);
      else
        timer = window.setTimeout(() => {
          timer = 0;
          frame = requestAnimationFrame(onFrame);
        }, wait);
    },
    cancel() {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      frame = timer = 0;
    },
  };
}

/** Clears a field's red mark as soon as the user edits it (delegated on `scope`). */
export function clearMarksOnEdit(scope: HTMLElement): void {
  const clear = (e: Event): void => {
    const t = e.target as HTMLElement | null;
    if (t?.getAttribute?.('aria-invalid') !== 'true') return;
    t.removeAttribute('aria-invalid');
    // The "Not run" message was about this field: it goes once the field is edited and no other field is marked.
    if (scope.querySelector('[aria-invalid="true"]')) return;
    for (const line of Array.from(scope.querySelectorAll<HTMLElement>('.status[data-state="error"]')))
      if (line.textContent?.startsWith('Not run')) {
        line.textContent = 'Edited: run again to check the settings.';
        line.className = 'status';
        delete line.dataset.state;
      }
  };
  scope.addEventListener('input', clear);
  scope.addEventListener('change', clear);
}

/** A duration for people: 0.4 s, 12 s, 3 min 5 s. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

/**
 * Estimates the time left of a run from the work done so far (done/total in any unit, e.g. steps) and the time
 * since it started; null until there is enough to go on.
 */
export function timeLeft(done: number, total: number, elapsedSeconds: number): number | null {
  if (!(done > 0) || !(total > 0) || !(elapsedSeconds > 0.05)) return null;
  return Math.max(0, (elapsedSeconds * (total - done)) / done);
}

/** "about 12 s left" (or "estimating the time left…"). */
export function timeLeftText(done: number, total: number, elapsedSeconds: number): string {
  const t = timeLeft(done, total, elapsedSeconds);
  return t === null ? 'estimating the time left…' : `about ${duration(t)} left`;
}

/** Marks the offending field (aria-invalid) and clears the marks on the others in `scope`. */
export function markInvalid(scope: HTMLElement, field: HTMLElement | null): void {
  for (const el of Array.from(scope.querySelectorAll('[aria-invalid="true"]'))) el.removeAttribute('aria-invalid');
  if (field) field.setAttribute('aria-invalid', 'true');
}

/** A number for display: 5 significant digits, exponent form for tiny or huge values. */
export function num(x: number, digits = 5): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e7)) return x.toExponential(digits - 1);
  return fmt(x, digits);
}

/** A rate such as 12.3 M steps/s. */
export function rate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

/** Fills a <table> with a header row and body rows of text cells (first column as row headers). */
/** A number as written in the page's text: 12, −0.5, 1.42e-4, 3,200, 45%. */
const NUMBER = /[-−]?\d[\d,.]*(?:e[-+−]?\d+)?%?/gi;

/**
 * Sets `el`'s text with every number in a nowrap span (class `n`), so a narrow column never breaks a number
 * inside ("1.42e-" over "4"); the text content is unchanged.
 */
export function numberText(el: HTMLElement, text: string): void {
  el.replaceChildren();
  let at = 0;
  for (const m of text.matchAll(NUMBER)) {
    const k = m.index;
    if (k > at) el.append(text.slice(at, k));
    const span = document.createElement('span');
    span.className = 'n';
    span.textContent = m[0];
    el.append(span);
    at = k + m[0].length;
  }
  if (at < text.length) el.append(text.slice(at));
}

export function fillTable(
  table: HTMLTableElement,
  head: string[],
  rows: (string | number)[][],
  caption?: string,
): void {
  table.replaceChildren();
  if (caption) table.createCaption().textContent = caption;
  const thead = table.createTHead().insertRow();
  for (const h of head) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    thead.appendChild(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    r.forEach((cell, k) => {
      const td = document.createElement(k === 0 ? 'th' : 'td');
      if (k === 0) td.scope = 'row';
      numberText(td, String(cell));
      tr.appendChild(td);
    });
  }
}

/** Lets the browser paint (and handle clicks) before the next piece of work. */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The median of the finite values (the panels import it from here; it is the project's one, in src/stats.ts). */
export { median } from '../stats.ts';

/**
 * A cell selector beside an activation selector: LSTM and GRU take tanh only (their gates are fixed), so choosing
 * one sets the activation to tanh and disables it; choosing Elman again restores the activation it had.
 */
export function bindCellSelect(
  cellSelect: HTMLSelectElement,
  actSelect: HTMLSelectElement,
): { read(): { cell: CellName; activation: Activation }; setElmanActivation(a: Activation): void } {
  let elmanActivation = actSelect.value;
  const sync = (): void => {
    const gated = cellSelect.value !== 'elman';
    if (gated && !actSelect.disabled) {
      elmanActivation = actSelect.value;
      actSelect.value = 'tanh';
    } else if (!gated && actSelect.disabled) {
      actSelect.value = elmanActivation;
    }
    actSelect.disabled = gated;
    actSelect.title = gated ? `${cellSelect.selectedOptions[0]?.textContent ?? ''} gates are fixed (σ and tanh)` : '';
  };
  cellSelect.addEventListener('change', sync);
  sync();
  return {
    read: () => ({
      cell: valueOf(cellSelect) as CellName,
      activation: (valueOf(cellSelect) === 'elman' ? valueOf(actSelect) : 'tanh') as Activation,
    }),
    /** The activation for Elman (shown now when Elman is chosen, else when it is chosen again). */
    setElmanActivation: (a: Activation) => {
      elmanActivation = a;
      if (cellSelect.value === 'elman') actSelect.value = a;
    },
  };
}

/**
 * What a software WebGPU adapter is, named as one ("SwiftShader: WebGPU emulated on the CPU"), from the adapter's
 * description; null for a hardware GPU (or an adapter this does not recognise).
 */
export function softwareAdapter(adapter: string | null | undefined): string | null {
  const a = adapter ?? '';
  if (/swiftshader/i.test(a)) return 'SwiftShader: WebGPU emulated on the CPU';
  if (/llvmpipe|lavapipe/i.test(a)) return "lavapipe (Mesa's llvmpipe): WebGPU emulated on the CPU";
  if (/warp|microsoft basic render/i.test(a)) return 'WARP: WebGPU emulated on the CPU';
  return null;
}
