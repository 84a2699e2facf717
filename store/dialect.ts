import { mkdir } from 'node:fs/promises';
import type { Dialect, PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';
import { PGliteDialect, PostgresDialect } from 'kysely';
import type { DataDirLock } from './data-dir-lock.js';
import { lockDataDir } from './data-dir-lock.js';
import type { StoreError } from './errors.js';
import { StoreConnectionError, StoreDataDirError } from './errors.js';
import type { StoreConnection } from './store-options.js';
import { MEMORY_DATA_DIR } from './store-options.js';
import { preparedName } from './prepared-statements.js';

/** Which database engine a store runs on. */
export type StoreBackend = StoreConnection['type'];

/** A Kysely dialect ready to use, plus how to explain a failure to reach it. */
export interface OpenedDialect {
  readonly backend: StoreBackend;
  readonly dialect: Dialect;
  /** Wraps an error from the first round trip into an error that says what to do. */
  explainOpenFailure(error: unknown): StoreError;
  /**
   * Releases what the store holds besides its connections (the PGlite data directory lock). Call once
   * the Kysely instance is destroyed; idempotent.
   */
  release(): Promise<void>;
}

/**
 * Opens the dialect for `connection`: the only place that branches on the backend. Drivers are loaded
 * on demand, so a Postgres deployment never loads PGlite's WebAssembly and the reverse.
 */
export async function openDialect(
  connection: StoreConnection,
  onBackgroundError: (error: Error) => void,
): Promise<OpenedDialect> {
  switch (connection.type) {
    case 'pglite':
      return await openPGlite(connection.dataDir);
    case 'postgres':
      return await openPostgres(connection, onBackgroundError);
    default: {
      const unknownConnection: never = connection;
      throw new Error(`unknown store connection ${JSON.stringify(unknownConnection)}`);
    }
  }
}

async function openPGlite(dataDir: string): Promise<OpenedDialect> {
  const explainOpenFailure = (error: unknown) =>
    new StoreDataDirError(dataDir, { type: 'unavailable', cause: error });
  const { PGlite } = await import('@electric-sql/pglite');
  let lock: DataDirLock | undefined;
  if (dataDir !== MEMORY_DATA_DIR) {
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (error) {
      throw explainOpenFailure(error);
    }
    // PGlite is single-process: a second process writing the same directory loses data.
    lock = await lockDataDir(dataDir);
  }
  const release = async () => {
    await lock?.release();
  };
  let pglite;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (error) {
    await release();
    throw explainOpenFailure(error);
  }
  return { backend: 'pglite', dialect: new PGliteDialect({ pglite }), explainOpenFailure, release };
}

/**
 * The pool as Kysely sees it, with statements marked `prepared` (see `prepared-statements.ts`) sent by name:
 * node-postgres parses a named statement once per connection and afterwards only binds and runs it. One
 * wrapper per connection: Kysely keeps its own state per client object.
 */
function preparingPool(pool: Pool): PostgresPool {
  const wrappers = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    const query = (sql: string, values: readonly unknown[]) => {
      const name = preparedName(sql);
      return client.query(name === undefined ? sql : { name, text: sql }, [...values]);
    };
    return {
      // Kysely reads it to cancel a statement; pg sets it once connected.
      processID: (client as unknown as { processID: number }).processID,
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    options: pool.options,
    connect: async () => {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) wrappers.set(client, (wrapper = wrap(client)));
      return wrapper;
    },
    end: () => pool.end(),
  };
}

async function openPostgres(
  connection: Extract<StoreConnection, { type: 'postgres' }>,
  onBackgroundError: (error: Error) => void,
): Promise<OpenedDialect> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: connection.url,
    max: connection.poolSize,
    connectionTimeoutMillis: connection.connectTimeoutMs,
    // Sent as a startup parameter: the server cancels any statement running longer (0: no limit).
    statement_timeout: connection.statementTimeoutMs,
    // Detects a server that vanished without closing the socket, so an idle client is not reused blind.
    // No `query_timeout`: in pg 8 it leaves the timed-out client half open and back in the pool.
    keepAlive: true,
  });
  const report = (error: Error): void => {
    try {
      onBackgroundError(error);
    } catch {
      // A failing logger must not turn a dropped connection into a crash.
    }
  };
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would crash the process.
  pool.on('error', report);
  // So does a checked-out one (the pool listens only while it is idle): a server shutting down sends
  // FATAL to every session, including those between two statements of a transaction. The statement under
  // way fails on its own, and the pool drops the client when it comes back.
  pool.on('connect', (client) => client.on('error', report));
  return {
    backend: 'postgres',
    dialect: new PostgresDialect({ pool: preparingPool(pool) }),
    explainOpenFailure: (error) => new StoreConnectionError(connection.address, { cause: error }),
    release: () => Promise.resolve(),
  };
}
