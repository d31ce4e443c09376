// Play, Pause, Step and Reset for a playground (the Train and Population panels'): frames run one after another
// through the session's guard until Pause, the end of the run or a frame that says stop; Step runs one frame of
// one step; Reset stops playing and lets the playground forget its state.

import type { Session } from './session.ts';
import type { StatusLine } from './ui.ts';

export interface PlayControls {
  session: Session;
  status: StatusLine;
  /** The panel of the playground (the guard's scope is its .playground group, so the panel's results stay bright). */
  section: HTMLElement;
  play: HTMLButtonElement;
  step: HTMLButtonElement;
  reset: HTMLButtonElement;
  /** Steps per frame while playing. */
  speed: HTMLSelectElement;
  /** One frame of `n` optimizer steps; false when playing should stop. */
  frame: (n: number) => Promise<boolean>;
  /** Forget the playground's state (after playing has stopped). */
  onReset: () => void;
}

export function bindPlayControls(c: PlayControls): void {
  let playing = false;
  // A frame's errors and its running state belong to the playground, not to the panel's own results (which a
  // playing playground does not replace, so they are not dimmed while it plays).
  const scope = c.section.querySelector<HTMLElement>('.playground') ?? c.section;
  let busy = false;

  function setPlaying(on: boolean): void {
    playing = on;
    c.play.textContent = on ? 'Pause' : 'Play';
    c.play.setAttribute('aria-pressed', String(on));
  }

  async function play(): Promise<void> {
    if (playing) {
      // The frame under way finishes, then the loop stops and the button says Play again.
      playing = false;
      c.play.textContent = 'Pausing…';
      c.play.disabled = true;
      return;
    }
    if (busy) return;
    setPlaying(true);
    busy = true;
    try {
      await c.session.guard(c.status, scope, async () => {
        while (playing) {
          if (!(await c.frame(Number(c.speed.value)))) break;
          await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        }
      });
    } finally {
      busy = false;
      setPlaying(false);
      c.play.disabled = false;
    }
  }

  async function step(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      await c.session.guard(c.status, scope, async () => {
        await c.frame(1);
      });
    } finally {
      busy = false;
    }
  }

  c.play.addEventListener('click', () => void play());
  c.step.addEventListener('click', () => void step());
  c.reset.addEventListener('click', () => {
    setPlaying(false);
    c.onReset();
  });
}
