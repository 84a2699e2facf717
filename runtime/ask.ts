/**
 * Typed request/response. A message type that expects a reply declares it with {@link Ask}, and
 * `ref.ask(message)` infers the reply type from it, the way Temporal's phantom-branded definitions do.
 *
 * @example
 * type CounterMessage =
 *   | { type: 'increment'; by: number }
 *   | ({ type: 'get' } & Ask<number>);
 *
 * const counter: ActorRef<CounterMessage> = system.spawn(counterProps);
 * const value = await counter.ask({ type: 'get' }); // value: number
 */
import type { Duration } from './duration.js';

// Exists only in the type system: no value carries it, so it costs nothing at run time.
declare const replyBrand: unique symbol;

/** Marks a message type as expecting a reply of type `R`. Intersect it with the message: `{...} & Ask<R>`. */
export interface Ask<R> {
  readonly [replyBrand]?: R;
}

/** The reply a message type declared with {@link Ask}, or `never` when it declared none. */
type DeclaredReply<Q> = Q extends { readonly [replyBrand]?: infer R }
  ? typeof replyBrand extends keyof Q
    ? R
    : never
  : never;

/**
 * The reply type of message type `Q`: what it declared with {@link Ask}, else `unknown`
 * (not `never`, which would let an undeclared reply be assigned to anything unchecked).
 */
export type ReplyOf<Q> = [DeclaredReply<Q>] extends [never] ? unknown : DeclaredReply<Q>;

/**
 * The reply type of asking an actor of message type `M` with `Q`. An object literal passed to `ask` is
 * inferred without the brand, so when `Q` declares nothing the matching members of `M` are used.
 */
export type AskReply<M, Q> = [DeclaredReply<Q>] extends [never] ? ReplyOf<Extract<M, Q>> : DeclaredReply<Q>;

export interface AskOptions {
  /** How long to wait for the reply. @default the system's `askTimeout` ('5s' unless configured) */
  timeout?: Duration;
}

/**
 * Where the answer to one ask goes. The runtime settles it at most once; later calls are ignored.
 * Transports carry it to the node hosting the recipient and back.
 */
export interface ReplySink {
  /** Answers the ask. */
  resolve(value: unknown): void;
  /** Fails the ask (the handler threw, the recipient stopped, its mailbox was full). */
  reject(error: Error): void;
}
