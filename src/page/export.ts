// Export of the page's figures: a small tool bar under each chart that saves the picture (PNG; SVG for the
// landscape) and the data behind it (CSV and JSON), built in the page from the data the chart draws.

/** Saves `data` as a file named `name` (a download; nothing leaves the browser). */
export function download(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** CSV text: a header row, then one row per entry (numbers as JavaScript writes them, empty for null). */
export function toCsv(head: string[], rows: (number | string | null)[][]): string {
  const cell = (v: number | string | null): string =>
    v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return [head.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

export interface ExportSpec {
  /** File name stem, e.g. `train-loss`. */
  name: string;
  /** What the buttons' labels say is saved, e.g. "the loss chart". */
  what: string;
  png?: () => Promise<Blob | null>;
  svg?: () => string;
  csv: () => string;
  json: () => unknown;
}

/** A tool bar with Save PNG / SVG / CSV / JSON buttons. */
export function exportBar(spec: ExportSpec): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'tools export';
  const button = (label: string, aria: string, f: () => void | Promise<void>): void => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = label;
    b.setAttribute('aria-label', aria);
    b.addEventListener('click', () => void f());
    bar.appendChild(b);
  };
  if (spec.png) {
    const png = spec.png;
    button('PNG', `Save ${spec.what} as PNG`, async () => {
      const blob = await png();
      if (blob) download(`${spec.name}.png`, blob);
    });
  }
  if (spec.svg) {
    const svg = spec.svg;
    button('SVG', `Save ${spec.what} as SVG`, () =>
      download(`${spec.name}.svg`, new Blob([svg()], { type: 'image/svg+xml' })),
    );
  }
  button('CSV', `Save the data of ${spec.what} as CSV`, () =>
    download(`${spec.name}.csv`, new Blob([spec.csv()], { type: 'text/csv' })),
  );
  button('JSON', `Save the data of ${spec.what} as JSON`, () =>
    download(`${spec.name}.json`, new Blob([JSON.stringify(spec.json(), null, 1)], { type: 'application/json' })),
  );
  return bar;
}
