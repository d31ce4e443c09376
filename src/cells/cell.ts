// The recurrent-cell descriptor: what every strategy (CPU reference, WGSL kernels, host code) needs to know about a
// cell without knowing which cell it is. A cell is its parameter blocks (a list, in the canonical flat order), the
// vectors that make up its state, the per-step shapes, and one WGSL module (shaders/cells/<name>.wgsl) that the
// host splices into each kernel (src/gpu/cell.ts). docs/cells.md describes the interface and how a cell plugs in.

import type { Activation, Shape } from '../model-types.ts';

/** A size of the model: hidden units H, inputs I, outputs O. */
export type Dim = 'H' | 'I' | 'O';

/** `times`·`dim`, e.g. { times: 4, dim: 'H' } for the 4H gate rows of an LSTM's Wx (PyTorch stacks gates so). */
export interface Extent {
  dim: Dim;
  times: number;
}

export interface CellBlockSpec<N extends string = string> {
  /** The block's name in the model JSON and in messages (`Wx`, `bh`, …); WGSL offset `OFF_<NAME>` (upper case). */
  name: N;
  rows: Extent;
  /** null for vectors (biases). */
  cols: Extent | null;
  /**
   * `cell`: a parameter of the recurrence (dh/dθ ≠ 0: RTRL carries sensitivities for these); `readout`: of the output
   * layer y = Wy·h + by, which every cell shares. All cell blocks come first, then the readout blocks.
   */
  role: 'cell' | 'readout';
}

/** A parameter block placed in the flat array. */
export interface ParamBlock<N extends string = string> {
  name: N;
  offset: number;
  rows: number;
  /** 0 for vectors. */
  cols: number;
  size: number;
}

export interface ParamLayout<N extends string = string> {
  blocks: Record<N, ParamBlock<N>>;
  /** The blocks in canonical flat order. */
  order: ParamBlock<N>[];
  /** Number of trainable parameters. */
  count: number;
  /** Parameters of the recurrence (the `cell` blocks, first in the flat order): offset of the first readout block. */
  recurrent: number;
}

export interface Cell<N extends string = string> {
  /** Registry key (src/cells/index.ts) and the WGSL module's file name, shaders/cells/<name>.wgsl. */
  readonly name: string;
  /** Trainable blocks in canonical flat order: the cell's, then the readout's (Wy, by). */
  readonly blocks: readonly CellBlockSpec<N>[];
  /** Gates stacked in the rows of the input and recurrent weights: 1 Elman, 4 LSTM (i, f, g, o), 3 GRU (r, z, n). */
  readonly gates: number;
  /**
   * H-vectors in the recurrent state carried from step to step: 1 (h) for Elman and GRU, 2 (h, c) for LSTM. The
   * state is NSTATE = stateVectors·H floats with h first (the readout reads state[0..H)); the kernels' initial state
   * (h0, then c0) follows the parameters in the weights buffer, and BPTT stores the whole state at every step.
   */
  readonly stateVectors: number;
  /** Names of the initial-state vectors stored after the parameters, one per state vector: ['h0'] for Elman. */
  readonly initialState: readonly string[];
  /** The `activation` settings of the model JSON this cell takes. */
  readonly activations: readonly Activation[];
  /** Values for the WGSL overrides the cell module declares, for a model's activation. */
  overrides(activation: Activation): Record<string, number>;
  /**
   * How the gemm strategy (shaders/gemm/gemm.wgsl) runs the cell. `blocks`: the parameter blocks its products read and
   * sum into, by role (GemmBlocks). The rest are the per-step records, in H-vectors per step and sequence. `slot`: what
   * a step keeps, the state vectors first, then (gated cells) the gates' input projection Zx = Wx·x + bx at vector
   * `zx` (written by the projection, replaced by the values the backward step needs; Elman: Zx is h's own slot, zx 0,
   * the step turning it into h in place). `grad`: a step's gradients, dSSR/da of the gates on the recurrent side
   * (what Whᵀ, dWh and dbh take) first, then (gated cells) the carry into step t−1 (the part of dSSR/ds_{t−1} that does
   * not go through Wh), then at vector `gradX` dSSR/da on the input side (dWx, dbx) where it differs (gradX 0: the
   * same as the recurrent side). Gated cells run their nonlinear part as elementwise steps between the products (the
   * module's part `gates`, shaders/gemm/gates.wgsl); the module's part `gemm` holds the products' epilogues.
   */
  readonly gemm: {
    readonly blocks: GemmBlocks<N>;
    readonly slot: number;
    readonly grad: number;
    readonly gradX: number;
    readonly zx: number;
  };
}

/** The blocks the gemm strategy's products read and sum into (the readout's Wy, by are every cell's readout blocks). */
export interface GemmBlocks<N extends string = string> {
  /** Input weights, gates·H × I: the input projection (PROJ) and its weight gradient. */
  input: N;
  /** Recurrent weights, gates·H × H: the step product, the transposed copy DZ reads, the WGRAD_H product. */
  recurrent: N;
  /** The bias the input projection adds; the input side's bias gradient sums into it. */
  inputBias: N;
  /**
   * The bias the recurrent side's gradient sums into (WGRAD_H's bias column). When it is `inputBias` (Elman's one
   * bias bh, whose da is the same on both sides), WGRAD_H takes the x columns too and no WGRAD_X runs.
   */
  recurrentBias: N;
}

/** True when the gemm strategy sums the input side's weight gradients in WGRAD_H (one bias for both sides). */
export function gemmFusesInput(cell: Cell): boolean {
  return cell.gemm.blocks.inputBias === cell.gemm.blocks.recurrentBias && cell.gemm.gradX === 0;
}

export function extent(e: Extent, { inputSize: I, hiddenSize: H, outputSize: O }: Shape): number {
  return e.times * (e.dim === 'H' ? H : e.dim === 'I' ? I : O);
}

/** Places the cell's blocks in the flat array (the canonical order every backend uses). */
export function layoutOf<N extends string>(cell: Cell<N>, shape: Shape): ParamLayout<N> {
  let offset = 0;
  let recurrent = -1;
  const blocks = {} as Record<N, ParamBlock<N>>;
  const order: ParamBlock<N>[] = [];
  for (const b of cell.blocks) {
    if (b.role === 'readout' && recurrent < 0) recurrent = offset;
    const rows = extent(b.rows, shape);
    const cols = b.cols ? extent(b.cols, shape) : 0;
    const block = { name: b.name, offset, rows, cols, size: b.cols ? rows * cols : rows };
    blocks[b.name] = block;
    order.push(block);
    offset += block.size;
  }
  return { blocks, order, count: offset, recurrent: recurrent < 0 ? offset : recurrent };
}

/** The shape-derived sizes a kernel uses as private-array lengths and loop bounds (the WGSL constants of the same names). */
export interface CellSizes {
  /** Trainable parameters. */
  NPARAM: number;
  /** Parameters then the initial state: the floats of one model in the weights buffer. */
  NWEIGHTS: number;
  /** Floats of the recurrent state (stateVectors·H). */
  NSTATE: number;
  /** Parameters of the recurrence (RTRL's sensitivity columns). */
  NREC: number;
  /** Gate rows of the input and recurrent weights (gates·H). */
  NGATE: number;
}

export function cellSizes(cell: Cell, shape: Shape): CellSizes {
  const L = layoutOf(cell, shape);
  const NSTATE = cell.stateVectors * shape.hiddenSize;
  return {
    NPARAM: L.count,
    NWEIGHTS: L.count + NSTATE,
    NSTATE,
    NREC: L.recurrent,
    NGATE: cell.gates * shape.hiddenSize,
  };
}

function wgslExtent(e: Extent): string {
  return e.times === 1 ? e.dim : `${e.times}u * ${e.dim}`;
}

/**
 * The WGSL declarations of the cell's layout, as expressions of H, I and O: OFF_<BLOCK> for every parameter block,
 * NREC, NPARAM, OFF_<STATE> for every initial-state vector (OFF_H0, …), NWEIGHTS, NSTATE and NGATE. `keyword` is `const`
 * where H, I and O are consts (private-array lengths must be const-expressions), `override` where they are overrides.
 */
export function wgslLayout(cell: Cell, keyword: 'const' | 'override'): string {
  const lines: string[] = [];
  let prev = '';
  const decl = (name: string, expr: string, note = ''): void => {
    lines.push(`${keyword} ${name}: u32 = ${expr};${note ? `  // ${note}` : ''}`);
  };
  let recurrent = '';
  for (const b of cell.blocks) {
    const name = `OFF_${b.name.toUpperCase()}`;
    if (b.role === 'readout' && !recurrent) recurrent = name;
    decl(name, prev || '0u', `${b.name}: ${wgslExtent(b.rows)}${b.cols ? ` × ${wgslExtent(b.cols)}` : ''}`);
    prev = `${name} + ${b.cols ? `${wgslExtent(b.rows)} * ${wgslExtent(b.cols)}` : wgslExtent(b.rows)}`;
  }
  decl('NPARAM', prev, 'trainable parameters');
  decl('NREC', recurrent || 'NPARAM', 'parameters of the recurrence (the blocks before the readout)');
  decl('NSTATE', cell.stateVectors === 1 ? 'H' : `${cell.stateVectors}u * H`, 'floats of the recurrent state, h first');
  decl('NGATE', cell.gates === 1 ? 'H' : `${cell.gates}u * H`, 'gate rows of Wx and Wh');
  prev = 'NPARAM';
  for (const s of cell.initialState) {
    const name = `OFF_${s.toUpperCase()}`;
    decl(name, prev, `initial ${s.replace(/0$/, '')} (H), after the parameters`);
    prev = `${name} + H`;
  }
  decl('NWEIGHTS', prev, 'floats of one model in the weights buffer');
  return lines.join('\n');
}

/**
 * The WGSL declarations of the gemm strategy's view of the cell (the module part `gemm`, src/gpu/cell.ts): the
 * offsets of the blocks its products read, by role (GEMM_WX, GEMM_WH, GEMM_BX, GEMM_BH; GEMM_WY, GEMM_BY of the
 * readout), and the per-step records in rows of H: SR (a step's state slot), DR (its gradient slot), ZX (first row of
 * Zx in a step slot), DAX (first row of the input side's da in a gradient slot) and XC (the x columns of WGRAD_H: I
 * where it sums the input side's gradients too, else 0). Expressions of H, I and the layout's OFF_* names.
 */
export function wgslGemmLayout(cell: Cell, keyword: 'const' | 'override'): string {
  const g = cell.gemm;
  const names = new Set(cell.blocks.map((b) => b.name));
  for (const [role, name] of Object.entries(g.blocks) as [string, string][])
    if (!names.has(name))
      throw new Error(`cell "${cell.name}": gemm.blocks.${role} names "${name}", which is not one of its blocks`);
  const readout = cell.blocks.filter((b) => b.role === 'readout');
  const wy = readout.find((b) => b.cols);
  const by = readout.find((b) => !b.cols);
  if (!wy || !by) throw new Error(`cell "${cell.name}": the readout needs a weight block and a bias block`);
  const off = (name: string): string => `OFF_${name.toUpperCase()}`;
  const rows = (v: number): string => (v === 0 ? '0u' : v === 1 ? 'H' : `${v}u * H`);
  const lines: [string, string, string][] = [
    ['GEMM_WX', off(g.blocks.input), `input weights ${g.blocks.input}`],
    ['GEMM_WH', off(g.blocks.recurrent), `recurrent weights ${g.blocks.recurrent}`],
    ['GEMM_BX', off(g.blocks.inputBias), `input-side bias ${g.blocks.inputBias}`],
    ['GEMM_BH', off(g.blocks.recurrentBias), `recurrent-side bias ${g.blocks.recurrentBias}`],
    ['GEMM_WY', off(wy.name), `readout weights ${wy.name}`],
    ['GEMM_BY', off(by.name), `readout bias ${by.name}`],
    ['SR', rows(g.slot), "rows of a step's state slot"],
    ['DR', rows(g.grad), "rows of a step's gradient slot"],
    ['ZX', rows(g.zx), 'first row of Zx in a step slot'],
    ['DAX', rows(g.gradX), "first row of the input side's da in a gradient slot"],
    ['XC', gemmFusesInput(cell) ? 'I' : '0u', 'x columns of WGRAD_H'],
  ];
  return lines.map(([name, expr, note]) => `${keyword} ${name}: u32 = ${expr};  // ${note}`).join('\n');
}
