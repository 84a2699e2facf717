/**
 * What an actor is, how to create one, and what it can do while handling a message.
 *
 * @example
 * type CounterMessage = { type: 'increment' } | ({ type: 'get' } & Ask<number>);
 *
 * class Counter implements Actor<CounterMessage> {
 *   private count = 0;
 *   receive(message: CounterMessage, ctx: ActorContext<CounterMessage>): void {
 *     switch (message.type) {
 *       case 'increment':
 *         this.count++;
 *         return;
 *       case 'get':
 *         ctx.respond(message, this.count);
 *         return;
 *     }
 *   }
 * }
 *
 * const counter = system.spawn({ create: () => new Counter() }, 'counter');
 */
import type { ActorRef } from './actor-ref.js';
import type { ActorSystem } from './actor-system.js';
import type { AskReply, ReplySink } from './ask.js';
import type { Clock } from './clock.js';
import type { SupervisionStrategy } from './supervisor.js';
import type { TimerScheduler } from './timers.js';

export interface Actor<M> {
  /**
   * Handles one message. The next message is not handled before this returns, or before the promise it
   * returns settles. Throwing (or rejecting) hands the error to the supervisor; it never crashes the process.
   */
  receive(message: M, ctx: ActorContext<M>): void | Promise<void>;
  /** Runs before the first message, and again on the new instance after each restart. */
  preStart?(ctx: ActorContext<M>): void | Promise<void>;
  /** Runs when the actor stops, and on the old instance before a restart. Errors are logged, not supervised. */
  postStop?(ctx: ActorContext<M>): void | Promise<void>;
  /**
   * Signals about children, handled in turn with messages: a child stopped, or failed for good (its
   * directive was `stop`, or it ran out of restarts). Exactly one signal per child that ends while this
   * actor runs.
   */
  onSignal?(signal: ActorSignal, ctx: ActorContext<M>): void | Promise<void>;
}

/** How to make an actor, and how it is treated. */
export interface Props<M> {
  /** Makes a fresh instance: at spawn and at every restart. */
  create(): Actor<M>;
  /** Messages the actor's mailbox holds before `tell` throws `MailboxFullError`. @default the system's `mailboxCapacity` (1000) */
  mailboxCapacity?: number;
  /** What to do when this actor fails. @default the system's `supervision` (restart with backoff) */
  supervision?: SupervisionStrategy;
}

/** News about a child, delivered to its parent's `onSignal`. Discriminated on `type`. */
export type ActorSignal =
  /** The child stopped normally (`ctx.stop(child)`, or it stopped itself). */
  | { readonly type: 'child-stopped'; readonly child: ActorRef<unknown> }
  /** The child failed and was stopped: directive `stop`, or more than `maxRestarts` within the window. */
  | {
      readonly type: 'child-failed';
      readonly child: ActorRef<unknown>;
      /** An `ActorFailure` whose `cause` is what the child threw. */
      readonly error: Error;
      /** Restarts within the window before it was stopped. */
      readonly restarts: number;
    };

/** What an actor can do while handling a message. One context per actor, kept across restarts. */
export interface ActorContext<M> {
  /** This actor. */
  readonly self: ActorRef<M>;
  /** The parent, or `undefined` for top-level actors and entities. */
  readonly parent: ActorRef<unknown> | undefined;
  readonly system: ActorSystem;
  /** The system's clock; use it (not `Date.now`/`setTimeout`) so simulated time applies. */
  readonly clock: Clock;

  /**
   * Answers the ask that delivered the current message. A no-op when the message came by `tell`, or when
   * the ask was already answered. Only valid while handling the message; to answer later, use
   * {@link deferReply}. An ask that is never answered times out.
   */
  reply(value: unknown): void;
  /**
   * {@link reply}, type-checked: `value` must be the reply type `message` declared with `Ask<R>`.
   * `message` must be the message being handled; it only serves the type check.
   */
  respond<Q extends M>(message: Q, value: AskReply<M, Q>): void;
  /**
   * Takes over the current ask's reply, to answer it after this handler returned (e.g. from a child's
   * answer). For a tell, returns a sink that ignores everything.
   */
  deferReply(): ReplySink;

  /** Starts a child actor, supervised by `props.supervision`; it stops when this actor stops or restarts. */
  spawn<C>(props: Props<C>, name?: string): ActorRef<C>;
  /**
   * Stops a child (or, without an argument, this actor). Resolves when the child finished its current
   * message, stopped its own children and ran `postStop`. Stopping this actor takes effect after the
   * current message and resolves at once, so awaiting it inside `receive` cannot deadlock.
   * @throws NotAChildError for an actor that is neither this one nor a child.
   */
  stop(ref?: ActorRef<unknown>): Promise<void>;

  /** Keyed timers that deliver a message to this actor; all cancelled when it stops or restarts. */
  readonly timers: TimerScheduler<M>;
}
