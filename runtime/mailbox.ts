import type { ReplySink } from './ask.js';

/**
 * An actor's bounded FIFO of messages, each with the reply sink of the ask that sent it (or `undefined`
 * for a tell). A ring buffer over two parallel arrays: no per-message allocation, O(1) at both ends.
 * It starts small and doubles up to `capacity`, so a hundred thousand mostly idle actors stay cheap.
 */
export class Mailbox<M> {
  /** Reply sink of the message last returned by {@link shift}; cleared by {@link takeReply}. */
  private lastReply: ReplySink | undefined;

  private messages: (M | undefined)[];
  private replies: (ReplySink | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(
    readonly capacity: number,
    initialSlots = 4,
  ) {
    const slots = powerOfTwoAtLeast(Math.min(initialSlots, capacity));
    this.messages = new Array<M | undefined>(slots).fill(undefined);
    this.replies = new Array<ReplySink | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Appends; `false` (and nothing stored) when the mailbox holds `capacity` messages already. */
  push(message: M, reply: ReplySink | undefined): boolean {
    if (this.count >= this.capacity) return false;
    if (this.count > this.mask) this.grow();
    const index = (this.head + this.count) & this.mask;
    this.messages[index] = message;
    this.replies[index] = reply;
    this.count++;
    return true;
  }

  /** Removes and returns the oldest message; its reply sink waits in {@link takeReply}. Only when `size > 0`. */
  shift(): M {
    const index = this.head;
    const message = this.messages[index] as M;
    this.lastReply = this.replies[index];
    this.messages[index] = undefined;
    this.replies[index] = undefined;
    this.head = (index + 1) & this.mask;
    this.count--;
    return message;
  }

  /** The reply sink of the message last shifted, once (the mailbox must not keep a settled ask alive). */
  takeReply(): ReplySink | undefined {
    const reply = this.lastReply;
    this.lastReply = undefined;
    return reply;
  }

  /** Empties the mailbox, handing each message (oldest first) to `visit`. */
  drain(visit: (message: M, reply: ReplySink | undefined) => void): void {
    while (this.count > 0) {
      const message = this.shift();
      visit(message, this.takeReply());
    }
  }

  private grow(): void {
    const slots = (this.mask + 1) * 2;
    const messages = new Array<M | undefined>(slots).fill(undefined);
    const replies = new Array<ReplySink | undefined>(slots).fill(undefined);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) & this.mask;
      messages[i] = this.messages[from];
      replies[i] = this.replies[from];
    }
    this.messages = messages;
    this.replies = replies;
    this.head = 0;
    this.mask = slots - 1;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let slots = 1;
  while (slots < n) slots *= 2;
  return slots;
}
