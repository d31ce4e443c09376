// The page's settings in its URL: every panel field (inputs and selects with an id inside a panel) that differs
// from the page's default is kept in the query string as id=value, updated on every edit (history.replaceState,
// no reload), and applied when the page opens, so a link reproduces the settings of every panel. File inputs and
// the pasted CSV (possibly megabytes) are left out.

const SKIP = new Set(['tr-file', 'tr-csv']);

/** The fields whose values the URL keeps. */
function fields(): (HTMLInputElement | HTMLSelectElement)[] {
  return Array.from(
    document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('main section input[id], main section select[id]'),
  ).filter(
    (el) => !SKIP.has(el.id) && !(el instanceof HTMLInputElement && (el.type === 'file' || el.type === 'range')),
  );
}

const valueOf = (el: HTMLInputElement | HTMLSelectElement): string =>
  el instanceof HTMLInputElement && el.type === 'checkbox' ? (el.checked ? '1' : '0') : el.value;

function setValue(el: HTMLInputElement | HTMLSelectElement, v: string): void {
  if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v === '1';
  else if (el instanceof HTMLSelectElement) {
    if (Array.from(el.options).some((o) => o.value === v)) el.value = v;
  } else el.value = v;
}

/**
 * Applies the URL's settings (after the panels are wired), then keeps the URL in step with the fields. Every field
 * fires its input/change event, and afterwards every value is set again, so the URL's values win over fields that
 * an event reset (the data set's suggested shape). Returns the ids the URL set.
 */
export function syncUrl(): string[] {
  const defaults = new Map(fields().map((el) => [el.id, valueOf(el)]));
  const params = new URLSearchParams(location.search);
  const applied: string[] = [];
  const apply = (events: boolean): void => {
    for (const [id, v] of params) {
      const el = document.getElementById(id);
      if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement) || !defaults.has(id)) continue;
      setValue(el, v);
      if (events) {
        el.dispatchEvent(
          new Event(el instanceof HTMLSelectElement || el.type === 'checkbox' ? 'change' : 'input', { bubbles: true }),
        );
        applied.push(id);
      }
    }
  };
  // Values first (so a panel that recomputes on the first event reads all of them), then the events, then the
  // values again (a data-set change resets the suggested shape).
  apply(false);
  apply(true);
  apply(false);

  let timer = 0;
  const write = (): void => {
    const q = new URLSearchParams();
    for (const el of fields()) {
      const v = valueOf(el);
      if (defaults.get(el.id) !== v) q.set(el.id, v);
    }
    const search = q.toString();
    history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = window.setTimeout(write, 150);
  };
  document.querySelector('main')!.addEventListener('input', schedule);
  document.querySelector('main')!.addEventListener('change', schedule);
  return applied;
}
