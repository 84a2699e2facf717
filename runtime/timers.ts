import type { Clock, TimerHandle } from './clock.js';
import { InvalidOptionsError } from './errors.js';
import { parseDuration, type Duration } from './duration.js';

/**
 * Keyed timers that send a message to the actor that owns them. Starting a key that is active replaces
 * it. A message that falls due while the mailbox is full becomes a dead letter. All timers are cancelled
 * when the actor stops or restarts.
 */
export interface TimerScheduler<M> {
  /** Sends `message` once, after `delay`. */
  startSingle(key: string, message: M, delay: Duration): void;
  /** Sends `message` every `interval` (first after one interval) until cancelled. */
  startPeriodic(key: string, message: M, interval: Duration): void;
  /** Cancels the timer; a no-op if `key` is not active. */
  cancel(key: string): void;
  /** Whether `key` will still fire. */
  isActive(key: string): boolean;
  /** Cancels every timer of this actor. */
  cancelAll(): void;
}

interface TimerEntry<M> {
  readonly key: string;
  readonly message: M;
  readonly intervalMs: number | undefined;
  handle: TimerHandle | undefined;
}

export class Timers<M> implements TimerScheduler<M> {
  private readonly active = new Map<string, TimerEntry<M>>();

  constructor(
    private readonly clock: Clock,
    private readonly deliver: (message: M) => void,
  ) {}

  startSingle(key: string, message: M, delay: Duration): void {
    this.start(
      { key, message, intervalMs: undefined, handle: undefined },
      parseDuration(delay, 'timer delay'),
    );
  }

  startPeriodic(key: string, message: M, interval: Duration): void {
    const intervalMs = parseDuration(interval, 'timer interval');
    if (intervalMs <= 0) throw new InvalidOptionsError('timer interval', interval, 'a positive duration');
    this.start({ key, message, intervalMs, handle: undefined }, intervalMs);
  }

  cancel(key: string): void {
    const entry = this.active.get(key);
    if (entry === undefined) return;
    this.active.delete(key);
    if (entry.handle !== undefined) this.clock.clearTimeout(entry.handle);
  }

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  cancelAll(): void {
    for (const entry of this.active.values()) {
      if (entry.handle !== undefined) this.clock.clearTimeout(entry.handle);
    }
    this.active.clear();
  }

  private start(entry: TimerEntry<M>, delayMs: number): void {
    this.cancel(entry.key);
    this.active.set(entry.key, entry);
    entry.handle = this.clock.setTimeout(() => this.fire(entry), delayMs);
  }

  private fire(entry: TimerEntry<M>): void {
    // A cancelled or replaced timer whose callback was already queued must not deliver.
    if (this.active.get(entry.key) !== entry) return;
    if (entry.intervalMs === undefined) this.active.delete(entry.key);
    else entry.handle = this.clock.setTimeout(() => this.fire(entry), entry.intervalMs);
    this.deliver(entry.message);
  }
}
