// The registry of recurrent cells by name. A model's cell is `elman` unless the model JSON names one (cellOf).

import type { Cell } from './cell.ts';
import { elman } from './elman.ts';
import { gru } from './gru.ts';
import { lstm } from './lstm.ts';

export * from './cell.ts';
export { elman, ELMAN_PARAMS, ACTIVATION_CODE, type ElmanParam } from './elman.ts';
export { lstm, LSTM_PARAMS, type LstmParam } from './lstm.ts';
export { gru, GRU_PARAMS, type GruParam } from './gru.ts';

export const CELLS = { elman, lstm, gru } as const satisfies Record<string, Cell>;
export type CellName = keyof typeof CELLS;
/** Every cell name, in the order the docs list them. */
export const CELL_NAMES: readonly CellName[] = ['elman', 'lstm', 'gru'];
export const DEFAULT_CELL: CellName = 'elman';

/** The cell registered as `name`; throws naming the known cells otherwise. */
export function cellByName(name: string): Cell {
  const c = Object.hasOwn(CELLS, name) ? (CELLS as Record<string, Cell>)[name] : undefined;
  if (!c) throw new Error(`unknown cell "${name}" (known: ${CELL_NAMES.join(', ')})`);
  return c;
}

/** The cell of a model (or of a kernel variant): its `cell` field, elman when absent. */
export function cellOf(m: { cell?: CellName }): Cell {
  return cellByName(m.cell ?? DEFAULT_CELL);
}

/** True for cells with gates (LSTM, GRU): their nonlinearities are fixed (σ and tanh), not the model's activation. */
export function isGated(cell: Cell): boolean {
  return cell.gates > 1;
}
