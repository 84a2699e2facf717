/**
 * Errors thrown by the store. Each class sets `name`, carries the context a person needs to act on it
 * (never a sensitive value such as a platform user id or a conversation key) and passes the underlying
 * driver error on as `cause`.
 */

/** Stable, machine-readable codes carried by every {@link StoreError}. */
export const StoreErrorCode = {
  /** The options given to `createStore()` are invalid. */
  InvalidOptions: 'STORE_INVALID_OPTIONS',
  /** Postgres could not be reached or refused the connection. */
  ConnectionFailed: 'STORE_CONNECTION_FAILED',
  /** The PGlite data directory could not be created or opened. */
  DataDirUnavailable: 'STORE_DATA_DIR_UNAVAILABLE',
  /**
   * Another live process holds the PGlite data directory (PGlite is single-process). The app can connect
   * to that process instead of starting its own store.
   */
  DataDirInUse: 'STORE_DATA_DIR_IN_USE',
  /** A schema migration failed; the schema was left at the previous version. */
  MigrationFailed: 'STORE_MIGRATION_FAILED',
  /** A write carried a fencing epoch lower than the one already stored. */
  StaleEpoch: 'STORE_STALE_EPOCH',
  /** A sealed field could not be opened (wrong codec, wrong key, tampered bytes or row). */
  FieldDecodeFailed: 'STORE_FIELD_DECODE_FAILED',
  /** A value handed to the store cannot be stored (not JSON-serialisable, invalid argument). */
  InvalidValue: 'STORE_INVALID_VALUE',
  /** A write referenced a user id that does not exist. */
  UnknownUser: 'STORE_UNKNOWN_USER',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Base class of every error the store throws on purpose. */
export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

/** The options given to `createStore()` are invalid; `issues` lists each problem. */
export class StoreOptionsError extends StoreError {
  override readonly name = 'StoreOptionsError';
  readonly code = StoreErrorCode.InvalidOptions;
  constructor(
    readonly issues: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid store options: ${issues.join('; ')}`, options);
  }
}

/** Postgres at `host:port` could not be reached, or refused the login. */
export class StoreConnectionError extends StoreError {
  override readonly name = 'StoreConnectionError';
  readonly code = StoreErrorCode.ConnectionFailed;
  constructor(
    /** `host:port` (and database) of the server, without credentials. */
    readonly address: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    super(
      `cannot connect to Postgres at ${address} (${describeCause(options.cause)}): ${connectionHint(options.cause)}`,
      options,
    );
  }
}

/** Why a {@link StoreDataDirError} was thrown. */
export type DataDirProblem =
  /** The directory could not be created or opened; `cause` is the file system or PGlite error. */
  | { readonly type: 'unavailable'; readonly cause: unknown }
  /** Process `pid` holds the directory's `parley.lock` and is alive. */
  | { readonly type: 'inUse'; readonly pid: number };

/**
 * The PGlite data directory at `path` could not be opened: `code` is `DataDirInUse` when another live
 * process holds it (see `pid`), `DataDirUnavailable` otherwise.
 *
 * @example
 * ```ts
 * if (error instanceof StoreDataDirError && error.code === StoreErrorCode.DataDirInUse) {
 *   // another Parley owns the data: talk to it instead
 * }
 * ```
 */
export class StoreDataDirError extends StoreError {
  override readonly name = 'StoreDataDirError';
  readonly code: typeof StoreErrorCode.DataDirUnavailable | typeof StoreErrorCode.DataDirInUse;
  /** The process holding the directory, when `code` is `DataDirInUse`. */
  readonly pid: number | undefined;
  constructor(
    /** Absolute path of the data directory. */
    readonly path: string,
    problem: DataDirProblem,
  ) {
    super(
      dataDirMessage(path, problem),
      problem.type === 'unavailable' ? { cause: problem.cause } : undefined,
    );
    this.code = problem.type === 'inUse' ? StoreErrorCode.DataDirInUse : StoreErrorCode.DataDirUnavailable;
    this.pid = problem.type === 'inUse' ? problem.pid : undefined;
  }
}

function dataDirMessage(path: string, problem: DataDirProblem): string {
  switch (problem.type) {
    case 'unavailable':
      return (
        `cannot open the PGlite data directory ${path} (${describeCause(problem.cause)}): ` +
        'check that it is writable and not a file, or set dataDir / DATABASE_URL'
      );
    case 'inUse':
      return (
        `the PGlite data directory ${path} is in use by process ${problem.pid}; stop that Parley ` +
        '(or connect to it with `parley chat`), or use another PARLEY_DATA_DIR'
      );
    default: {
      const unknownProblem: never = problem;
      throw new Error(`unknown data dir problem ${JSON.stringify(unknownProblem)}`);
    }
  }
}

/** Migration `migration` failed; earlier migrations of the same run were rolled back with it. */
export class StoreMigrationError extends StoreError {
  override readonly name = 'StoreMigrationError';
  readonly code = StoreErrorCode.MigrationFailed;
  constructor(
    /** Name of the failing migration, when Kysely got that far. */
    readonly migration: string | undefined,
    options: ErrorOptions & { cause: unknown },
  ) {
    super(
      `store migration ${migration ?? '(before any migration ran)'} failed: ${describeCause(options.cause)}`,
      options,
    );
  }
}

/**
 * A write to conversation `conversationId` carried fencing epoch `attemptedEpoch`, lower than the stored
 * `currentEpoch`: another node owns the conversation's shard now. Nothing was written; the writer should
 * stop processing the conversation.
 */
export class StaleEpochError extends StoreError {
  override readonly name = 'StaleEpochError';
  readonly code = StoreErrorCode.StaleEpoch;
  constructor(
    readonly conversationId: string,
    readonly attemptedEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      `stale write to conversation ${conversationId}: epoch ${attemptedEpoch} is older than the stored ` +
        `epoch ${currentEpoch}; another node owns this conversation now`,
    );
  }
}

/** The sealed field `aad` (`table.column:rowId`) could not be opened with codec `codecId`. */
export class FieldDecodeError extends StoreError {
  override readonly name = 'FieldDecodeError';
  readonly code = StoreErrorCode.FieldDecodeFailed;
  constructor(
    readonly aad: string,
    readonly codecId: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot open sealed field ${aad} with codec '${codecId}': ${reason}`, options);
  }
}

/** A value handed to the store cannot be stored; `field` names the argument. */
export class InvalidValueError extends StoreError {
  override readonly name = 'InvalidValueError';
  readonly code = StoreErrorCode.InvalidValue;
  constructor(
    readonly field: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`invalid ${field}: ${reason}`, options);
  }
}

/** A write referenced user `userId`, which does not exist (never created, or forgotten). */
export class UnknownUserError extends StoreError {
  override readonly name = 'UnknownUserError';
  readonly code = StoreErrorCode.UnknownUser;
  constructor(
    readonly userId: string,
    options?: ErrorOptions,
  ) {
    super(`unknown user ${userId}: upsert the user before writing data that belongs to it`, options);
  }
}

const UNREACHABLE_HINT = 'is it running? set DATABASE_URL or unset it to use the embedded PGlite store';

/** What to do, by the server's SQLSTATE when it answered at all. */
function connectionHint(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  switch (code) {
    case '3D000':
      return 'create the database, or fix the database name in DATABASE_URL';
    case '28000':
    case '28P01':
      return 'check the user and password in DATABASE_URL';
    default:
      return UNREACHABLE_HINT;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.map(describeCause).join(', ');
  }
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code}: ${cause.message}`
      : cause.message || cause.name;
  }
  return String(cause);
}
