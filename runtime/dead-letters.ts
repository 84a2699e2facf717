/**
 * Messages that could not be delivered. They are counted (total and by reason) and the last few are kept
 * for diagnosis; the messages themselves are not kept, only their type, since they may hold personal data.
 */
import { messageTypeOf } from './errors.js';
import type { RuntimeLogger } from './logger.js';

/** Why a message became a dead letter. */
export const DeadLetterReason = {
  /** The recipient's mailbox was at capacity. */
  MailboxFull: 'mailbox-full',
  /** The recipient had stopped, or stopped with the message still queued. */
  ActorStopped: 'actor-stopped',
  /** Sent to an entity kind nobody registered. */
  UnknownEntityKind: 'unknown-entity-kind',
  /** The system was shutting down. */
  ShutDown: 'shut-down',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** Path of the intended recipient. */
  readonly recipient: string;
  /** The message's `type` field or class name. */
  readonly messageType: string;
  /** Clock time it was recorded. */
  readonly at: number;
}

export interface DeadLetters {
  /** Dead letters since the system started. */
  readonly count: number;
  /** The same, split by reason. */
  readonly byReason: Readonly<Record<DeadLetterReason, number>>;
  /** The most recent dead letters, oldest first (at most {@link DeadLetterOffice.keep}). */
  recent(): readonly DeadLetter[];
}

export class DeadLetterOffice implements DeadLetters {
  count = 0;
  readonly byReason: Record<DeadLetterReason, number> = {
    'mailbox-full': 0,
    'actor-stopped': 0,
    'unknown-entity-kind': 0,
    'shut-down': 0,
  };
  private readonly last: DeadLetter[] = [];

  constructor(
    private readonly now: () => number,
    private readonly logger: RuntimeLogger,
    readonly keep = 20,
  ) {}

  record(reason: DeadLetterReason, recipient: string, message: unknown): void {
    this.count++;
    this.byReason[reason]++;
    const letter: DeadLetter = { reason, recipient, messageType: messageTypeOf(message), at: this.now() };
    if (this.last.length >= this.keep) this.last.shift();
    this.last.push(letter);
    this.logger.debug({ ...letter }, 'dead letter');
  }

  recent(): readonly DeadLetter[] {
    return [...this.last];
  }
}
