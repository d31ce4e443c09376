// Sets the shape constants H, I and O in a per-sequence kernel (per_sequence/bptt.wgsl, rtrl.wgsl, optimizer.wgsl)
// and unrolls the loops over them and over the cell's sizes (src/gpu/unroll.ts). Private-array lengths must be
// const-expressions, which WGSL overrides cannot reach, so WGSL text is edited here and where the cell is spliced in
// (src/gpu/cell.ts); everything else uses overrides.

import { GpuError } from '../errors.ts';
import { cellOf, cellSizes, type CellName } from '../cells/index.ts';
import type { Shape } from '../model.ts';
import { unrollLoops } from './unroll.ts';

/**
 * Sets `const H/I/O: u32 = <n>u;` and, with `unroll`, unrolls the loops over H, I, O and the sizes of the shape's
 * cell (NPARAM, NWEIGHTS, NSTATE, NREC, NGATE and RTRL's NSENS = NSTATE·NREC; src/cells/cell.ts cellSizes).
 */
export function specializeShape(
  source: string,
  shape: Shape & { cell?: CellName },
  unroll = true,
  maxChars?: number,
): string {
  const { inputSize, hiddenSize, outputSize } = shape;
  let out = source;
  for (const [name, value] of [
    ['H', hiddenSize],
    ['I', inputSize],
    ['O', outputSize],
  ] as const) {
    const re = new RegExp(`^const ${name}: u32 = \\d+u;$`, 'm');
    if (!re.test(out))
      throw new GpuError(`per-sequence kernel: expected a line "const ${name}: u32 = <n>u;" to specialize`);
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  if (!unroll) return out;
  const z = cellSizes(cellOf(shape), shape);
  return unrollLoops(out, { H: hiddenSize, I: inputSize, O: outputSize, ...z, NSENS: z.NSTATE * z.NREC }, maxChars);
}

/** Sets `const NAME: u32 = <n>u;` lines (private-array sizes) and unrolls the loops over those names. */
export function specializeConsts(source: string, label: string, values: Record<string, number>): string {
  let out = source;
  for (const [name, value] of Object.entries(values)) {
    const re = new RegExp(`^const ${name}: u32 = \\d+u;$`, 'm');
    if (!re.test(out)) throw new GpuError(`${label}: expected a line "const ${name}: u32 = <n>u;" to specialize`);
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  return unrollLoops(out, values);
}
