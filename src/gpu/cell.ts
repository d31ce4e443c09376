// Splices a recurrent cell's WGSL module into a kernel. WGSL has no includes, so a kernel that runs a cell has one
// line `// @cell <part> …` which withCell replaces by the sections of shaders/cells/<cell>.wgsl, of
// shaders/cells/gated.wgsl for a cell with gates (what LSTM and GRU share) and of shaders/cells/readout.wgsl for those
// parts and the parts they need (`// @part <name>` lines in those files). Parts:
//   layout      the parameter layout, generated from the cell's descriptor (src/cells/cell.ts wgslLayout)
//   activation  act, actGrad, overflowTerm, overflowed
//   scalar      layout + activation + outIndex (what a tiled GEMM kernel can use: H, I, O may be overrides there)
//   sequence    + per-sequence private-array functions: w, zScaled, cellInit, cellForward, predict, readoutBackward
//   backward    + cellBackward (BPTT)
//   tangent     + cellTangent (forward-mode sensitivities, RTRL)
//   gemm        layout + activation + the gemm strategy's view of the cell (gemm.wgsl): the offsets of the blocks its
//               products read by role and the per-step record rows, generated from the descriptor's `gemm`
//               (src/cells/cell.ts wgslGemmLayout), and the products' epilogues the cell defines (gemmProj, gemmStep,
//               gemmDz), written against gemm.wgsl's buffers and step record
//   gates       layout + activation + the gated cells' elementwise steps of one unit for the gemm strategy: gateForward,
//               gateBackward, with the unit-record sizes generated from the descriptor's `gemm` (gemm/gates.wgsl);
//               nothing for a cell without gates
// docs/cells.md describes the module contract.

import { GpuError } from '../errors.ts';
import { isGated, wgslGemmLayout, wgslLayout, type Cell } from '../cells/index.ts';
import { shaders } from '#shaders';

export const CELL_PARTS = [
  'layout',
  'activation',
  'scalar',
  'sequence',
  'backward',
  'tangent',
  'gemm',
  'gates',
] as const;
export type CellPart = (typeof CELL_PARTS)[number];

/** The parts each part needs (transitively included). */
const NEEDS: Record<CellPart, CellPart[]> = {
  layout: [],
  activation: [],
  scalar: ['layout', 'activation'],
  sequence: ['scalar'],
  backward: ['sequence'],
  tangent: ['sequence'],
  gemm: ['layout', 'activation'],
  gates: ['layout', 'activation'],
};

const MARKER = /^[ \t]*\/\/ @cell((?:[ \t]+\w+)*)[ \t]*$/gm;
const PART = /^\/\/ @part (\w+)[ \t]*$/gm;

/** The sections of a module by `// @part NAME` line (text before the first part is the file's header, dropped). */
function sections(label: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  const marks = [...source.matchAll(PART)];
  marks.forEach((m, k) => {
    const name = m[1];
    if (!(CELL_PARTS as readonly string[]).includes(name))
      throw new GpuError(`${label}: unknown part "${name}" (parts: ${CELL_PARTS.join(', ')})`);
    if (out.has(name)) throw new GpuError(`${label}: part "${name}" appears twice`);
    // Full-line comments are dropped: the module file documents them, and in the kernel they would only count
    // against the unroller's size budget (src/gpu/unroll.ts).
    const text = source.slice(m.index + m[0].length, k + 1 < marks.length ? marks[k + 1].index : source.length);
    out.set(
      name,
      text
        .replace(/^[ \t]*\/\/.*\n/gm, '')
        .replace(/\n{3,}/g, '\n\n')
        .trim(),
    );
  });
  return out;
}

/** `parts` and every part they need, in module order. */
export function partsWithNeeds(parts: readonly CellPart[]): CellPart[] {
  const all = new Set<CellPart>();
  const add = (p: CellPart): void => {
    if (all.has(p)) return;
    all.add(p);
    NEEDS[p].forEach(add);
  };
  parts.forEach(add);
  return CELL_PARTS.filter((p) => all.has(p));
}

/**
 * The sizes of a gated cell's per-unit records (part `gates`), generated from the descriptor: GATES, STATE_VECS,
 * SLOT_VECS (a step's record), GRAD_VECS (a step's gradients, the carry at vector GATES) and GRADX_VEC.
 */
function gateRecordConsts(cell: Cell): string | null {
  const g = cell.gemm;
  if (!isGated(cell)) return null; // Elman: part `gates` adds nothing
  return [
    `// Unit records of cell "${cell.name}", generated from src/cells/${cell.name}.ts:`,
    `const GATES: u32 = ${cell.gates}u;`,
    `const STATE_VECS: u32 = ${cell.stateVectors}u;`,
    `const SLOT_VECS: u32 = ${g.slot}u;`,
    `const GRAD_VECS: u32 = ${g.grad}u;`,
    `const GRADX_VEC: u32 = ${g.gradX}u;`,
  ].join('\n');
}

/** The cell text for `parts` (a kernel whose H is declared with `keyword`). */
export function cellSource(cell: Cell, parts: readonly CellPart[], keyword: 'const' | 'override'): string {
  const file = `shaders/cells/${cell.name}.wgsl`;
  const moduleText = (shaders.cells as Record<string, string>)[cell.name];
  if (moduleText === undefined)
    throw new GpuError(`cell "${cell.name}" has no WGSL module (${file} is not among the bundled shaders)`);
  const own = sections(file, moduleText);
  const gated = isGated(cell) ? sections('shaders/cells/gated.wgsl', shaders.cells.gated) : new Map<string, string>();
  const readout = sections('shaders/cells/readout.wgsl', shaders.cells.readout);
  const upTo = partsWithNeeds(parts);
  const files = [file, ...(isGated(cell) ? ['shaders/cells/gated.wgsl'] : []), 'shaders/cells/readout.wgsl'];
  const out: string[] = [
    `// ---- cell "${cell.name}" (${upTo.join(', ')}), spliced by src/gpu/cell.ts from ${files.join(', ')} ----`,
  ];
  for (const p of upTo) {
    if (p === 'layout')
      out.push(
        `// Parameter layout of cell "${cell.name}", generated from src/cells/${cell.name}.ts:\n${wgslLayout(cell, keyword)}`,
      );
    if (p === 'gemm')
      out.push(
        `// The gemm strategy's blocks and step records of cell "${cell.name}", generated from src/cells/${cell.name}.ts:\n${wgslGemmLayout(cell, keyword)}`,
      );
    const records = p === 'gates' ? gateRecordConsts(cell) : null;
    if (records) out.push(records);
    for (const from of [own, gated, readout]) {
      const text = from.get(p);
      if (text) out.push(text);
    }
  }
  out.push(`// ---- end of cell "${cell.name}" ----`);
  return out.join('\n\n');
}

/**
 * `source` with its `// @cell <part> …` line replaced by the cell's WGSL for those parts (see the top of this file).
 * The layout is declared `const` when the kernel declares `const H: u32`, `override` when it declares
 * `override H: u32`. Throws a GpuError naming `label` unless the source has exactly one such line with known parts.
 */
export function withCell(label: string, source: string, cell: Cell): string {
  const marks = [...source.matchAll(MARKER)];
  if (marks.length !== 1)
    throw new GpuError(
      `${label}: expected exactly one "// @cell <part> …" line to splice the ${cell.name} cell into, found ${marks.length}`,
    );
  const m = marks[0];
  const named = m[1].trim().split(/\s+/).filter(Boolean);
  if (named.length === 0)
    throw new GpuError(`${label}: the "// @cell" line names no part (parts: ${CELL_PARTS.join(', ')})`);
  for (const p of named)
    if (!(CELL_PARTS as readonly string[]).includes(p))
      throw new GpuError(`${label}: unknown cell part "${p}" (parts: ${CELL_PARTS.join(', ')})`);
  const parts = partsWithNeeds(named as CellPart[]);
  let keyword: 'const' | 'override' = 'const';
  if (parts.includes('layout')) {
    const h = /^(const|override) H: u32\b/m.exec(source);
    if (!h)
      throw new GpuError(
        `${label}: the cell's layout needs the kernel to declare "const H: u32" or "override H: u32" (and I, O)`,
      );
    keyword = h[1] as 'const' | 'override';
    if (parts.includes('sequence') && keyword !== 'const')
      throw new GpuError(
        `${label}: cell part "sequence" holds private arrays of H floats and needs "const H: u32", not an override`,
      );
  }
  return source.slice(0, m.index) + cellSource(cell, parts, keyword) + source.slice(m.index + m[0].length);
}
