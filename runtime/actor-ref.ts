import type { AskOptions, AskReply } from './ask.js';

/**
 * The only way to talk to an actor. Refs are cheap, stay valid across restarts, and for entities
 * (`system.entity(kind, id)`) stay valid across passivation.
 */
export interface ActorRef<M> {
  /** Where the actor lives: `/user/<name>[/<child>...]` for spawned actors, `/entity/<kind>/<id>` for entities. */
  readonly path: string;

  /**
   * Enqueues `message` and returns at once. Messages from one sender to one actor are handled in the order
   * they were sent, one at a time.
   *
   * - Mailbox full: throws {@link MailboxFullError} (the message is counted as a dead letter).
   * - Actor stopped: does not throw; the message is counted as a dead letter. A sender that must know
   *   uses `ask`, which rejects with `ActorStoppedError`.
   */
  tell(message: M): void;

  /**
   * Sends `message` and resolves with the actor's `ctx.reply(...)`. The reply type comes from the message
   * type's {@link Ask} brand. Never throws synchronously; the promise rejects with:
   * - `AskTimeoutError` when no reply arrives before the deadline (on the system's Clock);
   * - `ActorFailure` (cause: the original error) when the handler threw or rejected;
   * - `ActorStoppedError` / `MailboxFullError` when the message could not be delivered.
   */
  ask<Q extends M>(message: Q, options?: AskOptions): Promise<AskReply<M, Q>>;
}
