// Per-adapter tuning: which kind of adapter a device is (a hardware GPU, or one of the two software Vulkan drivers
// webgpu-rnn knows), and the settings that depend on it, in one table: how far the host unrolls the shape loops
// of the per-sequence kernels (src/gpu/unroll.ts: unrolled code runs faster per step, but compiles slower, and how
// much slower depends on the compiler behind the adapter), and the gemm strategy's tiling and split-K.
// Measurements: docs/benchmarks.md (History) and docs/architecture.md (The gemm strategy).

export type AdapterKind = 'hardware' | 'swiftshader' | 'lavapipe';

/** What `GpuOptions.adapter`, `WEBGPU_RNN_ADAPTER` and `--adapter` accept. */
export type AdapterChoice = 'auto' | AdapterKind;
export const ADAPTER_CHOICES: readonly AdapterChoice[] = ['auto', 'hardware', 'swiftshader', 'lavapipe'];

export interface AdapterTuning {
  /**
   * Unroll budget of the kernels whose loops run over the model's shape (per_sequence/bptt.wgsl, rtrl.wgsl): loops are unrolled,
   * innermost first, while the shader source stays under this many characters; the rest stay loops.
   */
  unrollChars: number;
  /**
   * gemm: stage operand tiles in workgroup memory. GPU practice, and the default on hardware; on the CPU adapters
   * barriers cost more than they save (measured at H = 64, n = 4096: the step product ran at 1.68 GFLOP/s
   * unstaged against 0.35 staged on SwiftShader, 9.2 against 2.4 on lavapipe).
   */
  gemmShared: boolean;
  /** gemm: workgroups the weight-gradient products should reach through split-K (enough to fill the adapter). */
  wgradGroups: number;
  /**
   * gemm, unstaged: outputs per invocation (rows × columns) of the products with at least 48 rows, and of the
   * dWh/dWx/dbh product. Larger tiles load fewer operands per multiply-add but make longer shaders: llvmpipe (lavapipe)
   * took 52 s to compile the first run of one shape (I = 2, H = O = 64) with 8×8, 14 s with 8×4 and 5 s with 4×4,
   * against 6 s with 8×8 on SwiftShader; at run time 8×8 was up to 2× faster than 4×4 on both.
   */
  gemmTile: { rm: number; rn: number };
  gemmWgradTile: { rm: number; rn: number };
  /**
   * `auto`: the largest hidden size that runs per-sequence; larger ones run gemm. Per-sequence serves H ≤ 16.
   * Measured per adapter (forward and forward + BPTT, N = 8,192, T = 64, both strategies in one run on a loaded
   * 2-core machine): per-sequence was 3–12× faster than gemm at H = 8 and 16 on lavapipe and on SwiftShader, so
   * both software adapters keep per-sequence up to its limit. Hardware: not measured (no GPU here).
   */
  perSequenceMaxHidden: number;
  /**
   * `auto` for gated cells (LSTM, GRU): the largest hidden size that runs per-sequence (where its per-cell limit
   * lets it); larger ones run gemm. Measured for an LSTM on lavapipe (N = 4,096, T = 16, I = O = 1, loaded 2-core
   * machine): per-sequence against gemm 6.9 M against 1.6 M sequence-steps/s forward and 4.1 M against 0.13 M with
   * gradients at H = 4, 3.0 M against 0.50 M and 0.86 M against 0.11 M at H = 8; on SwiftShader at H = 8 0.42 M
   * against 0.056 M and 0.047 M against 0.008 M. So per-sequence up to 8 (its limit for the gated cells) on both;
   * hardware: not measured, the same.
   */
  perSequenceMaxHiddenGated: number;
}

/**
 * SwiftShader's budget was raised from 24 k to 96 k characters after measuring the per-sequence kernel at H = 16
 * (forward + BPTT, N = 8,192, T = 64, quiet 2-core machine): 0.28 M steps/s with 1.1 s of pipeline creation at
 * 24 k, 1.5 M steps/s with 2.7 s at 96 k (3.4 s for the first run either way). On lavapipe 128 k gave 5.9 M
 * steps/s against 3.9 M at 24 k, but 8.2 s of pipeline creation against 5.8 s cold, so it keeps 24 k.
 * Measured on a 2-core machine (docs/adapters.md): pipeline creation grows with the unrolled source at about
 * SwiftShader 0.1 s and lavapipe 0.35 s per 10 k characters, while unrolling pays per step only while the private
 * arrays it makes constant-indexed are small (H ≤ 4). Hardware compilers are much faster, so they get more room.
 */
export const ADAPTER_TUNING: Record<AdapterKind, AdapterTuning> = {
  hardware: {
    unrollChars: 256 * 1024,
    gemmShared: true,
    wgradGroups: 2048,
    gemmTile: { rm: 8, rn: 8 },
    gemmWgradTile: { rm: 8, rn: 8 },
    perSequenceMaxHidden: 16,
    perSequenceMaxHiddenGated: 8,
  },
  swiftshader: {
    unrollChars: 96 * 1024,
    gemmShared: false,
    wgradGroups: 16,
    gemmTile: { rm: 8, rn: 8 },
    gemmWgradTile: { rm: 8, rn: 8 },
    perSequenceMaxHidden: 16,
    perSequenceMaxHiddenGated: 8,
  },
  lavapipe: {
    unrollChars: 24 * 1024,
    gemmShared: false,
    wgradGroups: 16,
    gemmTile: { rm: 4, rn: 4 },
    gemmWgradTile: { rm: 8, rn: 4 },
    perSequenceMaxHidden: 16,
    perSequenceMaxHiddenGated: 8,
  },
};

/** The kind of adapter behind a description or GPUAdapterInfo (SwiftShader, Mesa's llvmpipe, or anything else). */
export function adapterKind(info: string | GPUAdapterInfo | undefined | null): AdapterKind {
  const text =
    typeof info === 'string'
      ? info
      : info
        ? [info.vendor, info.architecture, info.device, info.description].join(' ')
        : '';
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
