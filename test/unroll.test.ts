// The host-side unroller for loops over the shape constants (pure text; the GPU suites check the results).

import { describe, expect, it } from 'vitest';
import { unrollLoops } from '../src/gpu/unroll.ts';
import { specializeShape } from '../src/gpu/specialize.ts';
import { shaders } from '../src/gpu/shaders.node.ts';
import { reflectKernel } from '../src/gpu/reflect.ts';
import { withCell } from '../src/gpu/cell.ts';
import { elman } from '../src/cells/index.ts';
import { selectUse } from '../src/gpu/per-sequence/bptt.ts';

describe('unrollLoops', () => {
  it('unrolls nested loops innermost first with constant indices', () => {
    const src = 'fn f() { for (var j = 0u; j < H; j++) { for (var i = 0u; i < I; i++) { a[j * I + i] = 1.0; } } }';
    const out = unrollLoops(src, { H: 2, I: 3 });
    expect(out).not.toMatch(/for \(/);
    expect(out.match(/let j = \du;/g)).toEqual(['let j = 0u;', 'let j = 1u;']);
    expect(out.match(/let i = \du;/g)).toHaveLength(6);
    expect(out.match(/a\[j \* I \+ i\] = 1\.0;/g)).toHaveLength(6);
  });

  it('leaves loops over other bounds alone', () => {
    const src = 'for (var t = 0u; t < len; t++) { for (var j = 0u; j < H; j++) { x += 1.0; } }';
    const out = unrollLoops(src, { H: 2 });
    expect(out).toMatch(/^for \(var t = 0u; t < len; t\+\+\) \{/);
    expect(out.match(/let j = /g)).toHaveLength(2);
  });

  it('keeps loops as loops past the size budget', () => {
    const src = 'for (var p = 0u; p < NPARAM; p++) { rows[p] = g[p]; }';
    const out = unrollLoops(src, { NPARAM: 10_000 }, 1000);
    expect(out).toMatch(/for \(var p = 0u; p < \(NPARAM\); p\+\+\)/);
  });

  it('refuses loops with break or continue', () => {
    expect(() => unrollLoops('for (var j = 0u; j < H; j++) { if (x) { break; } }', { H: 2 })).toThrow(
      /break\/continue/,
    );
  });

  it('produces WGSL that wgsl_reflect still parses, with the same bindings, for every core shape bound', () => {
    for (const [I, H, O] of [
      [1, 1, 1],
      [3, 5, 2],
      [16, 16, 16],
    ]) {
      const shape = { inputSize: I, hiddenSize: H, outputSize: O };
      for (const use of ['run', 'train']) {
        const bptt = withCell('bptt', selectUse('bptt', shaders.per_sequence.bptt, use), elman);
        const rolled = reflectKernel('rolled', specializeShape(bptt, shape, false), 'main');
        const unrolled = reflectKernel('unrolled', specializeShape(bptt, shape, true), 'main');
        expect(unrolled.bindings).toEqual(rolled.bindings);
        expect(unrolled.uniforms).toEqual(rolled.uniforms);
      }
    }
  });
});
