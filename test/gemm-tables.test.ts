// What the gemm host reads from gemm.wgsl instead of restating it: the size table of each kind's product and the
// step records' flags (evaluateU32, for every cell), the records section shared with gemm/gates.wgsl (the same
// reflected Step and Dims layouts), step records packed by member name (writeUniform), and the errors naming a
// missing or unevaluable constant. No GPU.

import { describe, expect, it } from 'vitest';
import { shaders } from '#shaders';
import { cellByName, layoutOf, type CellName } from '../src/cells/index.ts';
import { GpuError } from '../src/errors.ts';
import { withCell } from '../src/gpu/cell.ts';
import { gemmKinds, withRecords } from '../src/gpu/gemm/kernels.ts';
import { evaluateU32, reflectKernel, writeUniform } from '../src/gpu/reflect.ts';

const I = 3;
const H = 5;
const O = 2;
const TABLE = ['PROJ', 'STEP', 'OUT', 'DZ', 'WGRAD_H', 'WGRAD_Y', 'INIT', 'WSUM', 'WGRAD_X'];

describe("gemm.wgsl's size table and flags", () => {
  it('gives every kind of every cell its product size (N 0: one column per sequence)', () => {
    const expected: Record<CellName, number[][]> = {
      // [M, N] per kind in TABLE order; Elman's WGRAD_H has the x columns too, the gated cells' WGRAD_X has them.
      elman: [
        [5, 0],
        [5, 0],
        [2, 0],
        [5, 0],
        [5, 9],
        [2, 6],
        [5, 0],
        [1, 57],
        [5, 4],
      ],
      lstm: [
        [20, 0],
        [20, 0],
        [2, 0],
        [5, 0],
        [20, 6],
        [2, 6],
        [10, 0],
        [1, 212],
        [20, 4],
      ],
      gru: [
        [15, 0],
        [15, 0],
        [2, 0],
        [5, 0],
        [15, 6],
        [2, 6],
        [5, 0],
        [1, 162],
        [15, 4],
      ],
    };
    for (const name of ['elman', 'lstm', 'gru'] as const) {
      const cell = cellByName(name);
      const src = withCell('gemm', shaders.gemm, cell);
      const names = TABLE.flatMap((k) => [`${k}_M`, `${k}_N`]);
      const v = evaluateU32('gemm', src, { H, I, O }, names);
      expect(
        TABLE.map((k) => [v[`${k}_M`], v[`${k}_N`]]),
        name,
      ).toEqual(expected[name]);
      expect(v.WSUM_N, name).toBe(layoutOf(cell, { inputSize: I, hiddenSize: H, outputSize: O }).count);
      expect(gemmKinds(cell, true).includes('wgradX'), name).toBe(name !== 'elman');
    }
  });

  it('reads the flags and takes the pipeline values of the overrides it is given', () => {
    const src = withCell('gemm', shaders.gemm, cellByName('elman'));
    expect(evaluateU32('gemm', src, {}, ['NONE', 'HAS_DY', 'FLOW', 'LOSS'])).toEqual({
      NONE: 0xffffffff,
      HAS_DY: 1,
      FLOW: 2,
      LOSS: 4,
    });
    // Defaults (H = I = O = 1) where no value is given; an override's value replaces its default expression.
    expect(evaluateU32('gemm', src, {}, ['WGRAD_H_N', 'OFF_WHT'])).toEqual({ WGRAD_H_N: 3, OFF_WHT: 6 });
    expect(evaluateU32('gemm', src, { H: 4, XC: 0 }, ['WGRAD_H_N'])).toEqual({ WGRAD_H_N: 5 });
  });

  it('names a constant the shader lacks, or one it cannot evaluate', () => {
    const src = withCell('gemm', shaders.gemm, cellByName('elman'));
    expect(() => evaluateU32('gemm[x]', src, {}, ['NOPE_M'])).toThrow(GpuError);
    expect(() => evaluateU32('gemm[x]', src, {}, ['NOPE_M'])).toThrow(
      /gemm\[x\]: the shader declares no u32 const or override "NOPE_M"/,
    );
    expect(() => evaluateU32('k', 'override A: u32 = max(1u, 2u);', {}, ['A'])).toThrow(
      /k: cannot evaluate u32 "A" = max\(1u, 2u\) on the host/,
    );
    expect(() => evaluateU32('k', 'const A: u32 = B + 1u;\nconst B: u32 = A;', {}, ['A'])).toThrow(
      /k: u32 "A" is defined in terms of itself/,
    );
    expect(() => evaluateU32('k', 'const A: u32 = 1u - 2u;', {}, ['A'])).toThrow(
      /k: u32 "A" = 1u - 2u evaluates to -1/,
    );
    expect(() => evaluateU32('k', 'const A: u32 = B + 1u;', {}, ['A'])).toThrow(
      /k: u32 "A" = B \+ 1u uses "B", which is no u32 const or override/,
    );
    // Declarations inside function bodies are not the module's.
    expect(() => evaluateU32('k', 'fn f() { const A: u32 = 1u; }', {}, ['A'])).toThrow(/declares no u32/);
  });
});

describe('the step records, declared once', () => {
  it("gemm/gates.wgsl gets gemm.wgsl's records section: the same Step and Dims layouts", () => {
    const gemm = reflectKernel('gemm', withCell('gemm', shaders.gemm, cellByName('elman')), 'main');
    const gatesSrc = withRecords('gates', withCell('gates', shaders.gemm_gates, cellByName('lstm')));
    expect(shaders.gemm_gates).not.toMatch(/struct Step\b/);
    expect(gatesSrc).not.toMatch(/^\s*\/\/ @records\s*$/m);
    const gates = reflectKernel('gates', gatesSrc, 'main');
    expect(gates.uniforms.step).toEqual(gemm.uniforms.step);
    expect(gates.uniforms.dims).toEqual(gemm.uniforms.dims);
    expect(Object.keys(gemm.uniforms.step.members).filter((m) => !m.startsWith('_'))).toEqual([
      't',
      'count',
      'cur',
      'prev',
      'also',
      'dzCur',
      'dzNext',
      'flags',
      'dy',
    ]);
    expect(() => withRecords('k', 'override H: u32 = 1u;\n')).toThrow(/k: the shader has no "\/\/ @records" line/);
  });

  it('packs a record by member name at the offsets the struct declares, and names a wrong member', () => {
    const { step } = reflectKernel('gemm', withCell('gemm', shaders.gemm, cellByName('gru')), 'main').uniforms;
    const view = new DataView(new ArrayBuffer(512));
    const r = { t: 7, count: 2, cur: 30, prev: 10, also: 0xffffffff, dzCur: 99, dzNext: 5, flags: 3, dy: 11 };
    writeUniform('rec', step, r, view, 256);
    for (const [name, v] of Object.entries(r)) expect(view.getUint32(256 + step.members[name].offset, true)).toBe(v);
    expect(view.getUint32(0, true)).toBe(0);
    expect(() => writeUniform('rec', step, { ...r, bogus: 1 }, view, 0)).toThrow(
      /rec: the host sets uniform member "bogus" but the shader's struct has no such member/,
    );
    const { dy: _dy, ...noDy } = r;
    expect(() => writeUniform('rec', step, noDy, view, 0)).toThrow(/rec: the shader's uniform member "dy" is not set/);
  });
});
