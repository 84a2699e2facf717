/**
 * How messages for entities reach the node that hosts them. The actor system hands every
 * `system.entity(kind, id)` tell and ask to its transport; the transport delivers it to the hosting node's
 * {@link TransportHost}, which activates the entity if needed and enqueues the message.
 *
 * Embedded mode uses the in-process transport: `send` calls the local host directly, synchronously.
 *
 * Cluster mode uses the NATS transport (`cluster/nats-transport.ts`):
 * - `send` publishes to the JetStream stream of the entity's shard, subject `<prefix>.in.<shard>` with
 *   `shard = shardOf(kind, id, shardCount)` (see `sharding.ts`), `Nats-Msg-Id` = the message's
 *   idempotency id. A `reply` sink is kept under that id; the hosting node publishes the answer and the
 *   transport settles the sink. Deadlines stay with the asking system (its Clock), not the transport.
 * - For each shard this node holds the lease of, the transport consumes `<prefix>.in.<shard>` and calls
 *   `host.deliver(..., epoch)`; it acknowledges once the reply is settled, and `host.evict(...)`s the
 *   shard's entities when the lease is lost or released.
 * - Messages must then be serialisable (plain data); the in-process transport passes references.
 */
import type { ReplySink } from './ask.js';

/** The address of a virtual actor. */
export interface EntityAddress {
  readonly kind: string;
  readonly id: string;
}

/** What a node offers its transport: delivery into its locally hosted entities. */
export interface TransportHost {
  /** Name of the actor system, for logs and subjects. */
  readonly systemName: string;
  /**
   * Delivers to the entity on this node, activating it if needed. With `reply`, delivery problems settle
   * the sink; without, they throw: `MailboxFullError`, `UnknownEntityKindError`, `SystemShutDownError`.
   * `epoch` is the fencing epoch of the lease under which this node hosts the entity (cluster mode); the
   * entity sees it as `ctx.epoch`.
   */
  deliver(target: EntityAddress, message: unknown, reply: ReplySink | undefined, epoch?: number): void;
  /**
   * Stops the active entities that `matches` selects (e.g. those of a shard this node no longer owns),
   * after each finishes the message it is handling. They do not save: their next owner loads the last
   * stored state. Queued messages are rejected with `ActorStoppedError`; new ones activate them again.
   */
  evict(matches: (address: EntityAddress) => boolean): Promise<void>;
}

export interface Transport {
  /** For logs: e.g. `'in-process'`, `'nats'`. */
  readonly name: string;
  /** Called once by the actor system that uses this transport, before any `send`. */
  attach(host: TransportHost): void;
  /**
   * Routes a message to entity `target`, wherever it is hosted. `reply` is set for asks and must be
   * settled at most once; an unroutable message throws (tell) or rejects `reply` (ask).
   */
  send(target: EntityAddress, message: unknown, reply: ReplySink | undefined): void;
  /** Stops routing; called by `system.shutdown()` after the local entities are passivated. */
  close(): Promise<void>;
}
