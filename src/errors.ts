// Error types shared by the library and the CLI. The CLI maps each to an exit code (see src/cli/main.ts).

/** Bad input: names the offending field (a JSON path such as `inputs[3][1][0]`) and says what is wrong. Exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    /** Path of the offending field, e.g. `weights.Wx[0][2]`; empty when the whole input is at fault. */
    readonly field: string,
    message: string,
    /** Which input it came from: a file name, `model`, `data`… */
    readonly source?: string,
  ) {
    super(`${source ? source + ': ' : ''}${field ? field + ': ' : ''}${message}`);
  }
}

/** Values that became NaN or ±Infinity during a run (exploding activations or gradients). Exit code 3. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    readonly backend: string,
    /** What went non-finite first, e.g. `loss` or `outputs[12][40][0]` or `grads.Wh[0][0]`. */
    readonly what: string,
    readonly value: number,
  ) {
    super(`${backend}: ${what} is ${value} — values overflowed or became undefined during the run (exploding activations or gradients); nothing was returned`);
  }
}

/** A WebGPU failure: no adapter, validation or out-of-memory error, lost device, host/shader mismatch. Exit code 1. */
export class GpuError extends Error {
  override name = 'GpuError';
}
