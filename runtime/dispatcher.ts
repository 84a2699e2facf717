/**
 * Decides when actors run, keeping two promises:
 * - Fairness between actors: a drain handles at most `throughput` messages, then queues itself behind
 *   everyone else with `setImmediate`.
 * - Fairness to I/O: drains start in microtasks (cheap, immediate) only while the system has handled fewer
 *   than `throughput` messages since the event loop last had a turn; after that, new drains wait for the
 *   next turn, so neither a hot actor nor a ping-pong between actors can starve sockets and timers.
 * A drain that was queued with `setImmediate` always gets its batch, whatever the budget, so actors woken
 * in microtasks cannot starve the ones waiting in the queue.
 */
export class Dispatcher {
  private budget: number;

  constructor(readonly throughput: number) {
    this.budget = throughput;
  }

  /** Whether drains may still run in microtasks during this event-loop turn. */
  get hasBudget(): boolean {
    return this.budget > 0;
  }

  /** Runs `drain` soon: in a microtask while the budget lasts, else on the next event-loop turn. */
  schedule(drain: () => void): void {
    if (this.budget > 0) queueMicrotask(drain);
    else setImmediate(drain);
  }

  /** Records `handled` messages against this turn's budget. */
  consumed(handled: number): void {
    if (this.budget === 0 || handled === 0) return;
    this.budget -= handled;
    if (this.budget <= 0) {
      this.budget = 0;
      setImmediate(this.reset);
    }
  }

  /** Continues `drain` after the event loop has had its turn. */
  yieldTurn(drain: () => void): void {
    setImmediate(drain);
  }

  private readonly reset = (): void => {
    this.budget = this.throughput;
  };
}
