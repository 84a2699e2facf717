/**
 * Virtual actors (Orleans-style entities): addressed by kind and id, activated by their first message,
 * passivated when idle, reactivated with their saved state by the next message.
 *
 * @example
 * system.registerEntity<CartMessage, Cart>('cart', {
 *   create: () => new CartActor(),
 *   initialState: () => ({ items: [] }),
 *   load: (id) => store.carts.find(id),
 *   save: (id, cart) => store.carts.put(id, cart),
 *   idleTimeout: '10m',
 * });
 * await system.entity<CartMessage>('cart', 'c-42').ask({ type: 'add', sku: 'tea' });
 */
import type { ActorContext } from './actor.js';
import { parseDuration, type Duration } from './duration.js';
import { InvalidOptionsError } from './errors.js';
import type { SupervisionStrategy } from './supervisor.js';

/** An entity's handler: an actor whose context also carries its id and state. */
export interface EntityActor<M, S> {
  receive(message: M, ctx: EntityContext<M, S>): void | Promise<void>;
  /** Runs after the state is loaded, before the first message of each activation (and after a restart). */
  preStart?(ctx: EntityContext<M, S>): void | Promise<void>;
  /** Runs after the state is saved at passivation, or when the entity stops. */
  postStop?(ctx: EntityContext<M, S>): void | Promise<void>;
}

export interface EntityContext<M, S> extends ActorContext<M> {
  /** The entity's id within its kind. */
  readonly id: string;
  /** The entity's state: loaded at activation, saved at passivation. Replace it or mutate it. */
  state: S;
  /** Saves `state` now with the definition's `save` (a no-op without one). Rejects with `EntityPersistenceError`. */
  saveState(): Promise<void>;
  /**
   * The fencing epoch of the shard lease this node hosts the entity under (cluster mode), `undefined` in
   * embedded mode. Pass it with every store write so that a write from a node that lost the shard is
   * rejected once the new owner has written.
   */
  readonly epoch: number | undefined;
}

export interface EntityDefinition<M, S> {
  /** Makes the handler for one entity; called at each activation and restart. */
  create(id: string): EntityActor<M, S>;
  /** State of an entity that has none stored (or no `load`). */
  initialState(id: string): S;
  /**
   * Reads stored state at activation (and restart), before the first message; `undefined` means none, so
   * `initialState` is used. Messages that arrive meanwhile queue. A rejection is a start failure, handled by
   * `supervision`. `epoch` is the fencing epoch this activation runs under (see `EntityContext.epoch`),
   * for a store that claims the entity for it as it reads.
   */
  load?(id: string, epoch: number | undefined): Promise<S | undefined>;
  /** Stores state: on `ctx.saveState()` and at passivation (idle timeout, system shutdown). */
  save?(id: string, state: S): Promise<void>;
  /** Passivate after this long without a message. @default '5m' */
  idleTimeout?: Duration;
  /** @default the system's `mailboxCapacity` (1000) */
  mailboxCapacity?: number;
  /** What to do when the entity fails; a restart reloads the state with `load`. @default the system's `supervision` */
  supervision?: SupervisionStrategy;
}

/** An entity definition with defaults applied, as the runtime uses it. */
export interface CompiledEntityDefinition<M, S> {
  readonly kind: string;
  readonly definition: EntityDefinition<M, S>;
  readonly idleTimeoutMs: number;
  readonly mailboxCapacity: number;
  readonly supervision: SupervisionStrategy;
}

export function compileEntityDefinition<M, S>(
  kind: string,
  definition: EntityDefinition<M, S>,
  defaults: { readonly mailboxCapacity: number; readonly supervision: SupervisionStrategy },
): CompiledEntityDefinition<M, S> {
  const idleTimeoutMs = parseDuration(definition.idleTimeout ?? '5m', `entity '${kind}' idleTimeout`);
  if (idleTimeoutMs <= 0) {
    throw new InvalidOptionsError(
      `entity '${kind}' idleTimeout`,
      definition.idleTimeout,
      'a positive duration',
    );
  }
  const mailboxCapacity = definition.mailboxCapacity ?? defaults.mailboxCapacity;
  if (!Number.isInteger(mailboxCapacity) || mailboxCapacity < 1) {
    throw new InvalidOptionsError(`entity '${kind}' mailboxCapacity`, mailboxCapacity, 'an integer >= 1');
  }
  return {
    kind,
    definition,
    idleTimeoutMs,
    mailboxCapacity,
    supervision: definition.supervision ?? defaults.supervision,
  };
}
