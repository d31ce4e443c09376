// The page's engines: one Engine shared by every panel (WebGPU when the browser has an adapter, else the CPU
// reference) plus a CPU engine for comparisons, one panel run at a time, and the switch to the CPU after a GPU
// error (device lost, out of memory) without reloading the page.

import { Engine } from '../engine.ts';
import { GpuError, InputError, NonFiniteError } from '../errors.ts';
import { FieldError, markInvalid, type StatusLine } from './ui.ts';

export class Session {
  /** Why the page runs on the CPU: no WebGPU (from `auto`), or a GPU error the user chose to leave. */
  cpuReason: string | null;
  private queue: Promise<unknown> = Promise.resolve();
  /** The panel whose run holds the engine now (null when idle), and how many runs are queued or running. */
  private holder: string | null = null;
  private pending = 0;
  /** Status refreshers of the runs waiting in the queue. */
  private readonly waiting = new Set<() => void>();
  private readonly listeners: (() => void)[] = [];
  /** Shows a GPU error and offers the CPU; set by the page. */
  onGpuError: (message: string, retry: () => void) => void = () => {};

  private constructor(
    public engine: Engine,
    readonly cpu: Engine,
  ) {
    this.cpuReason = engine.fallbackReason;
  }

  static async create(): Promise<Session> {
    const engine = await Engine.create({ backend: 'auto' });
    const cpu = engine.backend === 'cpu' ? engine : await Engine.create({ backend: 'cpu' });
    return new Session(engine, cpu);
  }

  /** The WebGPU engine, or null when the page runs on the CPU. */
  get gpu(): Engine | null {
    return this.engine.backend === 'webgpu' ? this.engine : null;
  }

  /** What holds the engine now (`the Train panel is running`), or null when no run is queued or running. */
  get busyWith(): string | null {
    return this.pending > 0 ? (this.holder ?? 'another panel is running') : null;
  }

  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  /**
   * Runs `fn` after every earlier panel run has finished, so two panels never share the GPU at once. With `wait`,
   * a run that has to wait says so on its panel's status line (and which run it waits for, kept up to date), and
   * the panel's own message comes back when it starts. `busy` says what this run is doing, for the others' waits.
   */
  exclusive<T>(fn: () => Promise<T>, wait?: { status?: StatusLine; panel: string; busy?: string }): Promise<T> {
    this.pending++;
    let onStart: (() => void) | null = null;
    const status = wait?.status;
    if (status && this.pending > 1) {
      const text = status.el.textContent ?? '';
      const show = (): void =>
        status.queued(`Waiting: ${this.holder ?? 'another panel is running'}; this run starts when it finishes.`);
      show();
      this.waiting.add(show);
      onStart = () => {
        this.waiting.delete(show);
        status.info(text);
      };
    }
    const next = this.queue.then(async () => {
      this.holder = wait ? (wait.busy ?? `the ${wait.panel} panel is running`) : null;
      onStart?.();
      for (const f of this.waiting) f();
      try {
        return await fn();
      } finally {
        this.pending--;
        this.holder = null;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Leaves WebGPU for the CPU reference (after a GPU error); every panel keeps working. */
  switchToCpu(reason: string): void {
    if (this.engine === this.cpu) return;
    const old = this.engine;
    this.engine = this.cpu;
    this.cpuReason = reason;
    try {
      old.dispose();
    } catch {
      // A lost device may refuse to free its buffers; nothing more to do.
    }
    for (const f of this.listeners) f();
  }

  /**
   * Runs a panel's action with the shared error handling: bad fields and input errors become the panel's inline
   * message (nothing ran), non-finite results say so, and GPU errors offer the CPU (then `action` runs again).
   */
  async guard(status: StatusLine, scope: HTMLElement, action: () => Promise<void>): Promise<boolean> {
    markInvalid(scope, null);
    // Results on screen are dimmed while the new run goes on, and stay dimmed (labelled) if it fails.
    scope.classList.add('running');
    try {
      await action();
      scope.classList.remove('stale');
      scope.dataset.hasResult = 'true';
      return true;
    } catch (e) {
      if (scope.dataset.hasResult === 'true') scope.classList.add('stale');
      const err = e as Error;
      if (e instanceof FieldError) {
        markInvalid(scope, e.field);
        status.error(`Not run: ${err.message}`);
      } else if (e instanceof InputError) {
        status.error(`Not run, bad input: ${err.message}`);
      } else if (e instanceof NonFiniteError) {
        status.error(`Stopped: ${err.message}`);
      } else if (e instanceof GpuError || (this.gpu && /GPU|device/i.test(err.message))) {
        status.error(`WebGPU error: ${err.message}`);
        this.onGpuError(err.message, () => void this.guard(status, scope, action));
      } else {
        status.error(`Error: ${err.message}`);
        console.warn(e);
      }
      return false;
    } finally {
      scope.classList.remove('running');
    }
  }
}
