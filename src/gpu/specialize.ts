// Sets the shape constants H, I and O in rnn.wgsl and unrolls the loops over them (src/gpu/unroll.ts). Private-array
// lengths must be const-expressions, which WGSL overrides cannot reach, so this is the one place WGSL text is
// edited; everything else uses overrides.

import { GpuError } from '../errors.ts';
import { paramLayout, type Shape } from '../model.ts';
import { unrollLoops } from './unroll.ts';

/**
 * `maxChars` is the unroll budget (src/gpu/unroll.ts): the source size past which loops stay loops. Kernels pass
 * their adapter's budget (src/gpu/tuning.ts).
 */
export function specializeShape(source: string, { inputSize, hiddenSize, outputSize }: Shape, unroll = true, maxChars?: number): string {
  let out = source;
  for (const [name, value] of [['H', hiddenSize], ['I', inputSize], ['O', outputSize]] as const) {
    const re = new RegExp(`^const ${name}: u32 = \\d+u;$`, 'm');
    if (!re.test(out)) throw new GpuError(`rnn.wgsl: expected a line "const ${name}: u32 = <n>u;" to specialize`);
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  if (!unroll) return out;
  const nparam = paramLayout({ inputSize, hiddenSize, outputSize }).count;
  return unrollLoops(out, { H: hiddenSize, I: inputSize, O: outputSize, NPARAM: nparam, NWEIGHTS: nparam + hiddenSize }, maxChars);
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
