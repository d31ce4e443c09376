// Per-adapter tuning: which kind of adapter a device is (a hardware GPU, or one of the two software Vulkan drivers
// webgpu-rnn knows), and the settings that depend on it, in one table. Today that is how far the host unrolls the
// shape loops of the per-sequence kernels (src/gpu/unroll.ts): unrolled code runs faster per step, but compiles
// slower, and how much slower depends on the compiler behind the adapter. Measurements: docs/adapters.md.

export type AdapterKind = 'hardware' | 'swiftshader' | 'lavapipe';

/** What `GpuOptions.adapter`, `WEBGPU_RNN_ADAPTER` and `--adapter` accept. */
export type AdapterChoice = 'auto' | AdapterKind;
export const ADAPTER_CHOICES: readonly AdapterChoice[] = ['auto', 'hardware', 'swiftshader', 'lavapipe'];

export interface AdapterTuning {
  /**
   * Unroll budget of the kernels whose loops run over the model's shape (rnn.wgsl, rtrl.wgsl): loops are unrolled,
   * innermost first, while the shader source stays under this many characters; the rest stay loops.
   */
  unrollChars: number;
}

/**
 * Measured on a 2-core machine (docs/adapters.md): pipeline creation grows with the unrolled source at about
 * SwiftShader 0.1 s and lavapipe 0.35 s per 10 k characters, while unrolling pays per step only while the private
 * arrays it makes constant-indexed are small (H ≤ 4). Hardware compilers are much faster, so they get more room.
 */
export const ADAPTER_TUNING: Record<AdapterKind, AdapterTuning> = {
  hardware: { unrollChars: 256 * 1024 },
  swiftshader: { unrollChars: 24 * 1024 },
  lavapipe: { unrollChars: 24 * 1024 },
};

/** The kind of adapter behind a description or GPUAdapterInfo (SwiftShader, Mesa's llvmpipe, or anything else). */
export function adapterKind(info: string | GPUAdapterInfo | undefined | null): AdapterKind {
  const text = typeof info === 'string' ? info : info ? [info.vendor, info.architecture, info.device, info.description].join(' ') : '';
  if (/swiftshader/i.test(text)) return 'swiftshader';
  if (/llvmpipe|lavapipe/i.test(text)) return 'lavapipe';
  return 'hardware';
}

/** The tuning for the adapter behind `device`. `WEBGPU_RNN_UNROLL_CHARS` (Node) overrides the unroll budget, for measuring. */
export function tuningFor(device: GPUDevice): AdapterTuning {
  const base = ADAPTER_TUNING[adapterKind(device.adapterInfo)];
  const env = typeof process !== 'undefined' ? process.env?.WEBGPU_RNN_UNROLL_CHARS : undefined;
  if (env !== undefined && /^\d+$/.test(env.trim())) return { ...base, unrollChars: Number(env) };
  return base;
}
