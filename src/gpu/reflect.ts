// Host/shader agreement through wgsl_reflect: binding layouts and uniform offsets are read from the WGSL itself,
// so the host never hard-codes a binding number or a byte offset, and the values of a kernel's u32 constants (flags,
// size tables) are evaluated from its declarations. A mismatch throws a GpuError naming the binding or constant.

import { ResourceType, WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { GpuError } from '../errors.ts';

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
}

export interface UniformMember {
  offset: number;
  size: number;
  /** WGSL scalar type: u32, i32 or f32. */
  type: string;
}

export interface UniformLayout {
  size: number;
  members: Record<string, UniformMember>;
}

export interface KernelReflection {
  entry: string;
  bindings: BindingInfo[];
  /** Layout of each uniform binding's struct, by binding name. */
  uniforms: Record<string, UniformLayout>;
  /** Names of the overrides the module declares. */
  overrides: string[];
}

/**
 * The module-scope declarations of a WGSL source: comments dropped and every function body emptied. Bindings,
 * uniform structs, overrides and entry points are all declared at module scope, so reflecting this text gives the
 * same layouts as the whole source, in a fraction of the time: an unrolled kernel's bodies run to 100,000 characters,
 * and wgsl_reflect took over a second on one (on the page's main thread, too). Which buffers an entry point uses is
 * then read from the whole source by name (reflectKernel).
 */
export function declarationsOnly(source: string): string {
  const src = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
  const fn = /\bfn\s+\w+/g;
  let out = '';
  let at = 0;
  for (let m = fn.exec(src); m; m = fn.exec(src)) {
    const open = src.indexOf('{', m.index);
    if (open < 0) break;
    let depth = 0;
    let close = open;
    for (; close < src.length; close++) {
      if (src[close] === '{') depth++;
      else if (src[close] === '}' && --depth === 0) break;
    }
    out += src.slice(at, open) + '{}';
    at = close + 1;
    fn.lastIndex = at;
  }
  return out + src.slice(at);
}

export function reflectKernel(label: string, source: string, entry: string): KernelReflection {
  let r: WgslReflect;
  try {
    r = new WgslReflect(declarationsOnly(source));
  } catch (e) {
    throw new GpuError(`${label}: wgsl_reflect cannot parse the shader: ${(e as Error).message}`);
  }
  const fn = r.entry.compute.find((f) => f.name === entry);
  if (!fn) throw new GpuError(`${label}: the shader has no compute entry point "${entry}"`);
  const bindings: BindingInfo[] = [];
  const uniforms: Record<string, UniformLayout> = {};
  // The entry point's uses are not reflected (its body is not parsed: declarationsOnly): every module buffer the
  // whole source names again after its declaration is bound. Binding one more buffer than the entry point needs is
  // harmless; binding one less fails pipeline creation.
  const used = [...fn.resources];
  for (const v of [...r.uniforms, ...r.storage]) {
    const mentions = source.match(new RegExp(`\\b${v.name}\\b`, 'g'))?.length ?? 0;
    if (!used.some((u) => u.name === v.name) && mentions > 1) used.push(v);
  }
  for (const v of used) {
    if (v.resourceType === ResourceType.Uniform) {
      bindings.push({ name: v.name, group: v.group, binding: v.binding, kind: 'uniform' });
      const members: Record<string, UniformMember> = {};
      const struct = v.type as unknown as {
        members?: { name: string; offset: number; size: number; type: { name: string } }[];
      };
      for (const m of struct.members ?? []) members[m.name] = { offset: m.offset, size: m.size, type: m.type.name };
      uniforms[v.name] = { size: v.size, members };
    } else if (v.resourceType === ResourceType.Storage) {
      bindings.push({
        name: v.name,
        group: v.group,
        binding: v.binding,
        kind: v.access === 'read' ? 'read-only-storage' : 'storage',
      });
    } else {
      throw new GpuError(
        `${label}: binding "${v.name}" is neither a uniform nor a storage buffer; compute kernels here use buffers only`,
      );
    }
  }
  const groups = new Set(bindings.map((b) => b.group));
  if (groups.size > 1 || (groups.size === 1 && !groups.has(0))) {
    throw new GpuError(`${label}: every binding must be in @group(0); found groups ${[...groups].join(', ')}`);
  }
  bindings.sort((a, b) => a.binding - b.binding);
  return { entry, bindings, uniforms, overrides: r.overrides.map((o) => o.name) };
}

/** Packs uniform values at the offsets the shader declares. Every member must be given, except `_pad*` ones. */
export function packUniform(label: string, layout: UniformLayout, values: Record<string, number>): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(layout.size / 16) * 16));
  writeUniform(label, layout, values, new DataView(buf), 0);
  return buf;
}

/**
 * Writes uniform values at the offsets the shader declares into `view` from `byteOffset` (one record of a table
 * read through a dynamic offset). Every member must be given, except `_pad*` ones.
 */
export function writeUniform(
  label: string,
  layout: UniformLayout,
  values: Record<string, number>,
  view: DataView,
  byteOffset: number,
): void {
  for (const name of Object.keys(values)) {
    if (!layout.members[name])
      throw new GpuError(`${label}: the host sets uniform member "${name}" but the shader's struct has no such member`);
  }
  for (const [name, m] of Object.entries(layout.members)) {
    const v = values[name];
    if (v === undefined) {
      if (name.startsWith('_')) continue;
      throw new GpuError(`${label}: the shader's uniform member "${name}" is not set by the host`);
    }
    const at = byteOffset + m.offset;
    if (m.type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new GpuError(`${label}: uniform "${name}" = ${v} does not fit a u32`);
      view.setUint32(at, v, true);
    } else if (m.type === 'i32') view.setInt32(at, v, true);
    else if (m.type === 'f32') view.setFloat32(at, v, true);
    else throw new GpuError(`${label}: uniform member "${name}" has type ${m.type}, which the host cannot pack`);
  }
}

const U32_DECL = /\b(?:const|override)\s+(\w+)\s*:\s*u32\s*=\s*([^;]+);/g;

/**
 * The values of a shader's module-scope u32 `const` and `override` declarations, with the overrides in `constants`
 * (the pipeline's values; the others take their defaults). The host reads flags and size tables this way instead of
 * restating them. The initializers may use u32 literals (decimal or hex), other such declarations, + − * / % and
 * parentheses, which is all these tables use. Throws a GpuError naming `label` if a name in `names` is not declared
 * or does not evaluate to a u32.
 */
export function evaluateU32(
  label: string,
  source: string,
  constants: Record<string, number | boolean>,
  names: readonly string[],
): Record<string, number> {
  const exprs = new Map<string, string>();
  for (const m of declarationsOnly(source).matchAll(U32_DECL)) exprs.set(m[1], m[2].trim());
  const values = new Map<string, number>();
  for (const [k, v] of Object.entries(constants)) if (exprs.has(k)) values.set(k, Number(v));
  const pending = new Set<string>();
  const valueOf = (name: string): number => {
    const known = values.get(name);
    if (known !== undefined) return known;
    const expr = exprs.get(name);
    if (expr === undefined) throw new GpuError(`${label}: the shader declares no u32 const or override "${name}"`);
    if (pending.has(name)) throw new GpuError(`${label}: u32 "${name}" is defined in terms of itself`);
    pending.add(name);
    const v = evalExpr(label, name, expr, (t) => {
      if (!exprs.has(t) && !values.has(t))
        throw new GpuError(`${label}: u32 "${name}" = ${expr} uses "${t}", which is no u32 const or override`);
      return valueOf(t);
    });
    pending.delete(name);
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new GpuError(`${label}: u32 "${name}" = ${expr} evaluates to ${v}, not a u32`);
    values.set(name, v);
    return v;
  };
  return Object.fromEntries(names.map((n) => [n, valueOf(n)]));
}

/** `expr` (literals, names, + − * / %, parentheses) with names resolved by `valueOf`. */
function evalExpr(label: string, name: string, expr: string, valueOf: (n: string) => number): number {
  const tokens = expr.match(/0x[0-9a-fA-F]+u?|\d+u?|\w+|[-+*/%()]|\S/g) ?? [];
  let at = 0;
  const fail = (): never => {
    throw new GpuError(`${label}: cannot evaluate u32 "${name}" = ${expr} on the host`);
  };
  const atom = (): number => {
    const t = tokens[at++];
    if (t === undefined) return fail();
    if (t === '(') {
      const v = sum();
      if (tokens[at++] !== ')') fail();
      return v;
    }
    if (/^(0x[0-9a-fA-F]+|\d+)u?$/.test(t)) return Number(t.replace(/u$/, ''));
    if (/^[A-Za-z_]\w*$/.test(t) && tokens[at] !== '(') return valueOf(t);
    return fail();
  };
  const product = (): number => {
    let v = atom();
    while (tokens[at] === '*' || tokens[at] === '/' || tokens[at] === '%') {
      const op = tokens[at++];
      const r = atom();
      v = op === '*' ? v * r : op === '/' ? Math.floor(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[at] === '+' || tokens[at] === '-') v = tokens[at++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (at !== tokens.length) fail();
  return v;
}
