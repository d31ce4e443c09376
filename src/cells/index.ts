// The registry of recurrent cells by name. A model's cell is `elman` until the model JSON names one (cellOf).

import type { Cell } from './cell.ts';
import { elman } from './elman.ts';

export * from './cell.ts';
export { elman, ELMAN_PARAMS, ACTIVATION_CODE, type ElmanParam } from './elman.ts';

export const CELLS = { elman } as const satisfies Record<string, Cell>;
export type CellName = keyof typeof CELLS;
export const DEFAULT_CELL: CellName = 'elman';

/** The cell registered as `name`; throws naming the known cells otherwise. */
export function cellByName(name: string): Cell {
  const c = (CELLS as Record<string, Cell>)[name];
  if (!c) throw new Error(`unknown cell "${name}" (known: ${Object.keys(CELLS).join(', ')})`);
  return c;
}

/** The cell of a model (or of a kernel variant): its `cell` field, elman when absent. */
export function cellOf(m: { cell?: CellName }): Cell {
  return cellByName(m.cell ?? DEFAULT_CELL);
}
