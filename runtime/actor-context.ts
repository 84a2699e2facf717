import type { ActorContext, Props } from './actor.js';
import type { ActorRef } from './actor-ref.js';
import type { ActorSystem } from './actor-system.js';
import type { AskReply, ReplySink } from './ask.js';
import type { Clock } from './clock.js';
import type { TimerScheduler } from './timers.js';

/** What a context needs from the cell it belongs to. */
export interface ContextHost<M> extends ActorRef<M> {
  readonly parentRef: ActorRef<unknown> | undefined;
  readonly system: ActorSystem;
  readonly clock: Clock;
  readonly timers: TimerScheduler<M>;
  replyCurrent(value: unknown): void;
  takeReply(): ReplySink;
  spawnChild<C>(props: Props<C>, name: string | undefined): ActorRef<C>;
  stopFromContext(ref: ActorRef<unknown> | undefined): Promise<void>;
}

/** The one context of an actor: a thin view of its cell, allocated once, not per message. */
export class CellContext<M> implements ActorContext<M> {
  constructor(protected readonly host: ContextHost<M>) {}

  get self(): ActorRef<M> {
    return this.host;
  }

  get parent(): ActorRef<unknown> | undefined {
    return this.host.parentRef;
  }

  get system(): ActorSystem {
    return this.host.system;
  }

  get clock(): Clock {
    return this.host.clock;
  }

  get timers(): TimerScheduler<M> {
    return this.host.timers;
  }

  reply(value: unknown): void {
    this.host.replyCurrent(value);
  }

  respond<Q extends M>(_message: Q, value: AskReply<M, Q>): void {
    this.host.replyCurrent(value);
  }

  deferReply(): ReplySink {
    return this.host.takeReply();
  }

  spawn<C>(props: Props<C>, name?: string): ActorRef<C> {
    return this.host.spawnChild(props, name);
  }

  stop(ref?: ActorRef<unknown>): Promise<void> {
    return this.host.stopFromContext(ref);
  }
}
