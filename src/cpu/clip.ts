// Gradient clipping by global norm on the CPU (float64), the reference for shaders/reduce/clip.wgsl:
// ‖g‖ = m·√Σ(g_p/m)² with m = max|g_p| (no overflow for any finite g), then g ← g·(clipNorm/‖g‖) when ‖g‖ > clipNorm.

export interface ClipOutcome {
  /** ‖g‖ before clipping. */
  norm: number;
  /** Whether g was scaled down. */
  clipped: boolean;
}

/** The L2 norm of `g`, computed as the GPU does (scaled by the largest magnitude). NaN if any value is NaN. */
export function globalNorm(g: ArrayLike<number>): number {
  let m = 0;
  for (let p = 0; p < g.length; p++) {
    const a = Math.abs(g[p]);
    if (Number.isNaN(a)) return NaN;
    if (a > m) m = a;
  }
  if (m === 0) return 0;
  if (!Number.isFinite(m)) return NaN;
  let s = 0;
  for (let p = 0; p < g.length; p++) s += (g[p] / m) ** 2;
  return m * Math.sqrt(s);
}

/** Measures ‖g‖ and, with `clipNorm`, scales `g` in place by min(1, clipNorm/‖g‖). A non-finite norm leaves g as it is. */
export function clipByGlobalNorm(g: Float64Array, clipNorm?: number): ClipOutcome {
  const norm = globalNorm(g);
  if (clipNorm === undefined || !(norm > clipNorm) || !Number.isFinite(norm)) return { norm, clipped: false };
  const scale = clipNorm / norm;
  for (let p = 0; p < g.length; p++) g[p] *= scale;
  return { norm, clipped: true };
}
