/**
 * Parley's actor runtime: domain-free actors with bounded mailboxes, supervision, virtual actors
 * (entities) with passivation, timers on an injectable clock, and a transport seam for clustering.
 * This file is the runtime's public face; the rest of Parley imports only from here.
 *
 * @example
 * import { createActorSystem, type Actor, type ActorContext, type Ask } from '../runtime/index.js';
 *
 * type Message = { type: 'add'; n: number } | ({ type: 'total' } & Ask<number>);
 * class Adder implements Actor<Message> {
 *   private total = 0;
 *   receive(message: Message, ctx: ActorContext<Message>): void {
 *     if (message.type === 'add') this.total += message.n;
 *     else ctx.respond(message, this.total);
 *   }
 * }
 *
 * const system = createActorSystem();
 * const adder = system.spawn({ create: () => new Adder() });
 * adder.tell({ type: 'add', n: 2 });
 * const total = await adder.ask({ type: 'total' }); // number
 */
export { createActorSystem } from './actor-system.js';
export type { ActorSystem, ActorSystemStats } from './actor-system.js';
export type { ActorSystemOptions } from './actor-system-options.js';
export type { Actor, ActorContext, ActorSignal, Props } from './actor.js';
export type { ActorRef } from './actor-ref.js';
export type { Ask, AskOptions, AskReply, ReplyOf, ReplySink } from './ask.js';
export { SimulatedClock, systemClock } from './clock.js';
export type { Clock, TimerHandle, TimerOptions } from './clock.js';
export { DeadLetterReason } from './dead-letters.js';
export type { DeadLetter, DeadLetters } from './dead-letters.js';
export { parseDuration } from './duration.js';
export type { Duration } from './duration.js';
export type { EntityActor, EntityContext, EntityDefinition } from './entity.js';
export {
  ActorFailure,
  ActorStoppedError,
  AskTimeoutError,
  EntityPersistenceError,
  FailurePhase,
  InvalidNameError,
  InvalidOptionsError,
  MailboxFullError,
  NameConflictError,
  NotAChildError,
  RuntimeError,
  RuntimeErrorCode,
  SystemShutDownError,
  UnknownEntityKindError,
} from './errors.js';
export { createInProcessTransport } from './in-process-transport.js';
export {
  ClusterError,
  ClusterHeader,
  RemoteActorError,
  assignShards,
  clusterNames,
  compileClusterOptions,
  createNatsTransport,
  JetStreamPublisher,
  jsonCodec,
  listDeadLetters,
  readClusterStatus,
  readLeases,
  readNodes,
  replayDeadLetter,
} from './cluster/index.js';
export type {
  ClusterNames,
  ClusterOptions,
  ClusterStatus,
  DeadLetteredMessage,
  CompiledClusterOptions,
  LeaseView,
  MessageCodec,
  NatsTransport,
  NatsTransportOptions,
  NodeStatus,
  NodeView,
  PubAck,
} from './cluster/index.js';
export type { RuntimeLogger } from './logger.js';
export { fnv1a32, shardOf } from './sharding.js';
export { defaultSupervision } from './supervisor.js';
export type { RestartBackoff, SupervisionDirective, SupervisionStrategy } from './supervisor.js';
export type { TimerScheduler } from './timers.js';
export type { EntityAddress, Transport, TransportHost } from './transport.js';
