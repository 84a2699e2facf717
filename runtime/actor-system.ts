/**
 * The actor system: where actors are spawned, entities registered and addressed, and everything is shut
 * down in order.
 *
 * @example
 * const system = createActorSystem({ name: 'parley', logger });
 * const counter = system.spawn({ create: () => new Counter() }, 'counter');
 * counter.tell({ type: 'increment' });
 * const value = await counter.ask({ type: 'get' });
 * await system.shutdown();
 */
import type { ActorSignal, Props } from './actor.js';
import {
  ActorCell,
  spawnCell,
  type CellParent,
  type CellRuntime,
  type RuntimeCounters,
} from './actor-cell.js';
import type { ActorRef } from './actor-ref.js';
import {
  compileActorSystemOptions,
  type ActorSystemOptions,
  type CompiledActorSystemOptions,
} from './actor-system-options.js';
import type { Clock } from './clock.js';
import { DeadLetterOffice, type DeadLetters } from './dead-letters.js';
import { Dispatcher } from './dispatcher.js';
import type { EntityDefinition } from './entity.js';
import { NotAChildError, SystemShutDownError, type ActorFailure } from './errors.js';
import type { Transport } from './transport.js';
import { EntityHost } from './virtual-actors.js';

export interface ActorSystem {
  readonly name: string;
  /** The clock every delay in this system runs on. */
  readonly clock: Clock;

  /**
   * Starts a top-level actor, supervised by `props.supervision` (default: the system's `supervision`).
   * Without `name` one is generated (`$1`, `$2`, ...).
   * @throws NameConflictError, InvalidNameError, SystemShutDownError
   */
  spawn<M>(props: Props<M>, name?: string): ActorRef<M>;
  /**
   * Stops a top-level actor: it finishes its current message, stops its children, runs `postStop`.
   * Rejects with `NotAChildError` for anything else (stop children through their parent's `ctx.stop`).
   */
  stop(ref: ActorRef<unknown>): Promise<void>;

  /**
   * Makes `kind` addressable with {@link entity}. Register each kind once, before its first message.
   * @throws NameConflictError, InvalidNameError, InvalidOptionsError
   */
  registerEntity<M, S>(kind: string, definition: EntityDefinition<M, S>): void;
  /**
   * A ref to entity `kind`/`id`, valid whether the entity is active or not; the first message activates it.
   * Cheap (refs are cached). The kind need not be registered on this node: the transport routes to
   * whichever node hosts it; sending to a kind nobody registered throws `UnknownEntityKindError`.
   */
  entity<M>(kind: string, id: string): ActorRef<M>;

  /** Undeliverable messages: counts by reason and the last few. */
  readonly deadLetters: DeadLetters;
  stats(): ActorSystemStats;

  /**
   * Passivates every entity (each finishes its current message and saves its state), then stops every
   * actor (children first, `postStop` hooks), then closes the transport. Messages still queued become dead
   * letters. Idempotent.
   */
  shutdown(): Promise<void>;
}

export interface ActorSystemStats {
  /** Spawned actors (top-level and children) not yet stopped. */
  readonly activeActors: number;
  /** Entities currently activated on this node. */
  readonly activeEntities: number;
  /** Messages handled since start. */
  readonly processedMessages: number;
  /** Failures of user code handed to supervision. */
  readonly failures: number;
  /** Restarts performed. */
  readonly restarts: number;
  readonly deadLetters: number;
}

/** Creates an actor system; see {@link ActorSystemOptions} for the defaults. */
export function createActorSystem(options?: ActorSystemOptions): ActorSystem {
  return new LocalActorSystem(compileActorSystemOptions(options));
}

/** Parent of the top-level actors. */
class Guardian implements CellParent {
  readonly path = '/user';
  readonly children = new Map<string, ActorCell<unknown>>();
  private names = 0;

  constructor(private readonly runtime: CellRuntime) {}

  nextName(): string {
    return `$${++this.names}`;
  }

  childTerminated(child: ActorCell<unknown>, signal: ActorSignal | undefined): void {
    if (this.children.get(child.name) === child) this.children.delete(child.name);
    this.runtime.counters.activeActors--;
    if (signal?.type === 'child-failed') {
      this.runtime.logger.error(
        { actor: child.path, err: signal.error },
        'top-level actor stopped after failing',
      );
    }
  }

  childEscalated(child: ActorCell<unknown>, failure: ActorFailure): void {
    this.runtime.logger.error(
      { actor: child.path, err: failure },
      'top-level actor escalated its failure; the system does not fail, so the actor is stopped',
    );
  }
}

class LocalActorSystem implements ActorSystem {
  readonly name: string;
  readonly clock: Clock;
  readonly deadLetters: DeadLetterOffice;
  private readonly runtime: CellRuntime;
  private readonly counters: RuntimeCounters = { processed: 0, failures: 0, restarts: 0, activeActors: 0 };
  private readonly guardian: Guardian;
  private readonly entities: EntityHost;
  private readonly transport: Transport;
  private shuttingDown: Promise<void> | undefined;

  constructor(options: CompiledActorSystemOptions) {
    this.name = options.name;
    this.clock = options.clock;
    this.transport = options.transport;
    this.deadLetters = new DeadLetterOffice(() => options.clock.now(), options.logger);
    this.runtime = {
      system: this,
      clock: options.clock,
      dispatcher: new Dispatcher(options.throughput),
      deadLetters: this.deadLetters,
      logger: options.logger,
      askTimeoutMs: options.askTimeoutMs,
      mailboxCapacity: options.mailboxCapacity,
      supervision: options.supervision,
      random: options.random,
      counters: this.counters,
    };
    this.guardian = new Guardian(this.runtime);
    this.entities = new EntityHost(this.runtime, options.transport, options.name);
    options.transport.attach(this.entities);
  }

  spawn<M>(props: Props<M>, name?: string): ActorRef<M> {
    if (this.shuttingDown !== undefined) throw new SystemShutDownError(this.name, 'spawn an actor');
    return spawnCell(this.runtime, this.guardian, this.guardian.children, props, name, () =>
      this.guardian.nextName(),
    );
  }

  stop(ref: ActorRef<unknown>): Promise<void> {
    const cell = ref instanceof ActorCell ? (ref as ActorCell<unknown>) : undefined;
    if (cell === undefined || this.guardian.children.get(cell.name) !== cell) {
      return Promise.reject(new NotAChildError(this.guardian.path, ref.path));
    }
    return cell.stop({ type: 'stop' });
  }

  registerEntity<M, S>(kind: string, definition: EntityDefinition<M, S>): void {
    this.entities.register(kind, definition);
  }

  entity<M>(kind: string, id: string): ActorRef<M> {
    return this.entities.ref<M>(kind, id);
  }

  stats(): ActorSystemStats {
    return {
      activeActors: this.counters.activeActors,
      activeEntities: this.entities.activeEntities,
      processedMessages: this.counters.processed,
      failures: this.counters.failures,
      restarts: this.counters.restarts,
      deadLetters: this.deadLetters.count,
    };
  }

  shutdown(): Promise<void> {
    return (this.shuttingDown ??= this.runShutdown());
  }

  private async runShutdown(): Promise<void> {
    const logger = this.runtime.logger;
    logger.info({ system: this.name, ...this.stats() }, 'actor system shutting down');
    await this.entities.shutdown();
    await Promise.all([...this.guardian.children.values()].map((cell) => cell.stop({ type: 'shutdown' })));
    await this.transport.close();
    logger.info({ system: this.name, deadLetters: this.deadLetters.count }, 'actor system shut down');
  }
}
