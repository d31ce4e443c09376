// Initial weights for training: every parameter uniform in [−scale, scale] (randomPopulation's draws), and
// optionally the recurrent matrix Wh of every layer and direction re-drawn per gate block (each H×H slice, as
// PyTorch users expect): Xavier (Glorot) uniform, bound √(6/(H + H)), or orthogonal (the Q of a QR decomposition of
// a Gaussian matrix, with the signs of R's diagonal, so QᵀQ = I). Seeded: the same seed gives the same weights.

import { InputError } from '../errors.ts';
import { layerLayouts, type Model } from '../model.ts';
import { Rng } from '../random.ts';
import { cellOf } from '../cells/index.ts';

export type RecurrentInit = 'uniform' | 'xavier' | 'orthogonal';
export const RECURRENT_INITS: readonly RecurrentInit[] = ['uniform', 'xavier', 'orthogonal'];

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An n×n orthogonal matrix (row-major): Q of the QR decomposition (modified Gram–Schmidt) of a Gaussian matrix. */
export function orthogonalMatrix(n: number, rng: Rng): Float64Array {
  const a = Float64Array.from({ length: n * n }, () => gaussian(rng));
  // Columns of a, orthonormalised in place; R's diagonal sign folded in (Q·diag(sign(r_jj))), as torch.nn.init.orthogonal_.
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i * n + k] * a[i * n + j];
      for (let i = 0; i < n; i++) a[i * n + j] -= dot * a[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i * n + j] * a[i * n + j];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) a[i * n + j] /= norm;
  }
  return a;
}

/**
 * `base` with random weights: every parameter uniform in [−scale, scale] (rounded to float32, the draws of
 * randomPopulation's model 0), then, unless `recurrent` is `uniform`, each H×H gate block of every layer's Wh
 * (a stacked or bidirectional model's, in PyTorch's layer order) re-drawn from the same stream: Xavier uniform or
 * orthogonal. Every weight is rounded to float32 (what WebGPU computes with), which leaves QᵀQ within ~1e-7 of I.
 */
export function initialWeights(base: Model, seed: number, scale: number, recurrent: RecurrentInit = 'uniform'): Model {
  if (!Number.isFinite(scale) || scale <= 0)
    throw new InputError('scale', `must be a finite number > 0, got ${scale}`, 'options');
  if (!RECURRENT_INITS.includes(recurrent))
    throw new InputError('recurrentInit', `must be uniform, xavier or orthogonal, got ${String(recurrent)}`, 'options');
  const rng = new Rng(seed);
  const P = base.params.length;
  const params = new Float64Array(P);
  for (let p = 0; p < P; p++) params[p] = Math.fround(rng.uniform(-scale, scale));
  if (recurrent !== 'uniform') {
    const H = base.hiddenSize;
    const gates = cellOf(base).gates;
    // Every layer and direction (PyTorch's order), each gate block of its Wh, from the one stream.
    for (const layer of layerLayouts(base)) {
      for (let g = 0; g < gates; g++) {
        const at = layer.blocks.Wh.offset + g * H * H;
        if (recurrent === 'xavier') {
          const bound = Math.sqrt(6 / (H + H));
          for (let k = 0; k < H * H; k++) params[at + k] = Math.fround(rng.uniform(-bound, bound));
        } else {
          orthogonalMatrix(H, rng).forEach((x, k) => (params[at + k] = Math.fround(x)));
        }
      }
    }
  }
  return { ...base, params, h0: base.h0.slice(), ...(base.c0 ? { c0: base.c0.slice() } : {}) };
}
