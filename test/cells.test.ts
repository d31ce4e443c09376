// The cell as a module: the descriptor's layout against the closed form of the Elman layout, the generated WGSL
// layout against the descriptor, the splice (exactly one act/actGrad in every kernel that runs a cell, no shader
// keeping its own copy), the splice's errors, and on WebGPU the `scalar` part compiled with override H, I, O (as a
// tiled GEMM kernel uses it) giving act, actGrad, the overflow test and the offsets of the descriptor.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CELLS, cellByName, cellOf, cellSizes, elman, layoutOf, lstm, wgslLayout } from '../src/cells/index.ts';
import { GpuError } from '../src/errors.ts';
import { withCell } from '../src/gpu/cell.ts';
import { Kernel } from '../src/gpu/kernel.ts';
import { shaders } from '../src/gpu/shaders.node.ts';
import { specializeShape } from '../src/gpu/specialize.ts';
import { paramLayout } from '../src/model.ts';
import { describeGpu } from './helpers/gpu.ts';

const SHAPES = [
  [1, 1, 1],
  [3, 5, 2],
  [16, 16, 16],
  [2, 7, 3],
].map(([I, H, O]) => ({ inputSize: I, hiddenSize: H, outputSize: O }));

/**
 * Shaders that still define act/actGrad and the layout themselves (none: every kernel that runs the cell splices
 * it). An entry here would make the test below expect that shader to keep its own copy.
 */
const NOT_YET_SPLICED: string[] = [];

/** Shaders that run the cell, with the kernel source the host builds from each. */
const SPLICED: Record<string, string> = {
  'gemm/gemm.wgsl': shaders.gemm,
  'gemm/gates.wgsl': shaders.gemm_gates,
  'rtrl/rtrl.wgsl': shaders.rtrl,
  'study/unroll_study.wgsl': shaders.unroll_study,
  'optimizer/optimizer.wgsl': shaders.optimizer,
};

const shaderDir = new URL('../shaders/', import.meta.url);
const count = (src: string, re: RegExp): number => src.match(re)?.length ?? 0;

/** Evaluates generated `const NAME: u32 = expr;` lines for numbers H, I, O (expressions of +, * and earlier names). */
function evalLayout(text: string, dims: Record<string, number>): Record<string, number> {
  const env: Record<string, number> = { ...dims };
  for (const m of text.matchAll(/^(?:const|override) (\w+): u32 = ([^;]+);/gm)) {
    const expr = m[2].replace(/(\d+)u\b/g, '$1').replace(/[A-Z_][A-Z0-9_]*/g, (name) => {
      if (!(name in env)) throw new Error(`undefined ${name} in ${m[0]}`);
      return String(env[name]);
    });
    if (!/^[\d\s+*]+$/.test(expr)) throw new Error(`unexpected expression ${m[2]}`);
    env[m[1]] = expr.split('+').reduce((s, term) => s + term.split('*').reduce((p, f) => p * Number(f), 1), 0);
  }
  return env;
}

describe('the Elman cell descriptor', () => {
  it('lays out Wx, Wh, bh, Wy, by in the canonical order, and paramLayout delegates to it', () => {
    for (const s of SHAPES) {
      const { inputSize: I, hiddenSize: H, outputSize: O } = s;
      const L = layoutOf(elman, s);
      expect(L.order.map((b) => [b.name, b.offset, b.rows, b.cols, b.size])).toEqual([
        ['Wx', 0, H, I, H * I],
        ['Wh', H * I, H, H, H * H],
        ['bh', H * I + H * H, H, 0, H],
        ['Wy', H * I + H * H + H, O, H, O * H],
        ['by', H * I + H * H + H + O * H, O, 0, O],
      ]);
      expect(L.count).toBe(H * I + H * H + H + O * H + O);
      expect(L.recurrent).toBe(H * I + H * H + H);
      expect(paramLayout(s)).toEqual(L);
      expect(paramLayout({ ...s, cell: 'elman' })).toEqual(L);
      expect(cellSizes(elman, s)).toEqual({
        NPARAM: L.count,
        NWEIGHTS: L.count + H,
        NSTATE: H,
        NREC: L.recurrent,
        NGATE: H,
      });
    }
  });

  it('is the registry default, and an unknown cell is refused by name', () => {
    expect(cellOf({})).toBe(elman);
    expect(cellByName('elman')).toBe(elman);
    expect(Object.keys(CELLS)).toEqual(['elman', 'lstm', 'gru']);
    expect(() => cellByName('rnn')).toThrow(/unknown cell "rnn" \(known: elman, lstm, gru\)/);
  });

  it('generates a WGSL layout with the offsets of the descriptor, as consts or overrides', () => {
    for (const s of SHAPES) {
      const L = layoutOf(elman, s);
      const z = cellSizes(elman, s);
      for (const keyword of ['const', 'override'] as const) {
        const text = wgslLayout(elman, keyword);
        expect(count(text, /^(const|override) /gm)).toBe(count(text, new RegExp(`^${keyword} `, 'gm')));
        const v = evalLayout(text, { H: s.hiddenSize, I: s.inputSize, O: s.outputSize });
        for (const b of L.order) expect(v[`OFF_${b.name.toUpperCase()}`]).toBe(b.offset);
        expect([v.NPARAM, v.NWEIGHTS, v.NSTATE, v.NREC, v.NGATE, v.OFF_H0]).toEqual([
          z.NPARAM,
          z.NWEIGHTS,
          z.NSTATE,
          z.NREC,
          z.NGATE,
          z.NPARAM,
        ]);
      }
    }
  });
});

describe('splicing the cell into the kernels', () => {
  // Every kernel family's shaders (shaders/<family>/), less the cell modules themselves and the per-sequence
  // family, whose kernels are checked below (bptt.wgsl) and by the layer tests (layer.wgsl, readout.wgsl).
  const files = readdirSync(shaderDir, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.wgsl') && !/^(cells|per_sequence)\//.test(f))
    .sort();

  it('no shader in shaders/ defines act, actGrad or the layout itself except the cell module and the listed ones', () => {
    const own = files.filter((f) =>
      /\bfn act\(|\bfn actGrad\(|\bOFF_WH: u32 =|\bNPARAM: u32 =/.test(readFileSync(new URL(f, shaderDir), 'utf8')),
    );
    expect(own).toEqual(NOT_YET_SPLICED);
    const cell = readFileSync(new URL('cells/elman.wgsl', shaderDir), 'utf8');
    expect([count(cell, /\bfn act\(/g), count(cell, /\bfn actGrad\(/g)]).toEqual([1, 1]);
  });

  it('every shader with a "// @cell" line is spliced by its kernel, and none is left out', () => {
    const marked = files.filter((f) => /^\/\/ @cell\b/m.test(readFileSync(new URL(f, shaderDir), 'utf8')));
    expect(marked).toEqual(Object.keys(SPLICED).sort());
  });

  it('gives every kernel exactly one act, actGrad and layout, and specializes to the same sizes', () => {
    for (const [file, source] of Object.entries(SPLICED)) {
      const cell = file === 'gemm/gates.wgsl' ? lstm : elman; // the gate steps are for gated cells only
      const out = withCell(file, source, cell);
      expect(out).not.toMatch(/^\/\/ @(cell|part)\b/m);
      // The optimizer takes the layout only; the gated cells' gate steps use σ and tanh, and have no act.
      const acts = file === 'optimizer/optimizer.wgsl' || file === 'gemm/gates.wgsl' ? 0 : 1;
      expect([count(out, /\bfn act\(/g), count(out, /\bfn actGrad\(/g)], file).toEqual([acts, acts]);
      const layouts = file === 'study/unroll_study.wgsl' ? 0 : 1; // the study's scalar network has its own weights
      // gemm.wgsl declares H, I, O as overrides, so its layout is overrides too; the others specialize consts.
      const overrides = file === 'gemm/gemm.wgsl' || file === 'gemm/gates.wgsl';
      expect(count(out, overrides ? /^override NPARAM: u32 =/gm : /^const NPARAM: u32 =/gm), file).toBe(layouts);
      if (layouts) {
        const s = { inputSize: 3, hiddenSize: 5, outputSize: 2 };
        const v = overrides
          ? evalLayout(
              out
                .split('\n')
                .filter((l) => /^(const|override) (OFF_\w+|NPARAM|NREC|NSTATE|NGATE|NWEIGHTS):/.test(l))
                .join('\n'),
              { H: 5, I: 3, O: 2 },
            )
          : evalLayout(specializeShape(out, s, false), {});
        expect(v.NWEIGHTS, file).toBe(cellSizes(cell, s).NWEIGHTS);
      }
    }
  });

  it('splices the gated cells into the per-sequence kernels with their own sizes (h0 then c0 after the parameters)', () => {
    const s = { inputSize: 3, hiddenSize: 5, outputSize: 2 };
    for (const name of ['lstm', 'gru'] as const) {
      const cell = cellByName(name);
      const z = cellSizes(cell, s);
      expect([z.NSTATE, z.NGATE]).toEqual(name === 'lstm' ? [10, 20] : [5, 15]);
      for (const file of ['per_sequence/bptt.wgsl', 'rtrl/rtrl.wgsl', 'optimizer/optimizer.wgsl']) {
        const out = withCell(file, file === 'per_sequence/bptt.wgsl' ? shaders.per_sequence.bptt : SPLICED[file], cell);
        expect(out).not.toMatch(/^\/\/ @(cell|part)\b/m);
        expect(count(out, /\bfn act\(/g), file).toBe(0);
        const v = evalLayout(specializeShape(out, { ...s, cell: name }, false), {});
        expect([v.NPARAM, v.NWEIGHTS, v.NSTATE, v.NGATE, v.OFF_H0], `${name} ${file}`).toEqual([
          z.NPARAM,
          z.NWEIGHTS,
          z.NSTATE,
          z.NGATE,
          z.NPARAM,
        ]);
        if (name === 'lstm') expect(v.OFF_C0).toBe(z.NPARAM + s.hiddenSize);
        const kernelParts = file === 'optimizer/optimizer.wgsl' ? 0 : 1;
        expect(count(out, /\bfn cellForward\(/g), file).toBe(kernelParts);
        expect(count(out, /\bfn overflowed\(/g), file).toBe(kernelParts);
      }
    }
  });

  it("part gemm: every cell's own epilogues once, and the blocks by role and record rows of its descriptor", () => {
    const s = { inputSize: 3, hiddenSize: 5, outputSize: 2 };
    const roles = (file: string, name: string): Record<string, number> =>
      evalLayout(
        withCell(file, shaders.gemm, cellByName(name))
          .split('\n')
          .filter((l) => /^override (OFF_\w+|NPARAM|NREC|NSTATE|NGATE|NWEIGHTS|GEMM_\w+|SR|DR|ZX|DAX|XC):/.test(l))
          .join('\n'),
        { H: 5, I: 3, O: 2 },
      );
    for (const name of ['elman', 'lstm', 'gru'] as const) {
      const out = withCell('gemm/gemm.wgsl', shaders.gemm, cellByName(name));
      for (const fn of ['gemmProj', 'gemmStep', 'gemmDz'])
        expect(count(out, new RegExp(`\\bfn ${fn}\\(`, 'g')), `${name} ${fn}`).toBe(1);
      // Elman's epilogues hold its activation; a gated cell's products have none (its gate steps follow).
      expect(count(out, /\bfn act\(/g), name).toBe(name === 'elman' ? 1 : 0);
      const L = layoutOf(cellByName(name), s).blocks as Record<string, { offset: number }>;
      const v = roles('gemm/gemm.wgsl', name);
      const bx = name === 'elman' ? L.bh : L.bx;
      expect([v.GEMM_WX, v.GEMM_WH, v.GEMM_BX, v.GEMM_BH, v.GEMM_WY, v.GEMM_BY], name).toEqual([
        L.Wx.offset,
        L.Wh.offset,
        bx.offset,
        L.bh.offset,
        L.Wy.offset,
        L.by.offset,
      ]);
      // Rows of a step slot, a gradient slot, Zx and the input side's da; WGRAD_H's x columns (Elman: all I).
      expect([v.SR, v.DR, v.ZX, v.DAX, v.XC], name).toEqual(
        { elman: [5, 5, 0, 0, 3], lstm: [30, 25, 10, 0, 0], gru: [25, 35, 5, 20, 0] }[name],
      );
    }
    expect(() =>
      withCell('k', 'override H: u32 = 1u;\n// @cell gemm\n', {
        ...lstm,
        gemm: { ...lstm.gemm, blocks: { ...lstm.gemm.blocks, inputBias: 'b' } },
      }),
    ).toThrow(/gemm\.blocks\.inputBias names "b", which is not one of its blocks/);
  });

  it('declares the layout as overrides when the kernel declares H as an override (tiled GEMM kernels)', () => {
    const src =
      'override H: u32 = 1u;\noverride I: u32 = 1u;\noverride O: u32 = 1u;\noverride OUT_ALL: bool = false;\n// @cell scalar\n';
    const out = withCell('gemm-like', src, elman);
    expect(out).toMatch(/^override OFF_WH: u32 = OFF_WX \+ H \* I;/m);
    expect(out).not.toMatch(/^const OFF_/m);
    expect(out).toMatch(/\bfn outIndex\(/);
    expect(out).not.toMatch(/\bfn cellForward\(/);
  });

  it('refuses a source without exactly one marker, an unknown part, or private-array parts over override sizes', () => {
    expect(() => withCell('k', 'const H: u32 = 1u;', elman)).toThrow(GpuError);
    expect(() => withCell('k', 'const H: u32 = 1u;', elman)).toThrow(
      /k: expected exactly one "\/\/ @cell <part> …" line .* found 0/,
    );
    expect(() => withCell('k', '// @cell activation\n// @cell activation\n', elman)).toThrow(/found 2/);
    expect(() => withCell('k', '// @cell bogus\n', elman)).toThrow(/unknown cell part "bogus"/);
    // Part `gates` is the gated cells' (their unit steps for gemm); for Elman it adds nothing to the layout and activation.
    const eg = withCell('k', 'override H: u32 = 1u;\n// @cell gates\n', elman);
    expect(eg).not.toMatch(/\bGATES\b|\bfn gateForward\(/);
    expect(count(eg, /\bfn act\(/g)).toBe(1);
    const lg = withCell('k', 'override H: u32 = 1u;\n// @cell gates\n', lstm);
    expect(lg).toMatch(/^const SLOT_VECS: u32 = 6u;$/m);
    expect([count(lg, /\bfn act\(/g), count(lg, /\bfn gateForward\(/g), count(lg, /\bfn gateBackward\(/g)]).toEqual([
      0, 1, 1,
    ]);
    expect(() => withCell('k', '// @cell\n', elman)).toThrow(/names no part/);
    expect(() => withCell('k', '// @cell layout\n', elman)).toThrow(/declare "const H: u32" or "override H: u32"/);
    expect(() => withCell('k', 'override H: u32 = 1u;\n// @cell backward\n', elman)).toThrow(
      /needs "const H: u32", not an override/,
    );
    expect(withCell('k', '// @cell activation\n', elman)).not.toMatch(/OFF_WX/);
  });
});

const { STORAGE, COPY_SRC, COPY_DST, MAP_READ } = { STORAGE: 0x80, COPY_SRC: 0x4, COPY_DST: 0x8, MAP_READ: 0x1 };

// A kernel that uses the cell the way a tiled GEMM kernel does: H, I, O overrides, scalar functions only.
const SCALAR_PROBE = `
override H: u32 = 1u;
override I: u32 = 1u;
override O: u32 = 1u;
override OUT_ALL: bool = false;
// @cell scalar
@group(0) @binding(0) var<storage, read> zs: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> offs: array<u32>;
@compute @workgroup_size(1)
fn main() {
  let n = arrayLength(&zs);
  for (var k = 0u; k < n; k++) {
    let h = act(zs[k]);
    out[3u * k] = h;
    out[3u * k + 1u] = actGrad(h);
    out[3u * k + 2u] = select(0.0, 1.0, overflowed(overflowTerm(zs[k])));
  }
  offs[0] = OFF_WX; offs[1] = OFF_WH; offs[2] = OFF_BH; offs[3] = OFF_WY; offs[4] = OFF_BY; offs[5] = OFF_H0;
  offs[6] = NPARAM; offs[7] = NWEIGHTS; offs[8] = NSTATE; offs[9] = NREC; offs[10] = outIndex(2u, 1u, 3u, 10u);
}`;

async function read(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const rb = device.createBuffer({ label: 'cells test readback', size: bytes, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder({ label: 'cells test readback' });
  enc.copyBufferToBuffer(src, 0, rb, 0, bytes);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(MAP_READ);
  const out = rb.getMappedRange().slice(0);
  rb.destroy();
  return out;
}

await describeGpu('the cell module on WebGPU', (gpu) => {
  it('compiles its scalar part over override H, I, O: act, actGrad (ReLU′(0) = 0), the overflow test and the offsets', async () => {
    const device = gpu().device!;
    const zs = Float32Array.from([-2, 0, 0.5, 3, 20, -20, 3.0e38, -Infinity, NaN]);
    const s = { inputSize: 3, hiddenSize: 5, outputSize: 2 };
    for (const activation of ['relu', 'tanh', 'identity'] as const) {
      for (const outAll of [false, true]) {
        const label = `cells test scalar probe ${activation}${outAll ? ' all' : ''}`;
        const k = Kernel.get(device, label, () => ({
          label,
          source: withCell(label, SCALAR_PROBE, elman),
          entry: 'main',
          constants: {
            H: s.hiddenSize,
            I: s.inputSize,
            O: s.outputSize,
            OUT_ALL: outAll,
            ...elman.overrides(activation),
          },
        }));
        const zb = device.createBuffer({ label: `${label} zs`, size: zs.byteLength, usage: STORAGE | COPY_DST });
        device.queue.writeBuffer(zb, 0, zs);
        const ob = device.createBuffer({ label: `${label} out`, size: zs.byteLength * 3, usage: STORAGE | COPY_SRC });
        const fb = device.createBuffer({ label: `${label} offs`, size: 11 * 4, usage: STORAGE | COPY_SRC });
        const enc = device.createCommandEncoder({ label });
        const pass = enc.beginComputePass({ label });
        pass.setPipeline(k.pipeline);
        pass.setBindGroup(0, k.bind('probe', { zs: zb, out: ob, offs: fb }));
        pass.dispatchWorkgroups(1);
        pass.end();
        device.queue.submit([enc.finish()]);
        const out = new Float32Array(await read(device, ob, zs.byteLength * 3));
        const offs = Array.from(new Uint32Array(await read(device, fb, 11 * 4)));
        [zb, ob, fb].forEach((b) => b.destroy());

        zs.forEach((z, j) => {
          const [h, d, flag] = [out[3 * j], out[3 * j + 1], out[3 * j + 2]];
          expect(flag, `overflow flag of ${z}`).toBe(Number.isFinite(z) ? 0 : 1);
          if (!Number.isFinite(z)) return;
          if (activation === 'relu') {
            expect(h).toBe(z > 0 ? z : 0);
            expect(d).toBe(z > 0 ? 1 : 0); // ReLU′(0) = 0
          } else if (activation === 'tanh') {
            // tanh of the clamped z: ±1 in float32 past |z| = 15, never NaN.
            expect(Math.abs(h - Math.tanh(Math.max(-15, Math.min(15, z))))).toBeLessThan(1e-6);
            expect(Math.abs(d - (1 - h * h))).toBeLessThan(1e-6);
          } else {
            expect([h, d]).toEqual([z, 1]);
          }
        });
        const L = paramLayout(s);
        const z = cellSizes(elman, s);
        expect(offs).toEqual([
          L.blocks.Wx.offset,
          L.blocks.Wh.offset,
          L.blocks.bh.offset,
          L.blocks.Wy.offset,
          L.blocks.by.offset,
          z.NPARAM,
          z.NPARAM,
          z.NWEIGHTS,
          z.NSTATE,
          z.NREC,
          outAll ? (2 * 2 + 1) * 10 + 3 : 1 * 10 + 3,
        ]);
      }
    }
  });
});
