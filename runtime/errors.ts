/**
 * Every error the runtime raises. Each class sets `name`, keeps the original error as `cause`, and carries
 * the context a person needs to act on it (actor path, message type, capacity, timeout).
 */

/** Stable, machine-readable codes, one per error class. */
export const RuntimeErrorCode = {
  MailboxFull: 'MAILBOX_FULL',
  ActorStopped: 'ACTOR_STOPPED',
  AskTimeout: 'ASK_TIMEOUT',
  ActorFailed: 'ACTOR_FAILED',
  EntityPersistence: 'ENTITY_PERSISTENCE_FAILED',
  UnknownEntityKind: 'UNKNOWN_ENTITY_KIND',
  NameConflict: 'NAME_CONFLICT',
  InvalidName: 'INVALID_NAME',
  NotAChild: 'NOT_A_CHILD',
  InvalidOptions: 'INVALID_OPTIONS',
  SystemShutDown: 'SYSTEM_SHUT_DOWN',
  Cluster: 'CLUSTER',
  RemoteActorFailed: 'REMOTE_ACTOR_FAILED',
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

/** Where in an actor's life user code failed. */
export const FailurePhase = {
  /** `props.create()` / `definition.create(id)` threw. */
  Create: 'create',
  /** `preStart` threw or rejected (for entities this includes loading state). */
  Start: 'start',
  /** `receive` threw or rejected. */
  Receive: 'receive',
  /** `onSignal` threw or rejected. */
  Signal: 'signal',
  /** A child escalated its failure; the parent fails with it. */
  Escalated: 'escalated',
} as const;
export type FailurePhase = (typeof FailurePhase)[keyof typeof FailurePhase];

/** Short description of a message for errors, logs and dead letters: its `type` field or its class. */
export function messageTypeOf(message: unknown): string {
  if (typeof message === 'object' && message !== null) {
    const type = (message as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    return message.constructor?.name ?? 'object';
  }
  return typeof message;
}

/** Base class of the runtime's errors; `code` tells them apart without `instanceof`. */
export abstract class RuntimeError extends Error {
  abstract readonly code: RuntimeErrorCode;
}

/** A message did not fit: the recipient's bounded mailbox was full. The message is a dead letter. */
export class MailboxFullError extends RuntimeError {
  override readonly name = 'MailboxFullError';
  readonly code = RuntimeErrorCode.MailboxFull;

  constructor(
    readonly actorPath: string,
    readonly capacity: number,
    readonly messageType: string,
  ) {
    super(
      `Mailbox of ${actorPath} is full (capacity ${capacity}); message '${messageType}' was dropped. ` +
        'Slow the sender down (ask instead of tell), or raise mailboxCapacity for this actor.',
    );
  }
}

/** The recipient is stopped (or stopping for good); the message went to dead letters. */
export class ActorStoppedError extends RuntimeError {
  override readonly name = 'ActorStoppedError';
  readonly code = RuntimeErrorCode.ActorStopped;

  constructor(
    readonly actorPath: string,
    readonly messageType: string,
    /** What could not be done, when it was not delivering a message. */
    attempted?: string,
  ) {
    super(
      attempted === undefined
        ? `Actor ${actorPath} is stopped; message '${messageType}' went to dead letters.`
        : `Actor ${actorPath} is stopping or stopped; cannot ${attempted}.`,
    );
  }
}

/** No reply arrived before the ask's deadline. */
export class AskTimeoutError extends RuntimeError {
  override readonly name = 'AskTimeoutError';
  readonly code = RuntimeErrorCode.AskTimeout;

  constructor(
    readonly actorPath: string,
    readonly messageType: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Ask to ${actorPath} with '${messageType}' got no reply within ${timeoutMs} ms. The actor may be busy or ` +
        'stuck, or never call ctx.reply() for this message; pass { timeout } to ask() if the work is slow.',
    );
  }
}

/**
 * User code inside an actor threw or rejected. This is what the supervisor sees and what an asker whose
 * message failed is rejected with; `cause` is the original error.
 */
export class ActorFailure extends RuntimeError {
  override readonly name = 'ActorFailure';
  readonly code = RuntimeErrorCode.ActorFailed;
  override readonly cause: Error;

  constructor(
    readonly actorPath: string,
    readonly phase: FailurePhase,
    /** Type of the message being handled, when the failure happened in `receive`. */
    readonly messageType: string | undefined,
    options: { cause: Error },
  ) {
    const handling = messageType === undefined ? '' : ` handling '${messageType}'`;
    super(`Actor ${actorPath} failed in ${phase}${handling}: ${options.cause.message}`, options);
    this.cause = options.cause;
  }
}

/** Loading or saving an entity's state failed. */
export class EntityPersistenceError extends RuntimeError {
  override readonly name = 'EntityPersistenceError';
  readonly code = RuntimeErrorCode.EntityPersistence;

  constructor(
    readonly kind: string,
    readonly id: string,
    readonly operation: 'load' | 'save',
    options: { cause: unknown },
  ) {
    super(
      `Could not ${operation} the state of entity ${kind}/${id}: ${describeCause(options.cause)}`,
      options,
    );
  }
}

/** A message was addressed to an entity kind this system never registered. */
export class UnknownEntityKindError extends RuntimeError {
  override readonly name = 'UnknownEntityKindError';
  readonly code = RuntimeErrorCode.UnknownEntityKind;

  constructor(
    readonly kind: string,
    readonly known: readonly string[],
  ) {
    super(
      `No entity kind '${kind}' is registered in this actor system (known: ${known.join(', ') || 'none'}). ` +
        'Call system.registerEntity(kind, definition) before sending to it.',
    );
  }
}

/** A name is already taken by a sibling actor or a registered entity kind. */
export class NameConflictError extends RuntimeError {
  override readonly name = 'NameConflictError';
  readonly code = RuntimeErrorCode.NameConflict;

  constructor(
    readonly what: 'actor' | 'entity kind',
    readonly conflictingName: string,
    readonly scope: string,
  ) {
    super(`An ${what} named '${conflictingName}' already exists in ${scope}; choose another name.`);
  }
}

/** An actor or entity kind name is empty or contains '/'. */
export class InvalidNameError extends RuntimeError {
  override readonly name = 'InvalidNameError';
  readonly code = RuntimeErrorCode.InvalidName;

  constructor(
    readonly invalidName: string,
    readonly what: 'actor' | 'entity kind',
  ) {
    super(
      `Invalid ${what} name '${invalidName}': names must be non-empty, must not contain '/' and ` +
        "must not start with '$' (reserved for generated names).",
    );
  }
}

/** `ctx.stop(ref)` / `system.stop(ref)` was given an actor that is not a child of the caller. */
export class NotAChildError extends RuntimeError {
  override readonly name = 'NotAChildError';
  readonly code = RuntimeErrorCode.NotAChild;

  constructor(
    readonly callerPath: string,
    readonly targetPath: string,
  ) {
    super(
      `${callerPath} cannot stop ${targetPath}: only an actor's own children (or itself) can be stopped by it. ` +
        'Send the actor a message asking it to stop instead.',
    );
  }
}

/** An option or argument failed validation. */
export class InvalidOptionsError extends RuntimeError {
  override readonly name = 'InvalidOptionsError';
  readonly code = RuntimeErrorCode.InvalidOptions;

  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`Invalid ${option}: ${describeValue(value)}; expected ${expected}.`);
  }
}

/** The actor system is shutting down or shut down; it takes no new actors or entity messages. */
export class SystemShutDownError extends RuntimeError {
  override readonly name = 'SystemShutDownError';
  readonly code = RuntimeErrorCode.SystemShutDown;

  constructor(
    readonly systemName: string,
    readonly attempted: string,
  ) {
    super(`Actor system '${systemName}' is shut down; cannot ${attempted}.`);
  }
}

/** Turns anything thrown into an Error, so supervision and logs always see one. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(`non-Error thrown: ${describeValue(thrown)}`, { cause: thrown });
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : describeValue(cause);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
