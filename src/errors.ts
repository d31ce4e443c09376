// Error types shared by the library and the CLI. The CLI maps each to an exit code (see src/cli/io.ts and
// docs/errors.md).

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
    this.reason = message;
  }
  /** What is wrong, without the source and field in front. */
  readonly reason: string;
}

/** Values that became NaN or ±Infinity during a run (exploding activations or gradients). Exit code 3. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    readonly backend: string,
    /** What went non-finite first, e.g. `loss`, `outputs[12][40][0]`, `grads.Wh[0][0]` or the hidden state. */
    readonly what: string,
    /** The value, or null where only "±Infinity or NaN" is known. */
    readonly value: number | null,
  ) {
    super(
      `${backend}: ${what} ${value === null ? 'became ±Infinity or NaN' : `is ${value}`} — values overflowed or became undefined during the run (exploding activations or gradients); nothing was returned`,
    );
  }
}

/** A WebGPU failure: no adapter, validation or out-of-memory error, lost device, host/shader mismatch. Exit code 1. */
export class GpuError extends Error {
  override name = 'GpuError';
}
