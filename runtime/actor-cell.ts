/**
 * The engine behind one actor: its mailbox, the loop that hands messages to the instance one at a time,
 * failure handling through the supervision strategy, restarts with backoff, children, timers and the
 * stop sequence. A cell is also the actor's ref, so a ref stays valid across restarts.
 *
 * Invariants:
 * - `scheduled` is true whenever someone will look at the mailbox without being told (a drain is queued
 *   or running, a receive is in flight, the actor is starting, suspended or in backoff). `deliver` only
 *   schedules a drain when it flips `scheduled` from false, so a busy actor costs a tell one array write.
 * - `processing` is true while user code (`create`/`preStart`/`receive`/`onSignal`) runs or is awaited;
 *   a drain never starts while it is set, so messages never overlap even if a drain is queued twice.
 */
import type { Actor, ActorSignal, Props } from './actor.js';
import { CellContext, type ContextHost } from './actor-context.js';
import type { ActorRef } from './actor-ref.js';
import type { ActorSystem } from './actor-system.js';
import type { AskOptions, AskReply, ReplySink } from './ask.js';
import type { Clock, TimerHandle } from './clock.js';
import { DeadLetterReason, type DeadLetterOffice } from './dead-letters.js';
import type { Dispatcher, Runnable } from './dispatcher.js';
import {
  ActorFailure,
  ActorStoppedError,
  FailurePhase,
  InvalidNameError,
  InvalidOptionsError,
  MailboxFullError,
  NameConflictError,
  NotAChildError,
  messageTypeOf,
  toError,
} from './errors.js';
import type { RuntimeLogger } from './logger.js';
import { Mailbox } from './mailbox.js';
import { askWithDeadline } from './pending-ask.js';
import { RestartHistory, decideDirective, type SupervisionStrategy } from './supervisor.js';
import { Timers, type TimerScheduler } from './timers.js';

/** Life of a cell. Ordered: everything from `Passivating` on handles no more messages. */
export const CellStatus = {
  /** Creating the instance / running `preStart` (entities: loading state). Messages queue. */
  Starting: 0,
  Running: 1,
  /** Failed; the supervision decision is being applied. */
  Suspended: 2,
  /** Failed, old instance stopped, waiting out the backoff. Messages queue. */
  Restarting: 3,
  /** Entity stopping while still accepting messages, which are handed to its next activation. */
  Passivating: 4,
  /** Stopping; messages go to dead letters. */
  Stopping: 5,
  Stopped: 6,
} as const;
export type CellStatus = (typeof CellStatus)[keyof typeof CellStatus];

/** Why a cell stops; decides the signal its parent gets and what happens to queued messages. */
export type StopReason =
  /** `ctx.stop()`, `system.stop()`, or the parent stopping/restarting. */
  | { readonly type: 'stop' }
  /** Supervision stopped it after a failure. */
  | { readonly type: 'failed'; readonly failure: ActorFailure; readonly restarts: number }
  /** It escalated; its parent fails instead and is not signalled. */
  | { readonly type: 'escalated' }
  /** An entity's idle timeout (state already saved). */
  | { readonly type: 'passivate' }
  /** `system.shutdown()`. */
  | { readonly type: 'shutdown' };

/** What cells need from their actor system; one object shared by all cells of a system. */
export interface CellRuntime {
  readonly system: ActorSystem;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly deadLetters: DeadLetterOffice;
  readonly logger: RuntimeLogger;
  readonly askTimeoutMs: number;
  readonly mailboxCapacity: number;
  readonly supervision: SupervisionStrategy;
  readonly random: () => number;
  readonly counters: RuntimeCounters;
}

export interface RuntimeCounters {
  processed: number;
  failures: number;
  restarts: number;
  activeActors: number;
}

/** Whoever supervises a cell: another cell, the system guardian, or the entity host. */
export interface CellParent {
  readonly path: string;
  /** The child finished stopping; `signal` is what its parent's `onSignal` should hear, if anything. */
  childTerminated(child: ActorCell<unknown>, signal: ActorSignal | undefined): void;
  /** The child's directive was `escalate`: the parent fails with `failure`. */
  childEscalated(child: ActorCell<unknown>, failure: ActorFailure): void;
}

type SystemMessage =
  | { readonly type: 'signal'; readonly signal: ActorSignal }
  | { readonly type: 'escalated'; readonly failure: ActorFailure };

const noReply: ReplySink = { resolve: () => {}, reject: () => {} };

function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return value !== undefined && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export class ActorCell<M> implements ContextHost<M>, CellParent, Runnable {
  status: CellStatus = CellStatus.Starting;
  /** The ask that delivered the message being handled, until answered. */
  currentReply: ReplySink | undefined;
  protected instance: Actor<M> | undefined;
  protected readonly ctx: CellContext<M>;
  /** Status a stopping cell takes: entities keep accepting messages for their next activation. */
  protected readonly stoppingStatus: CellStatus = CellStatus.Stopping;
  protected phase: FailurePhase = FailurePhase.Create;

  private scheduled = true;
  private processing = false;
  /** `preStart` of the current instance completed, so it is owed a `postStop`. */
  private started = false;
  private currentMessage: M | undefined;
  private systemQueue: SystemMessage[] | undefined;
  private children: Map<string, ActorCell<unknown>> | undefined;
  private childNames = 0;
  private timerScheduler: Timers<M> | undefined;
  private restartHistory: RestartHistory | undefined;
  private restartTimer: TimerHandle | undefined;
  private stopping: Promise<void> | undefined;
  private idleWaiter: (() => void) | undefined;
  // Promise callbacks for async receives, made on the first one: sync-only actors never pay for them.
  private onHandled: (() => void) | undefined;
  private onFailed: ((error: unknown) => void) | undefined;

  constructor(
    protected readonly runtime: CellRuntime,
    readonly parent: CellParent,
    readonly name: string,
    readonly path: string,
    private readonly props: Props<M>,
    private readonly supervision: SupervisionStrategy,
    readonly mailbox: Mailbox<M>,
    makeContext: (cell: ActorCell<M>) => CellContext<M> = (cell) => new CellContext(cell),
  ) {
    this.ctx = makeContext(this);
  }

  // ---- ActorRef --------------------------------------------------------------------------------------

  tell(message: M): void {
    this.deliver(message, undefined);
  }

  ask<Q extends M>(message: Q, options?: AskOptions): Promise<AskReply<M, Q>> {
    return askWithDeadline(
      this.runtime.clock,
      this,
      message,
      options?.timeout,
      this.runtime.askTimeoutMs,
    ) as Promise<AskReply<M, Q>>;
  }

  /**
   * Enqueues a message. Undeliverable: with `reply` the sink is rejected, without it a full mailbox throws
   * and a stopped actor silently counts a dead letter.
   */
  deliver(message: M, reply: ReplySink | undefined): void {
    if (this.status >= CellStatus.Stopping) {
      this.runtime.deadLetters.record(DeadLetterReason.ActorStopped, this.path, message);
      reply?.reject(new ActorStoppedError(this.path, messageTypeOf(message)));
      return;
    }
    if (!this.mailbox.push(message, reply)) {
      this.runtime.deadLetters.record(DeadLetterReason.MailboxFull, this.path, message);
      const error = new MailboxFullError(this.path, this.mailbox.capacity, messageTypeOf(message));
      if (reply === undefined) throw error;
      reply.reject(error);
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.runtime.dispatcher.schedule(this);
    }
  }

  // ---- ContextHost -----------------------------------------------------------------------------------

  get parentRef(): ActorRef<unknown> | undefined {
    return this.parent instanceof ActorCell ? (this.parent as ActorCell<unknown>) : undefined;
  }

  get system(): ActorSystem {
    return this.runtime.system;
  }

  get clock(): Clock {
    return this.runtime.clock;
  }

  get timers(): TimerScheduler<M> {
    return (this.timerScheduler ??= new Timers(this.runtime.clock, (message) =>
      this.deliverTimerMessage(message),
    ));
  }

  replyCurrent(value: unknown): void {
    const reply = this.currentReply;
    if (reply === undefined) return;
    this.currentReply = undefined;
    reply.resolve(value);
  }

  takeReply(): ReplySink {
    const reply = this.currentReply ?? noReply;
    this.currentReply = undefined;
    return reply;
  }

  spawnChild<C>(props: Props<C>, name: string | undefined): ActorRef<C> {
    if (this.status >= CellStatus.Passivating)
      throw new ActorStoppedError(this.path, 'spawn', 'spawn a child');
    this.children ??= new Map();
    return spawnCell(this.runtime, this, this.children, props, name, () => `$${++this.childNames}`);
  }

  stopFromContext(ref: ActorRef<unknown> | undefined): Promise<void> {
    if (ref === undefined || ref === this) {
      void this.stop({ type: 'stop' });
      return Promise.resolve();
    }
    const child = this.childFor(ref);
    if (child === undefined) return Promise.reject(new NotAChildError(this.path, ref.path));
    return child.stop({ type: 'stop' });
  }

  // ---- CellParent ------------------------------------------------------------------------------------

  childTerminated(child: ActorCell<unknown>, signal: ActorSignal | undefined): void {
    if (this.children?.get(child.name) === child) this.children.delete(child.name);
    this.runtime.counters.activeActors--;
    // Children stopped by this actor's own restart or stop are not news to it.
    if (signal !== undefined && this.status <= CellStatus.Running)
      this.pushSystem({ type: 'signal', signal });
  }

  childEscalated(_child: ActorCell<unknown>, failure: ActorFailure): void {
    this.pushSystem({ type: 'escalated', failure });
  }

  // ---- Life cycle ------------------------------------------------------------------------------------

  /** Starts the first instance; called once, right after construction. */
  start(): void {
    this.runtime.dispatcher.schedule(this);
  }

  /** Dispatcher entry point: starts the actor, or drains a batch of its mailbox. */
  run(): void {
    if (this.status === CellStatus.Starting && !this.processing) this.activate();
    else this.drain();
  }

  /** Stops the actor (idempotent): current message, timers, children, `postStop`, then the parent is told. */
  stop(reason: StopReason): Promise<void> {
    return (this.stopping ??= this.runStop(reason));
  }

  /** Whether a drain is queued or running, or the actor is starting, failing or restarting. */
  protected get busy(): boolean {
    return this.scheduled;
  }

  /** A stop has begun (it may still be waiting for the current message). */
  protected get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  protected get hasStarted(): boolean {
    return this.started;
  }

  /** Makes the instance and runs `preStart`. Entities override it to load state too. */
  protected startInstance(): void | Promise<void> {
    this.phase = FailurePhase.Create;
    const instance = this.props.create();
    this.instance = instance;
    this.phase = FailurePhase.Start;
    return instance.preStart?.(this.ctx);
  }

  /** The actor has started (or restarted) and is about to handle messages. */
  protected onRunning(): void {}

  /** The mailbox ran empty. Called once per drained batch, not per message. */
  protected becameIdle(): void {}

  /** Last step before `postStop` when stopping; entities save their state here. */
  protected beforeStop(_reason: StopReason): Promise<void> {
    return Promise.resolve();
  }

  /** What happens to messages still queued when the actor has stopped. */
  protected disposeMailbox(reason: StopReason): void {
    const deadReason = reason.type === 'shutdown' ? DeadLetterReason.ShutDown : DeadLetterReason.ActorStopped;
    this.mailbox.drain((message, reply) => {
      this.runtime.deadLetters.record(deadReason, this.path, message);
      reply?.reject(new ActorStoppedError(this.path, messageTypeOf(message)));
    });
  }

  /** Back to handling messages after an aborted stop (an entity whose passivation could not save). */
  protected resume(): void {
    this.status = CellStatus.Running;
    this.scheduled = true;
    this.runtime.dispatcher.schedule(this);
  }

  private activate(): void {
    this.restartTimer = undefined;
    if (this.status >= CellStatus.Passivating) return;
    this.status = CellStatus.Starting;
    this.processing = true;
    let result: void | Promise<void>;
    try {
      result = this.startInstance();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        () => this.onStarted(),
        (error: unknown) => this.fail(error),
      );
    } else {
      this.onStarted();
    }
  }

  private onStarted(): void {
    this.processing = false;
    this.started = true;
    if (this.status !== CellStatus.Starting) {
      this.releaseIdle();
      return;
    }
    this.status = CellStatus.Running;
    this.onRunning();
    this.drain();
  }

  private drain(): void {
    if (this.processing) return;
    const mailbox = this.mailbox;
    const dispatcher = this.runtime.dispatcher;
    const batch = dispatcher.throughput;
    let left = batch;
    for (;;) {
      if (this.status !== CellStatus.Running) {
        this.releaseIdle();
        break;
      }
      const systemQueue = this.systemQueue;
      if (systemQueue !== undefined && systemQueue.length > 0) {
        if (this.handleSystemMessage(systemQueue.shift() as SystemMessage)) continue;
        break;
      }
      if (mailbox.size === 0) {
        this.scheduled = false;
        this.becameIdle();
        break;
      }
      if (left === 0) {
        dispatcher.schedule(this);
        break;
      }
      left--;
      const message = mailbox.shift();
      this.currentReply = mailbox.takeReply();
      this.currentMessage = message;
      this.processing = true;
      this.phase = FailurePhase.Receive;
      let result: void | Promise<void>;
      try {
        result = (this.instance as Actor<M>).receive(message, this.ctx);
      } catch (error) {
        this.fail(error);
        break;
      }
      if (result !== undefined && isPromiseLike(result)) {
        result.then(
          (this.onHandled ??= () => this.handled()),
          (this.onFailed ??= (error) => this.fail(error)),
        );
        break;
      }
      this.processing = false;
      this.currentReply = undefined;
      this.currentMessage = undefined;
    }
    this.runtime.counters.processed += batch - left;
    dispatcher.consumed(batch - left);
  }

  /** An async receive finished: queue up for the next message. */
  private handled(): void {
    this.processing = false;
    this.currentReply = undefined;
    this.currentMessage = undefined;
    this.runtime.dispatcher.schedule(this);
  }

  /** Handles one system message; `true` to go on draining. */
  private handleSystemMessage(message: SystemMessage): boolean {
    switch (message.type) {
      case 'escalated':
        this.handleFailure(
          new ActorFailure(this.path, FailurePhase.Escalated, undefined, { cause: message.failure }),
        );
        return false;
      case 'signal': {
        const instance = this.instance;
        if (instance?.onSignal === undefined) return true;
        this.processing = true;
        this.phase = FailurePhase.Signal;
        let result: void | Promise<void>;
        try {
          result = instance.onSignal(message.signal, this.ctx);
        } catch (error) {
          this.fail(error);
          return false;
        }
        if (isPromiseLike(result)) {
          result.then(
            () => this.signalHandled(),
            (error: unknown) => this.fail(error),
          );
          return false;
        }
        this.processing = false;
        return true;
      }
      default: {
        const unknown: never = message;
        throw new Error(`unknown system message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private signalHandled(): void {
    this.processing = false;
    this.runtime.dispatcher.schedule(this);
  }

  private pushSystem(message: SystemMessage): void {
    if (this.status >= CellStatus.Passivating) return;
    (this.systemQueue ??= []).push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      this.runtime.dispatcher.schedule(this);
    }
  }

  private deliverTimerMessage(message: M): void {
    try {
      this.deliver(message, undefined);
    } catch (error) {
      this.runtime.logger.warn({ actor: this.path, err: toError(error) }, 'timer message dropped');
    }
  }

  private fail(thrown: unknown): void {
    const messageType = this.phase === FailurePhase.Receive ? messageTypeOf(this.currentMessage) : undefined;
    this.handleFailure(new ActorFailure(this.path, this.phase, messageType, { cause: toError(thrown) }));
  }

  private handleFailure(failure: ActorFailure): void {
    this.processing = false;
    const reply = this.currentReply;
    this.currentReply = undefined;
    this.currentMessage = undefined;
    try {
      reply?.reject(failure);
    } catch (error) {
      // A transport's sink that throws must not stop the failure from being supervised.
      this.runtime.logger.error({ actor: this.path, err: toError(error) }, 'could not reject the ask');
    }
    this.runtime.counters.failures++;
    if (this.status >= CellStatus.Passivating) {
      // Already stopping: there is nothing left to decide.
      this.runtime.logger.warn({ actor: this.path, err: failure }, 'actor failed while stopping');
      this.releaseIdle();
      return;
    }
    const startFailed = this.status === CellStatus.Starting;
    this.status = CellStatus.Suspended;
    const logger = this.runtime.logger;
    const directive = decideDirective(
      this.supervision,
      failure.cause,
      this as ActorCell<unknown>,
      (problem) =>
        logger.error({ actor: this.path, err: problem }, 'supervision strategy failed; stopping the actor'),
    );
    switch (directive.type) {
      case 'resume':
        if (startFailed) {
          logger.error(
            { actor: this.path, err: failure },
            'actor failed to start and cannot resume; stopping',
          );
          void this.stop({ type: 'failed', failure, restarts: this.restartHistory?.count ?? 0 });
          return;
        }
        logger.warn({ actor: this.path, err: failure }, 'actor failed; resuming with the next message');
        this.status = CellStatus.Running;
        this.runtime.dispatcher.schedule(this);
        return;
      case 'restart': {
        const history = (this.restartHistory ??= new RestartHistory());
        const delayMs = history.next(directive, this.runtime.clock.now(), this.runtime.random);
        if (delayMs === undefined) {
          logger.error(
            { actor: this.path, err: failure, restarts: history.count, withinMs: directive.withinMs },
            'actor failed more often than its restart limit allows; stopping',
          );
          void this.stop({ type: 'failed', failure, restarts: history.count });
          return;
        }
        this.runtime.counters.restarts++;
        logger.warn(
          { actor: this.path, err: failure, attempt: history.count, delayMs },
          'actor failed; restarting',
        );
        void this.restart(delayMs);
        return;
      }
      case 'stop':
        logger.error({ actor: this.path, err: failure }, 'actor failed; stopping');
        void this.stop({ type: 'failed', failure, restarts: this.restartHistory?.count ?? 0 });
        return;
      case 'escalate':
        logger.warn({ actor: this.path, err: failure }, 'actor failed; escalating to its parent');
        void this.stop({ type: 'escalated' });
        this.parent.childEscalated(this as ActorCell<unknown>, failure);
        return;
      default: {
        const unknown: never = directive;
        throw new Error(`unknown directive ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async restart(delayMs: number): Promise<void> {
    this.status = CellStatus.Restarting;
    this.timerScheduler?.cancelAll();
    await this.stopChildren();
    await this.runPostStop();
    // A stop may have come in meanwhile; it wins.
    if (this.status !== CellStatus.Restarting) return;
    this.restartTimer = this.runtime.clock.setTimeout(() => this.activate(), delayMs);
  }

  private async runStop(reason: StopReason): Promise<void> {
    this.status = this.stoppingStatus;
    if (this.restartTimer !== undefined) {
      this.runtime.clock.clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    if (this.processing) await new Promise<void>((resolve) => (this.idleWaiter = resolve));
    this.timerScheduler?.cancelAll();
    await this.stopChildren();
    try {
      await this.beforeStop(reason);
    } catch (error) {
      this.runtime.logger.error(
        { actor: this.path, err: toError(error), reason: reason.type },
        'stop step failed',
      );
    }
    await this.runPostStop();
    this.status = CellStatus.Stopped;
    this.systemQueue = undefined;
    this.disposeMailbox(reason);
    this.parent.childTerminated(this as ActorCell<unknown>, this.signalFor(reason));
  }

  private signalFor(reason: StopReason): ActorSignal | undefined {
    const child = this as ActorCell<unknown>;
    switch (reason.type) {
      case 'failed':
        return { type: 'child-failed', child, error: reason.failure, restarts: reason.restarts };
      case 'escalated':
        return undefined;
      case 'stop':
      case 'passivate':
      case 'shutdown':
        return { type: 'child-stopped', child };
      default: {
        const unknown: never = reason;
        throw new Error(`unknown stop reason ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async stopChildren(): Promise<void> {
    const children = this.children;
    if (children === undefined || children.size === 0) return;
    await Promise.all([...children.values()].map((child) => child.stop({ type: 'stop' })));
  }

  private async runPostStop(): Promise<void> {
    const instance = this.instance;
    if (!this.started || instance === undefined) return;
    this.started = false;
    try {
      await instance.postStop?.(this.ctx);
    } catch (error) {
      this.runtime.logger.error({ actor: this.path, err: toError(error) }, 'postStop failed');
    }
  }

  private releaseIdle(): void {
    const waiter = this.idleWaiter;
    if (waiter === undefined) return;
    this.idleWaiter = undefined;
    waiter();
  }

  private childFor(ref: ActorRef<unknown>): ActorCell<unknown> | undefined {
    if (!(ref instanceof ActorCell) || this.children === undefined) return undefined;
    const child = this.children.get((ref as ActorCell<unknown>).name);
    return child === ref ? child : undefined;
  }
}

const RESERVED_NAME = /^\$|\//;

/**
 * Creates, registers and starts a child cell of `parent`. Shared by actors spawning children and the
 * system guardian spawning top-level actors.
 */
export function spawnCell<C>(
  runtime: CellRuntime,
  parent: CellParent,
  siblings: Map<string, ActorCell<unknown>>,
  props: Props<C>,
  name: string | undefined,
  generateName: () => string,
): ActorCell<C> {
  if (name !== undefined && (name.length === 0 || RESERVED_NAME.test(name))) {
    throw new InvalidNameError(name, 'actor');
  }
  const childName = name ?? generateName();
  if (siblings.has(childName)) throw new NameConflictError('actor', childName, parent.path);
  const capacity = props.mailboxCapacity ?? runtime.mailboxCapacity;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new InvalidOptionsError(
      `mailboxCapacity of ${parent.path}/${childName}`,
      capacity,
      'an integer >= 1',
    );
  }
  const cell = new ActorCell<C>(
    runtime,
    parent,
    childName,
    `${parent.path}/${childName}`,
    props,
    props.supervision ?? runtime.supervision,
    new Mailbox<C>(capacity),
  );
  siblings.set(childName, cell as ActorCell<unknown>);
  runtime.counters.activeActors++;
  cell.start();
  return cell;
}
