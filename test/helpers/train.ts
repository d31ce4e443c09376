// Shared by the GPU training tests (the training kernel and fused gemm training): GPU (float32) against CPU
// (float64) trajectories, every value within 1e-4·max(1, |cpu value|); measured differences are about 1e-6.

import { expect } from 'vitest';
import { expectClose } from './compare.ts';

/** Every value of the GPU trajectory within 1e-4·max(1, |cpu value|) of the CPU's: expectClose value by value. */
export function expectTrajectory(gpu: ArrayLike<number>, cpu: ArrayLike<number>, what: string): void {
  expect(gpu.length, `${what}: length`).toBe(cpu.length);
  for (let k = 0; k < cpu.length; k++)
    expectClose(`${what}[${k}]`, [gpu[k]], [cpu[k]], { atol: 1e-4 * Math.max(1, Math.abs(cpu[k])), rtol: 0 });
}
