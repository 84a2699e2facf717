/**
 * The machinery behind entities: refs that route through the transport, the host that activates entities
 * on their first message and hands queued messages to the next activation, and the entity cell that loads
 * state, passivates when idle and saves on the way out.
 */
import type { ActorSignal } from './actor.js';
import { ActorCell, CellStatus, type CellParent, type CellRuntime, type StopReason } from './actor-cell.js';
import { CellContext, type ContextHost } from './actor-context.js';
import type { ActorRef } from './actor-ref.js';
import type { AskOptions, AskReply, ReplySink } from './ask.js';
import type { TimerHandle } from './clock.js';
import { DeadLetterReason } from './dead-letters.js';
import {
  type ActorFailure,
  ActorStoppedError,
  EntityPersistenceError,
  FailurePhase,
  InvalidNameError,
  NameConflictError,
  SystemShutDownError,
  UnknownEntityKindError,
  messageTypeOf,
  toError,
} from './errors.js';
import {
  compileEntityDefinition,
  type CompiledEntityDefinition,
  type EntityActor,
  type EntityContext,
  type EntityDefinition,
} from './entity.js';
import { Mailbox } from './mailbox.js';
import { askWithDeadline } from './pending-ask.js';
import type { EntityAddress, Transport, TransportHost } from './transport.js';

/** Refs kept per kind; beyond this the oldest are forgotten (refs are values: a new one works the same). */
const REF_CACHE_PER_KIND = 10_000;

class EntityCellContext<M, S> extends CellContext<M> implements EntityContext<M, S> {
  state!: S;
  epoch: number | undefined;

  constructor(
    host: ContextHost<M>,
    readonly id: string,
    private readonly persist: () => Promise<void>,
  ) {
    super(host);
  }

  saveState(): Promise<void> {
    return this.persist();
  }
}

class EntityCell<M, S> extends ActorCell<M> {
  protected override readonly stoppingStatus: CellStatus = CellStatus.Passivating;
  private readonly entityCtx: EntityCellContext<M, S>;
  private idleTimer: TimerHandle | undefined;
  private idleSince = 0;
  private savedForPassivation = false;
  private onIdleTimer: (() => void) | undefined;

  constructor(
    runtime: CellRuntime,
    host: EntityHost,
    readonly entity: CompiledEntityDefinition<M, S>,
    readonly id: string,
    mailbox: Mailbox<M>,
  ) {
    let entityCtx: EntityCellContext<M, S> | undefined;
    super(
      runtime,
      host,
      id,
      `/entity/${entity.kind}/${id}`,
      { create: () => entity.definition.create(id) },
      entity.supervision,
      mailbox,
      (cell) => (entityCtx = new EntityCellContext<M, S>(cell, id, () => (cell as EntityCell<M, S>).save())),
    );
    this.entityCtx = entityCtx as EntityCellContext<M, S>;
  }

  get kind(): string {
    return this.entity.kind;
  }

  /** The fencing epoch its messages are delivered under (see `EntityContext.epoch`). */
  get epoch(): number | undefined {
    return this.entityCtx.epoch;
  }

  setEpoch(epoch: number): void {
    this.entityCtx.epoch = epoch;
  }

  protected override startInstance(): void | Promise<void> {
    const definition = this.entity.definition;
    this.phase = FailurePhase.Create;
    const instance = definition.create(this.id);
    this.instance = instance;
    this.phase = FailurePhase.Start;
    if (definition.load === undefined) {
      this.entityCtx.state = definition.initialState(this.id);
      return instance.preStart?.(this.entityCtx);
    }
    return this.loadAndStart(instance);
  }

  protected override onRunning(): void {
    this.idleSince = this.runtime.clock.now();
    this.armIdleTimer(this.entity.idleTimeoutMs);
  }

  protected override becameIdle(): void {
    this.idleSince = this.runtime.clock.now();
  }

  protected override async beforeStop(reason: StopReason): Promise<void> {
    this.clearIdleTimer();
    // Only state that was loaded and is not the residue of a failure is worth saving.
    if (!this.hasStarted) return;
    if (reason.type === 'shutdown' || (reason.type === 'passivate' && !this.savedForPassivation))
      await this.save();
  }

  /** An entity that stops itself passivates: it saves, and its next message activates it again. */
  override stopFromContext(ref: ActorRef<unknown> | undefined): Promise<void> {
    if (ref !== undefined && ref !== this) return super.stopFromContext(ref);
    void this.stop({ type: 'passivate' });
    return Promise.resolve();
  }

  protected override disposeMailbox(reason: StopReason): void {
    // After passivation the host hands queued messages to the next activation.
    if (reason.type !== 'passivate') super.disposeMailbox(reason);
  }

  async save(): Promise<void> {
    const definition = this.entity.definition;
    if (definition.save === undefined) return;
    try {
      await definition.save(this.id, this.entityCtx.state);
    } catch (error) {
      throw new EntityPersistenceError(this.entity.kind, this.id, 'save', { cause: error });
    }
  }

  private async loadAndStart(instance: EntityActor<M, S>): Promise<void> {
    let loaded: S | undefined;
    try {
      loaded = await this.entity.definition.load?.(this.id, this.entityCtx.epoch);
    } catch (error) {
      throw new EntityPersistenceError(this.entity.kind, this.id, 'load', { cause: error });
    }
    this.entityCtx.state = loaded === undefined ? this.entity.definition.initialState(this.id) : loaded;
    await instance.preStart?.(this.entityCtx);
  }

  private armIdleTimer(ms: number): void {
    this.clearIdleTimer();
    this.idleTimer = this.runtime.clock.setTimeout((this.onIdleTimer ??= () => this.checkIdle()), ms, {
      background: true,
    });
  }

  private clearIdleTimer(): void {
    if (this.idleTimer === undefined) return;
    this.runtime.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  // One timer per activation, re-armed lazily: handling a message only records the time, never touches timers.
  private checkIdle(): void {
    this.idleTimer = undefined;
    if (this.status !== CellStatus.Running) return;
    const idleTimeoutMs = this.entity.idleTimeoutMs;
    if (this.busy) {
      this.armIdleTimer(idleTimeoutMs);
      return;
    }
    const idleFor = this.runtime.clock.now() - this.idleSince;
    if (idleFor >= idleTimeoutMs) void this.passivate();
    else this.armIdleTimer(idleTimeoutMs - idleFor);
  }

  /** Saves, then stops; messages that arrive meanwhile queue for the next activation. */
  private async passivate(): Promise<void> {
    this.status = CellStatus.Passivating;
    try {
      await this.save();
    } catch (error) {
      this.runtime.logger.error(
        { actor: this.path, err: toError(error) },
        'could not save entity state at passivation; it stays active and tries again after the next idle timeout',
      );
      if (this.status === CellStatus.Passivating && !this.isStopping) {
        this.resume();
        this.armIdleTimer(this.entity.idleTimeoutMs);
      }
      return;
    }
    this.savedForPassivation = true;
    await this.stop({ type: 'passivate' });
  }
}

/** A ref to an entity: a value (kind, id) that sends through the transport, active or not. */
class EntityRef<M> implements ActorRef<M>, EntityAddress {
  readonly path: string;
  /**
   * The activation this ref last reached through the local host: a shortcut past two map lookups, valid
   * exactly while the cell is not `Stopped` (the host drops a cell from its map when it stops).
   */
  activeCell: EntityCell<unknown, unknown> | undefined;

  constructor(
    readonly kind: string,
    readonly id: string,
    private readonly router: EntityRouter,
  ) {
    this.path = `/entity/${kind}/${id}`;
  }

  tell(message: M): void {
    this.router.transport.send(this, message, undefined);
  }

  ask<Q extends M>(message: Q, options?: AskOptions): Promise<AskReply<M, Q>> {
    return askWithDeadline(
      this.router.runtime.clock,
      this,
      message,
      options?.timeout,
      this.router.askTimeoutMs,
    ) as Promise<AskReply<M, Q>>;
  }

  deliver(message: M, reply: ReplySink): void {
    this.router.transport.send(this, message, reply);
  }
}

interface EntityRouter {
  readonly transport: Transport;
  readonly askTimeoutMs: number;
  readonly runtime: CellRuntime;
}

interface EntityKind {
  readonly compiled: CompiledEntityDefinition<unknown, unknown>;
  readonly active: Map<string, EntityCell<unknown, unknown>>;
}

/**
 * Hosts this node's entities: the transport delivers into it, it activates entities on demand and
 * supervises them (as their parent).
 */
export class EntityHost implements TransportHost, CellParent, EntityRouter {
  readonly path = '/entity';
  private readonly kinds = new Map<string, EntityKind>();
  private readonly refs = new Map<string, Map<string, EntityRef<unknown>>>();
  private shuttingDown = false;
  private active = 0;

  constructor(
    readonly runtime: CellRuntime,
    readonly transport: Transport,
    readonly systemName: string,
  ) {}

  get askTimeoutMs(): number {
    return this.runtime.askTimeoutMs;
  }

  get activeEntities(): number {
    return this.active;
  }

  register<M, S>(kind: string, definition: EntityDefinition<M, S>): void {
    if (kind.length === 0 || kind.includes('/')) throw new InvalidNameError(kind, 'entity kind');
    if (this.kinds.has(kind))
      throw new NameConflictError('entity kind', kind, `actor system '${this.systemName}'`);
    const compiled = compileEntityDefinition(kind, definition, this.runtime);
    this.kinds.set(kind, {
      compiled,
      active: new Map(),
    });
  }

  ref<M>(kind: string, id: string): ActorRef<M> {
    let byId = this.refs.get(kind);
    if (byId === undefined) this.refs.set(kind, (byId = new Map<string, EntityRef<unknown>>()));
    let ref = byId.get(id);
    if (ref === undefined) {
      if (byId.size >= REF_CACHE_PER_KIND) byId.delete(byId.keys().next().value as string);
      ref = new EntityRef<unknown>(kind, id, this);
      byId.set(id, ref);
    }
    return ref;
  }

  deliver(target: EntityAddress, message: unknown, reply: ReplySink | undefined, epoch?: number): void {
    if (target instanceof EntityRef) {
      const cached = target.activeCell;
      if (cached !== undefined && cached.status !== CellStatus.Stopped && cached.parent === this) {
        if (epoch !== undefined) cached.setEpoch(epoch);
        cached.deliver(message, reply);
        return;
      }
    }
    const kind = this.kinds.get(target.kind);
    if (kind === undefined) {
      this.runtime.deadLetters.record(
        DeadLetterReason.UnknownEntityKind,
        `/entity/${target.kind}/${target.id}`,
        message,
      );
      return this.refuse(new UnknownEntityKindError(target.kind, [...this.kinds.keys()]), reply);
    }
    let cell = kind.active.get(target.id);
    if (cell === undefined) {
      if (this.shuttingDown) {
        this.runtime.deadLetters.record(
          DeadLetterReason.ShutDown,
          `/entity/${target.kind}/${target.id}`,
          message,
        );
        return this.refuse(
          new SystemShutDownError(
            this.systemName,
            `deliver '${messageTypeOf(message)}' to entity ${target.kind}/${target.id}`,
          ),
          reply,
        );
      }
      cell = this.activate(kind, target.id, new Mailbox(kind.compiled.mailboxCapacity));
    }
    if (target instanceof EntityRef) target.activeCell = cell;
    if (epoch !== undefined) cell.setEpoch(epoch);
    cell.deliver(message, reply);
  }

  async evict(matches: (address: EntityAddress) => boolean): Promise<void> {
    const cells: EntityCell<unknown, unknown>[] = [];
    for (const kind of this.kinds.values()) {
      for (const cell of kind.active.values()) if (matches(cell)) cells.push(cell);
    }
    await Promise.all(cells.map((cell) => cell.stop({ type: 'stop' })));
  }

  childTerminated(child: ActorCell<unknown>, signal: ActorSignal | undefined): void {
    const cell = child as EntityCell<unknown, unknown>;
    const kind = this.kinds.get(cell.kind);
    if (kind === undefined || kind.active.get(cell.id) !== cell) return;
    kind.active.delete(cell.id);
    this.active--;
    // Let the passivated activation be collected rather than kept by its cached ref.
    const ref = this.refs.get(cell.kind)?.get(cell.id);
    if (ref?.activeCell === cell) ref.activeCell = undefined;
    if (signal?.type === 'child-failed') {
      this.runtime.logger.error({ actor: cell.path, err: signal.error }, 'entity stopped after failing');
    }
    if (cell.mailbox.size === 0) return;
    if (this.shuttingDown) {
      cell.mailbox.drain((message, reply) => {
        this.runtime.deadLetters.record(DeadLetterReason.ShutDown, cell.path, message);
        reply?.reject(new ActorStoppedError(cell.path, messageTypeOf(message)));
      });
      return;
    }
    // Messages that came in while it passivated: they wake it up again, in order, under the epoch they
    // were delivered with (the next activation loads, and so claims, under it too).
    const next = this.activate(kind, cell.id, cell.mailbox);
    if (cell.epoch !== undefined) next.setEpoch(cell.epoch);
  }

  childEscalated(child: ActorCell<unknown>, failure: ActorFailure): void {
    this.runtime.logger.error(
      { actor: child.path, err: failure },
      'entity escalated its failure; the system does not fail, so the entity is stopped',
    );
  }

  /** Passivates every entity (saving state) and takes no new activations. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const cells: EntityCell<unknown, unknown>[] = [];
    for (const kind of this.kinds.values()) cells.push(...kind.active.values());
    await Promise.all(cells.map((cell) => cell.stop({ type: 'shutdown' })));
  }

  private activate(kind: EntityKind, id: string, mailbox: Mailbox<unknown>): EntityCell<unknown, unknown> {
    const cell = new EntityCell(this.runtime, this, kind.compiled, id, mailbox);
    kind.active.set(id, cell);
    this.active++;
    cell.start();
    return cell;
  }

  private refuse(error: Error, reply: ReplySink | undefined): void {
    if (reply === undefined) throw error;
    reply.reject(error);
  }
}
