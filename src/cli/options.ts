// Option parsing shared by every command: one number parser (decimal only: no hex, no Infinity, no empty string)
// behind the integer, real, byte-count, list and interval options, and the options several commands share
// (--backend, --strategy, --memory-budget).

import { InvalidArgumentError, Option } from 'commander';
import { STRATEGY_CHOICES, type StrategyChoice } from '../gpu/strategy.ts';

/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses option text as a finite decimal number, or throws InvalidArgumentError (commander: exit 2, naming the option). */
export function parseNumber(v: string): number {
  const s = v.trim();
  if (!DECIMAL.test(s)) throw new InvalidArgumentError(`Expected a decimal number, got "${v}".`);
  const n = Number(s);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`It must be a finite number, got "${v}".`);
  return n;
}

/** Option parser: a finite number, optionally > 0 (`positive`) or ≥ 0 (`nonNegative`). */
export function number(kind: 'any' | 'positive' | 'nonNegative' = 'any'): (v: string) => number {
  return (v) => {
    const n = parseNumber(v);
    if (kind === 'positive' && !(n > 0)) throw new InvalidArgumentError(`It must be a finite number > 0, got ${v}.`);
    if (kind === 'nonNegative' && !(n >= 0))
      throw new InvalidArgumentError(`It must be a finite number ≥ 0, got ${v}.`);
    return n;
  };
}

/** Option parser: an integer in [min, max] (written as a decimal number: 4096, 1e6). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = parseNumber(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `It must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '2^53' : max}, got ${v.trim()}.`,
      );
    }
    return n;
  };
}

/** Option parser: a fraction strictly between 0 and 1. */
export function fraction(v: string): number {
  const n = parseNumber(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`It must be a number between 0 and 1 (exclusive), got ${v}.`);
  return n;
}

/** Bytes: a whole number with an optional K/M/G suffix (binary: 1K = 1024), e.g. 268435456, 512M, 2G. */
export function parseBytes(v: string): number {
  const m = /^\s*([^kmgKMG\s]+)\s*([kmg]i?b?)?\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError(`Expected a byte count such as 268435456, 512M or 2G, got "${v}".`);
  const mult = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(m[2] ?? '').charAt(0).toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  let base: number;
  try {
    base = parseNumber(m[1]);
  } catch {
    throw new InvalidArgumentError(`Expected a byte count such as 268435456, 512M or 2G, got "${v}".`);
  }
  const n = base * mult;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`It must be a whole, positive number of bytes, got "${v}".`);
  return n;
}

/** Values from `a:b:n` (n evenly spaced values from a to b, both included) or a comma list `a,b,c`. */
export function parseValues(v: string): number[] {
  const s = v.trim();
  const m = /^([^:]+):([^:]+):([^:]+)$/.exec(s);
  if (m) {
    const [a, b] = [m[1], m[2]].map((x) => parseNumber(x));
    const n = integer(1, 1 << 20)(m[3]);
    if (n === 1) return [a];
    return Array.from({ length: n }, (_, k) => (k === n - 1 ? b : a + ((b - a) * k) / (n - 1)));
  }
  const parts = s.split(',');
  if (parts.some((p) => p.trim() === ''))
    throw new InvalidArgumentError(`Expected a:b:n or a comma-separated list of numbers, got "${v}".`);
  return parts.map((p) => parseNumber(p));
}

/** `a:b` with a < b. */
export function parseInterval(v: string): [number, number] {
  const m = /^([^:]+):([^:]+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`Expected min:max, e.g. -3:3, got "${v}".`);
  const a = parseNumber(m[1]);
  const b = parseNumber(m[2]);
  if (!(b > a)) throw new InvalidArgumentError(`The maximum must be greater than the minimum, got "${v}".`);
  return [a, b];
}

const BACKENDS = ['webgpu', 'cpu', 'auto'] as const;

export function backendOption(): Option {
  return new Option(
    '--backend <name>',
    'webgpu, cpu (float64 reference) or auto (WebGPU when an adapter exists, else cpu)',
  )
    .choices(BACKENDS)
    .default('auto');
}

/** --strategy and --memory-budget, for the commands that run the WebGPU kernels. */
export interface KernelCliOptions {
  strategy: StrategyChoice;
  memoryBudget?: number;
}

export function strategyOption(): Option {
  return new Option(
    '--strategy <name>',
    'WebGPU kernel strategy: auto (from the shape and the adapter), per-sequence, gemm or rtrl',
  )
    .choices(STRATEGY_CHOICES)
    .default('auto');
}

export function memoryBudgetOption(): Option {
  return new Option(
    '--memory-budget <bytes>',
    'WebGPU: bytes all chunk buffers of a run may take (e.g. 256M; default 512M or the adapter maxBufferSize)',
  ).argParser(parseBytes);
}
