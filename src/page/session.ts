// The page's engines: one Engine on the page (WebGPU when the browser has an adapter, else the CPU reference) plus a
// CPU engine for comparisons, the panels' runs in two lanes (`long`: Train, Population and their playgrounds, which
// train in a worker; `short`: everything else), one run at a time in each lane, and the switch to the CPU after a
// GPU error (device lost, out of memory) without reloading the page.

import { Engine } from '../engine.ts';
import { GpuError, InputError, NonFiniteError } from '../errors.ts';
import { FieldError, markInvalid, type StatusLine } from './ui.ts';

/** A queue of panel runs: `long` (training, in a worker), `short` (the rest); `all` waits for both and holds both. */
export type LaneName = 'long' | 'short';
class Lane {
  queue: Promise<unknown> = Promise.resolve();
  /** The panel whose run holds the lane now (null when idle), and how many runs are queued or running. */
  holder: string | null = null;
  pending = 0;
  /** Status refreshers of the runs waiting in the queue. */
  readonly waiting = new Set<() => void>();
}

export class Session {
  /** Why the page runs on the CPU: no WebGPU (from `auto`), or a GPU error the user chose to leave. */
  cpuReason: string | null;
  private readonly lanes: Record<LaneName, Lane> = { long: new Lane(), short: new Lane() };
  private readonly listeners: (() => void)[] = [];
  /** What the page's warm-up is doing while it builds the GPU kernels after loading (null once done). */
  warming: string | null = null;
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

  /**
   * What holds `lane` now (`the Train panel is running`), or null when no run is queued or running there; without a
   * lane, what holds either.
   */
  busyWith(lane?: LaneName): string | null {
    const busy = (l: Lane): string | null => (l.pending > 0 ? (l.holder ?? 'another panel is running') : null);
    return lane ? busy(this.lanes[lane]) : (busy(this.lanes.short) ?? busy(this.lanes.long));
  }

  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  /**
   * Runs `fn` after every earlier run of its lane has finished (`long`: training, which runs in a worker; `short`,
   * the default: the rest; `all`: after the runs of both, holding both, for timings that need the page idle), so two
   * panels never share an engine at once. With `wait`, a run that has to wait says so on its panel's status line
   * (and which run it waits for, kept up to date), and the panel's own message comes back when it starts. `busy`
   * says what this run is doing, for the others' waits.
   */
  exclusive<T>(
    fn: () => Promise<T>,
    wait?: { status?: StatusLine; panel: string; busy?: string },
    laneName: LaneName | 'all' = 'short',
  ): Promise<T> {
    const lanes = laneName === 'all' ? [this.lanes.short, this.lanes.long] : [this.lanes[laneName]];
    const holder = (): string =>
      lanes.map((l) => (l.pending > 0 ? l.holder : null)).find((h) => h !== null) ?? 'another panel is running';
    const mustWait = lanes.some((l) => l.pending > 0);
    for (const l of lanes) l.pending++;
    let onStart: (() => void) | null = null;
    const status = wait?.status;
    if (status && mustWait) {
      const text = status.el.textContent ?? '';
      const show = (): void => status.queued(`Waiting: ${holder()}; this run starts when it finishes.`);
      show();
      for (const l of lanes) l.waiting.add(show);
      onStart = () => {
        for (const l of lanes) l.waiting.delete(show);
        status.info(text);
      };
    }
    const next = Promise.all(lanes.map((l) => l.queue)).then(async () => {
      for (const l of lanes) l.holder = wait ? (wait.busy ?? `the ${wait.panel} panel is running`) : null;
      onStart?.();
      for (const l of lanes) for (const f of l.waiting) f();
      try {
        return await fn();
      } finally {
        for (const l of lanes) {
          l.pending--;
          l.holder = null;
        }
      }
    });
    for (const l of lanes) l.queue = next.catch(() => undefined);
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
