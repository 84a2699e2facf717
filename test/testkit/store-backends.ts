import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, StoreOptions } from '../../store/index.js';
import { openStore } from '../../store/internal.js';
import { createTestDatabase } from './postgres.js';

/** Options a test may set; where the data lives is the backend's business. */
export type BackendStoreOptions = Omit<StoreOptions, 'databaseUrl' | 'dataDir'>;

/** A place for store data that outlives one store: open it, close, open it again. */
export interface StoreLocation extends AsyncDisposable {
  /** Pass to `createStore({ ...location.options, ... })`. */
  readonly options: Pick<StoreOptions, 'databaseUrl' | 'dataDir'>;
}

/** A way to get a fresh, empty store, so one suite can run on every backend. */
export interface StoreBackendUnderTest {
  readonly name: Store['backend'];
  /** Opens a store on a fresh database; disposing (or closing) it also removes the database. */
  open(options?: BackendStoreOptions): Promise<Store & AsyncDisposable>;
  /**
   * A fresh location that can be opened several times (PGlite: a temp directory; Postgres: a test
   * database); disposing it removes the data. Close every store opened on it first.
   */
  createLocation(): Promise<StoreLocation>;
}

/**
 * Every store backend: in-memory PGlite, and a fresh database on the test Postgres
 * (see `createTestDatabase`).
 *
 * @example
 * ```ts
 * for (const backend of storeBackends) {
 *   describe(`store (${backend.name})`, () => {
 *     it('users - upsert is stable', async () => {
 *       await using store = await backend.open();
 *       ...
 *     });
 *   });
 * }
 * ```
 */
export const storeBackends: readonly StoreBackendUnderTest[] = [
  {
    name: 'pglite',
    open: (options = {}) => openStore({ ...options, dataDir: 'memory://' }),
    async createLocation() {
      const dataDir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
      return {
        options: { dataDir },
        [Symbol.asyncDispose]: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async open(options = {}) {
      const database = await createTestDatabase();
      try {
        return await openStore(
          { ...options, databaseUrl: database.url },
          {
            afterClose: async () => {
              await database[Symbol.asyncDispose]();
            },
          },
        );
      } catch (error) {
        await database[Symbol.asyncDispose]();
        throw error;
      }
    },
    async createLocation() {
      const database = await createTestDatabase();
      return {
        options: { databaseUrl: database.url },
        [Symbol.asyncDispose]: () => database[Symbol.asyncDispose](),
      };
    },
  },
];
