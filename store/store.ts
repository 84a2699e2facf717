import { Kysely, sql } from 'kysely';
import { BlindIndex, loadOrCreateBlindIndexKey } from './blind-index.js';
import type { ConversationRepository } from './conversations.js';
import { createConversationRepository } from './conversations.js';
import type { Database } from './database.js';
import type { StoreBackend } from './dialect.js';
import { openDialect } from './dialect.js';
import { FieldSealer } from './field-codec.js';
import type { MessageRepository } from './messages.js';
import { createMessageRepository } from './messages.js';
import { migrateToLatest } from './migrations/index.js';
import type { PluginDataRepository } from './plugin-data.js';
import { createPluginDataRepository } from './plugin-data.js';
import type { RepositoryContext } from './repository-support.js';
import type { StoreOptions } from './store-options.js';
import { compileStoreOptions } from './store-options.js';
import { inTransaction } from './transaction.js';
import { enableTurnJournal } from './turn-journal.js';
import type { UserRepository } from './users.js';
import { createUserRepository } from './users.js';

/**
 * Parley's data store: users, conversations with their messages, and plugin data, on Postgres or the
 * embedded PGlite. Sensitive fields are sealed by the configured `FieldCodec`.
 */
export interface Store extends AsyncDisposable {
  readonly users: UserRepository;
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly pluginData: PluginDataRepository;
  /**
   * Runs `fn` in one transaction: everything done through `tx` commits together, or rolls back when `fn`
   * throws. Nested calls on `tx` use savepoints. Use only `tx` inside `fn`, one operation at a time: on
   * PGlite (one connection) a call on the outer store would wait for the transaction forever.
   *
   * @example
   * ```ts
   * await store.transaction(async (tx) => {
   *   const user = await tx.users.upsert({ channel: 'web', platformUserId: 'u1' });
   *   await tx.pluginData.set('notes', user.id, 'first', { text: 'hi' });
   * });
   * ```
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Makes the store record turns in the journal (migration 0009) from now on; false when it already did.
   * A store made by this version does from the start. Run it on an older one (`parley store
   * use-turn-journal`) once every node runs this version: nodes take it up at their next start.
   */
  useTurnJournal(): Promise<boolean>;
  /** Cheap round trip for readiness checks; rejects when the database is unreachable. */
  ping(): Promise<void>;
  /** The engine underneath. */
  readonly backend: StoreBackend;
  /** Closes the connections (idempotent). On a transaction's `tx` it does nothing. */
  close(): Promise<void>;
}

/**
 * Opens the store and applies pending migrations.
 *
 * @example
 * ```ts
 * await using store = await createStore({ databaseUrl: process.env.DATABASE_URL });
 * const user = await store.users.upsert({ channel: 'telegram', platformUserId: '42' });
 * ```
 * @throws StoreOptionsError, StoreConnectionError, StoreDataDirError, StoreMigrationError
 */
export async function createStore(options: StoreOptions): Promise<Store> {
  return await openStore(options);
}

/** Extra behaviour for tests (through `internal.ts`). */
export interface OpenStoreHooks {
  /** Runs after the store's connections are closed, e.g. to drop a test database. */
  readonly afterClose?: () => Promise<void>;
}

/** {@link createStore}, returning the implementation so `internal.ts` can reach the database. */
export async function openStore(options: StoreOptions, hooks: OpenStoreHooks = {}): Promise<StoreImpl> {
  const compiled = compileStoreOptions(options);
  const opened = await openDialect(compiled.connection, compiled.onBackgroundError);
  const db = new Kysely<Database>({ dialect: opened.dialect });
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      throw opened.explainOpenFailure(error);
    }
    const sealer = new FieldSealer(compiled.codec);
    const blindIndexKey = async (on: Kysely<Database> | Kysely<unknown>) =>
      compiled.blindIndexKey ?? (await loadOrCreateBlindIndexKey(on, new Date(compiled.clock())));
    await migrateToLatest(db, { sealer, blindIndexKey });
    const ctx: RepositoryContext = {
      db,
      sealer,
      blindIndex: new BlindIndex(await blindIndexKey(db)),
      clock: compiled.clock,
    };
    return new StoreImpl(ctx, opened.backend, async () => {
      try {
        await db.destroy();
      } finally {
        await opened.release();
      }
      await hooks.afterClose?.();
    });
  } catch (error) {
    await db.destroy().catch(() => {});
    await opened.release().catch(() => {});
    throw error;
  }
}

export class StoreImpl implements Store {
  readonly users: UserRepository;
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly pluginData: PluginDataRepository;
  #closing: Promise<void> | undefined;

  constructor(
    readonly ctx: RepositoryContext,
    readonly backend: StoreBackend,
    /** `undefined` for a transaction's store, which does not own the connection. */
    private readonly closeConnections: (() => Promise<void>) | undefined,
  ) {
    this.users = createUserRepository(ctx);
    this.conversations = createConversationRepository(ctx);
    this.messages = createMessageRepository(ctx);
    this.pluginData = createPluginDataRepository(ctx);
  }

  /** The Kysely instance (or transaction) the repositories use. */
  get db(): Kysely<Database> {
    return this.ctx.db;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return await inTransaction(this.ctx.db, (trx) =>
      fn(new StoreImpl({ ...this.ctx, db: trx }, this.backend, undefined)),
    );
  }

  useTurnJournal(): Promise<boolean> {
    return enableTurnJournal(this.ctx.db);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.ctx.db);
  }

  async close(): Promise<void> {
    this.#closing ??= this.closeConnections?.() ?? Promise.resolve();
    await this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
