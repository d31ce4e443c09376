// The truncated-BPTT window as the kernels' `truncation` uniform: k itself, or 0xFFFFFFFF for full BPTT (no step
// t < 2^32 − 1 is then a positive multiple of it). Windows past 2^32 − 1 steps equal full BPTT too.

export const NO_TRUNCATION = 0xffffffff;

export function truncationUniform(k: number | undefined): number {
  return k === undefined || k >= NO_TRUNCATION ? NO_TRUNCATION : k;
}
