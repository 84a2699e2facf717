/** Something the dispatcher runs: an actor cell draining its mailbox. */
export interface Runnable {
  /** Does a bounded amount of work (at most `throughput` messages), reporting it with `consumed`. */
  run(): void;
}

/**
 * Decides when actors run: a FIFO of actors with work, flushed in one microtask while the turn's budget
 * lasts, so waking many actors costs one microtask, not one each.
 *
 * - Fairness between actors: an actor handles at most `throughput` messages per run, then queues again
 *   at the back.
 * - Fairness to I/O: once `throughput` messages were handled since the event loop last had a turn, the
 *   flush stops and continues with `setImmediate`, so neither a hot actor nor a ping-pong between actors
 *   can starve sockets and timers.
 */
export class Dispatcher {
  // Ring buffer; its length stays a power of two so indices wrap with a mask.
  private queue: (Runnable | undefined)[] = new Array<Runnable | undefined>(64).fill(undefined);
  private mask = 63;
  private head = 0;
  private count = 0;
  private budget: number;
  private flushPending = false;
  private readonly flushInMicrotask = (): void => this.flush();
  private readonly flushOnNextTurn = (): void => {
    this.budget = this.throughput;
    this.flush();
  };

  constructor(readonly throughput: number) {
    this.budget = throughput;
  }

  /** Queues `runnable` to run soon. The caller guarantees it is not queued already. */
  schedule(runnable: Runnable): void {
    if (this.count === this.queue.length) this.grow();
    this.queue[(this.head + this.count) & this.mask] = runnable;
    this.count++;
    if (this.flushPending) return;
    this.flushPending = true;
    if (this.budget > 0) queueMicrotask(this.flushInMicrotask);
    else setImmediate(this.flushOnNextTurn);
  }

  /** Records `handled` messages against this turn's budget. */
  consumed(handled: number): void {
    this.budget -= handled;
  }

  private flush(): void {
    try {
      while (this.count > 0) {
        if (this.budget <= 0) {
          setImmediate(this.flushOnNextTurn);
          return;
        }
        const runnable = this.queue[this.head] as Runnable;
        this.queue[this.head] = undefined;
        this.head = (this.head + 1) & this.mask;
        this.count--;
        runnable.run();
      }
      this.flushPending = false;
    } catch (error) {
      // Cells never throw from run(); if one does (a runtime bug), the other actors must still be served.
      setImmediate(this.flushOnNextTurn);
      throw error;
    }
  }

  private grow(): void {
    const queue = new Array<Runnable | undefined>(this.queue.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) queue[i] = this.queue[(this.head + i) & this.mask];
    this.queue = queue;
    this.head = 0;
    this.mask = queue.length - 1;
  }
}
