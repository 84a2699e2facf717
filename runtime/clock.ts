/**
 * Time as the runtime sees it. Every delay in the runtime (ask deadlines, restart backoff, timers, idle
 * passivation) goes through a {@link Clock}, so tests swap in a {@link SimulatedClock} and need no sleeps.
 */
import { parseDuration, type Duration } from './duration.js';

/** Opaque handle returned by {@link Clock.setTimeout}; only good for {@link Clock.clearTimeout}. */
export type TimerHandle = object | number;

export interface TimerOptions {
  /**
   * A background timer does not keep the process alive (the system clock `unref`s it). The runtime uses it
   * for housekeeping such as idle passivation.
   * @default false
   */
  background?: boolean;
}

export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin (the epoch for {@link systemClock}). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  /** Cancels a timer; a no-op if it already ran or was cancelled. */
  clearTimeout(handle: TimerHandle): void;
}

/** Wall-clock time and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, options) {
    const timer = setTimeout(fn, ms);
    if (options?.background === true) timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface SimulatedTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. Timers run in due order (ties in creation order) and, after each
 * one, pending microtasks and immediates are let run, so actors react before the next timer fires.
 *
 * @example
 * const clock = new SimulatedClock();
 * const system = createActorSystem({ clock });
 * const reply = ref.ask({ type: 'slow' }, { timeout: '1s' });
 * await clock.advance('1s'); // the ask rejects with AskTimeoutError, no real waiting
 */
export class SimulatedClock implements Clock {
  #now: number;
  #seq = 0;
  /** Sorted by (due, seq). */
  #timers: SimulatedTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: SimulatedTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    let index = this.#timers.length;
    while (index > 0 && (this.#timers[index - 1] as SimulatedTimer).due > timer.due) index--;
    this.#timers.splice(index, 0, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const index = this.#timers.indexOf(handle as SimulatedTimer);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** Timers waiting to run. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Milliseconds until the next timer is due, or `undefined` when none is pending. */
  get nextDueIn(): number | undefined {
    const next = this.#timers[0];
    return next === undefined ? undefined : next.due - this.#now;
  }

  /**
   * Moves time forward by `by`, running every timer that falls due on the way (in order, each at its own
   * due time), and lets the actors settle after each.
   */
  async advance(by: Duration): Promise<void> {
    const target = this.#now + parseDuration(by, 'advance');
    await settle();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.due > target) break;
      this.#timers.shift();
      this.#now = next.due;
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Lets pending microtasks and immediates run without moving time. */
  async settle(): Promise<void> {
    await settle();
  }
}

/** A few event-loop turns: enough for actors that yield with `setImmediate` between batches. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 8; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
