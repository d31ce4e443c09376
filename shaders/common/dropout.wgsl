// common/dropout.wgsl — inter-layer dropout's mask, with the same integer operations as src/dropout.ts dropKeep, so
// that the CPU reference and every kernel drop the same values for the same seed. Spliced into the kernels that
// apply it at their `// @dropout` line (src/gpu/dropout.ts): the per-sequence layers (per_sequence/layer.wgsl) and
// the gemm strategy's layer copies (gemm/emit.wgsl, gemm/copy_steps.wgsl).

// Wellons' lowbias32, as src/dropout.ts mix32.
fn mix32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

// The factor of input `unit` of layer `layer` (≥ 1) at step t of sequence n (its index in the batch): 0 where its
// hash is below `threshold` (⌊p·2³²⌋), else `scale` (1/(1 − p)).
fn dropoutFactor(seed: u32, layer: u32, n: u32, t: u32, unit: u32, threshold: u32, scale: f32) -> f32 {
  var h = mix32(seed);
  h = mix32(h ^ layer);
  h = mix32(h ^ n);
  h = mix32(h ^ t);
  h = mix32(h ^ unit);
  return select(0.0, scale, h >= threshold);
}
