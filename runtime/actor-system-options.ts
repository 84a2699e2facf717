import { systemClock, type Clock } from './clock.js';
import { parseDuration, type Duration } from './duration.js';
import { InvalidOptionsError } from './errors.js';
import { createInProcessTransport } from './in-process-transport.js';
import { silentLogger, type RuntimeLogger } from './logger.js';
import { compileDirective, defaultSupervision, type SupervisionStrategy } from './supervisor.js';
import type { Transport } from './transport.js';

export interface ActorSystemOptions {
  /** Names the system in logs and errors. @default 'parley' */
  name?: string;
  /** Source of time for every delay in the runtime; tests pass a `SimulatedClock`. @default systemClock */
  clock?: Clock;
  /** How entity messages reach their node. @default a new in-process transport */
  transport?: Transport;
  /** Mailbox capacity of each actor unless its props/definition say otherwise. @default 1000 */
  mailboxCapacity?: number;
  /** Deadline of an ask without its own `timeout`. @default '5s' */
  askTimeout?: Duration;
  /** Where the runtime logs failures, restarts and dead letters (pino-compatible). @default silent */
  logger?: RuntimeLogger;
  /**
   * Supervision of top-level actors and entities, and of children whose props name none.
   * @default restart with backoff 100ms..10s (factor 2), at most 10 restarts within 1m
   */
  supervision?: SupervisionStrategy;
  /**
   * Messages the system handles in microtasks before it lets the event loop run (timers, sockets).
   * Larger is faster for message floods, smaller is fairer to I/O.
   * @default 1000
   */
  throughput?: number;
  /** Random source for backoff jitter; pass a seeded one for reproducible tests. @default Math.random */
  random?: () => number;
}

/** {@link ActorSystemOptions} with defaults applied and durations in milliseconds. */
export interface CompiledActorSystemOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly transport: Transport;
  readonly mailboxCapacity: number;
  readonly askTimeoutMs: number;
  readonly logger: RuntimeLogger;
  readonly supervision: SupervisionStrategy;
  readonly throughput: number;
  readonly random: () => number;
}

/** Applies defaults and validates; throws `InvalidOptionsError` naming the first bad option. */
export function compileActorSystemOptions(options: ActorSystemOptions = {}): CompiledActorSystemOptions {
  const compiled: CompiledActorSystemOptions = {
    name: options.name ?? 'parley',
    clock: options.clock ?? systemClock,
    transport: options.transport ?? createInProcessTransport(),
    mailboxCapacity: options.mailboxCapacity ?? 1000,
    askTimeoutMs: parseDuration(options.askTimeout ?? '5s', 'askTimeout'),
    logger: options.logger ?? silentLogger,
    supervision: options.supervision ?? defaultSupervision,
    throughput: options.throughput ?? 1000,
    random: options.random ?? Math.random,
  };
  if (compiled.name.length === 0) throw new InvalidOptionsError('name', compiled.name, 'a non-empty string');
  if (!Number.isInteger(compiled.mailboxCapacity) || compiled.mailboxCapacity < 1) {
    throw new InvalidOptionsError('mailboxCapacity', compiled.mailboxCapacity, 'an integer >= 1');
  }
  if (compiled.askTimeoutMs <= 0) {
    throw new InvalidOptionsError('askTimeout', options.askTimeout, 'a positive duration');
  }
  if (!Number.isInteger(compiled.throughput) || compiled.throughput < 1) {
    throw new InvalidOptionsError('throughput', compiled.throughput, 'an integer >= 1');
  }
  // A fixed directive is checked now rather than at the first failure; functions are checked per failure.
  if (typeof compiled.supervision !== 'function') compileDirective(compiled.supervision);
  return compiled;
}
