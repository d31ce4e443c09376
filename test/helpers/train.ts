// Shared by the GPU training tests (the training kernel and fused gemm training): GPU (float32) against CPU
// (float64) trajectories, every value within 1e-4·max(1, |cpu value|); measured differences are about 1e-6.

import { expect } from 'vitest';

export function expectClose(gpu: ArrayLike<number>, cpu: ArrayLike<number>, what: string): void {
  expect(gpu.length).toBe(cpu.length);
  for (let k = 0; k < cpu.length; k++) {
    const tol = 1e-4 * Math.max(1, Math.abs(cpu[k]));
    if (!(Math.abs(gpu[k] - cpu[k]) <= tol))
      expect.fail(`${what}[${k}]: gpu ${gpu[k]} vs cpu ${cpu[k]} (tolerance ${tol})`);
  }
}
