/**
 * Internals for tests and tooling (the testkit, migration checks); not part of the store's contract.
 */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Store } from './store.js';
import { StoreImpl } from './store.js';

export { openStore, StoreImpl } from './store.js';
export type { OpenStoreHooks } from './store.js';
export {
  compileStoreOptions,
  DEFAULT_DATA_DIR,
  DEFAULT_STATEMENT_TIMEOUT,
  MEMORY_DATA_DIR,
} from './store-options.js';
export type { CompiledStoreOptions, StoreConnection } from './store-options.js';
export { openDialect } from './dialect.js';
export type { OpenedDialect } from './dialect.js';
export {
  appliedMigrations,
  codeMigrationProvider,
  migrateTo,
  migrateToLatest,
  migrations,
} from './migrations/index.js';
export type { MigrationContext } from './migrations/index.js';
export { DATA_DIR_LOCK_FILE, lockDataDir } from './data-dir-lock.js';
export type { DataDirLock, DataDirLockContent } from './data-dir-lock.js';
export {
  BlindIndex,
  BlindIndexPurpose,
  BLIND_INDEX_KEY_SETTING,
  loadOrCreateBlindIndexKey,
} from './blind-index.js';
export { FieldSealer, fieldAad } from './field-codec.js';
export { inTransaction } from './transaction.js';
export type * from './database.js';

/** The Kysely instance behind a store opened by `createStore()` / `openStore()`, for raw queries in tests. */
export function databaseOf(store: Store): Kysely<Database> {
  if (!(store instanceof StoreImpl)) throw new TypeError('not a store opened by createStore()');
  return store.db;
}
