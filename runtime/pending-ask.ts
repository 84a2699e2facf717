import type { ReplySink } from './ask.js';
import type { Clock, TimerHandle } from './clock.js';
import { parseDuration, type Duration } from './duration.js';
import { AskTimeoutError, messageTypeOf } from './errors.js';

/** Something an ask can be sent to: a local actor, or an entity through its transport. */
export interface AskTarget<M> {
  readonly path: string;
  /** Hands over the message with its sink; may settle the sink at once (stopped, mailbox full). */
  deliver(message: M, reply: ReplySink): void;
}

/**
 * One ask in flight: settles its promise once, by reply, failure or deadline (on the system's Clock).
 * Never throws: an invalid `timeout` rejects like any other failure.
 */
export function askWithDeadline<M>(
  clock: Clock,
  target: AskTarget<M>,
  message: M,
  timeout: Duration | undefined,
  defaultTimeoutMs: number,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const timeoutMs = timeout === undefined ? defaultTimeoutMs : parseDuration(timeout, 'ask timeout');
    const pending = new PendingAsk(resolve, reject, clock, target.path, message, timeoutMs);
    try {
      target.deliver(message, pending);
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!pending.settled) pending.arm();
  });
}

class PendingAsk implements ReplySink {
  settled = false;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly onResolve: (value: unknown) => void,
    private readonly onReject: (error: Error) => void,
    private readonly clock: Clock,
    private readonly targetPath: string,
    private readonly message: unknown,
    private readonly timeoutMs: number,
  ) {}

  arm(): void {
    this.timer = this.clock.setTimeout(() => this.expire(), this.timeoutMs);
  }

  resolve(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.onResolve(value);
  }

  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.onReject(error);
  }

  private expire(): void {
    if (this.settled) return;
    this.settled = true;
    this.onReject(new AskTimeoutError(this.targetPath, messageTypeOf(this.message), this.timeoutMs));
  }
}
