// Reflection of the WGSL kernels (src/gpu/reflect.ts) reads only the module-scope declarations (declarationsOnly):
// these tests check that the declarations wgsl_reflect finds there (bindings with group, binding and access;
// uniform structs with every member's offset and size; overrides; compute entry points) are exactly those it finds
// in the whole source, for every kernel of the project with the cell spliced in and the shape specialized.

import { describe, expect, it } from 'vitest';
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { shaders } from '#shaders';
import { elman } from '../src/cells/index.ts';
import { withCell } from '../src/gpu/cell.ts';
import { declarationsOnly, reflectKernel } from '../src/gpu/reflect.ts';
import { specializeShape } from '../src/gpu/specialize.ts';
import { selectUse } from '../src/gpu/per-sequence/bptt.ts';

type Struct = { members?: { name: string; offset: number; size: number }[] };

function declarations(source: string): unknown {
  const r = new WgslReflect(source);
  const buffers = [...r.uniforms, ...r.storage].map((v) => ({
    name: v.name,
    group: v.group,
    binding: v.binding,
    resourceType: v.resourceType,
    access: v.access,
    size: v.size,
    members: ((v.type as unknown as Struct).members ?? []).map((m) => [m.name, m.offset, m.size]),
  }));
  return { buffers, overrides: r.overrides.map((o) => o.name), entries: r.entry.compute.map((f) => f.name) };
}

const SHAPE = { inputSize: 2, hiddenSize: 3, outputSize: 2 };
const spliced = (name: keyof typeof shaders): string => withCell(name, shaders[name] as string, elman);
const SOURCES: [string, string][] = [
  ...(['run', 'train'] as const).map((use): [string, string] => [
    `per_sequence/bptt ${use} (specialized)`,
    specializeShape(withCell(use, selectUse(use, shaders.per_sequence.bptt, use), elman), SHAPE),
  ]),
  ['rtrl (specialized)', specializeShape(spliced('rtrl'), SHAPE)],
  ['gemm', spliced('gemm')],
  ['optimizer', spliced('optimizer')],
  ['unroll_study', spliced('unroll_study')],
  ...(['reduce', 'model_sums', 'clip', 'copy', 'fma', 'gather'] as const).map((n): [string, string] => [n, shaders[n]]),
];

describe('reflection from the module-scope declarations', () => {
  for (const [name, source] of SOURCES) {
    it(`${name}: the same bindings, uniform layouts, overrides and entry points as the whole source`, () => {
      const short = declarationsOnly(source);
      expect(short.length).toBeLessThan(source.length);
      expect(short).not.toMatch(/\/\//);
      const d = declarations(source) as { entries: string[] };
      expect(declarations(short)).toEqual(d);
      expect(d.entries.length).toBeGreaterThan(0);
      for (const entry of d.entries) expect(reflectKernel(name, source, entry).bindings.length).toBeGreaterThan(0);
    });
  }
});
