import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, storeBackends } from '../test/testkit/index.js';
import {
  createStore,
  StoreConnectionError,
  StoreDataDirError,
  StoreErrorCode,
  StoreOptionsError,
} from './index.js';
import { compileStoreOptions, databaseOf } from './internal.js';

describe('store options', () => {
  it('store options - default to PGlite in ./data/pglite with the plain codec', () => {
    const compiled = compileStoreOptions({});
    assert.deepEqual(compiled.connection, { type: 'pglite', dataDir: resolve('data/pglite') });
    assert.equal(compiled.codec.id, 'plain');
    assert.equal(compiled.blindIndexKey, undefined);
    assert.equal(compileStoreOptions({ databaseUrl: '' }).connection.type, 'pglite');
  });

  it('store options - a databaseUrl selects Postgres with pool and timeout defaults', () => {
    const compiled = compileStoreOptions({ databaseUrl: 'postgres://u:secret@db.example:6543/parley' });
    assert.deepEqual(compiled.connection, {
      type: 'postgres',
      url: 'postgres://u:secret@db.example:6543/parley',
      address: 'db.example:6543/parley',
      poolSize: 10,
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
    });
    const custom = compileStoreOptions({
      databaseUrl: 'postgresql://h/db',
      poolSize: 3,
      connectTimeout: '1.5s',
      statementTimeout: 0,
    });
    assert.deepEqual(custom.connection, {
      type: 'postgres',
      url: 'postgresql://h/db',
      address: 'h:5432/db',
      poolSize: 3,
      connectTimeoutMs: 1_500,
      statementTimeoutMs: 0,
    });
  });

  it('store options - background errors become process warnings unless the app passes a handler', async () => {
    const warned = once(process, 'warning');
    compileStoreOptions({}).onBackgroundError(new Error('idle connection dropped'));
    const [warning] = (await warned) as [Error];
    assert.equal(warning.name, 'StoreBackgroundError');
    assert.match(warning.message, /idle connection dropped/);
    const seen: Error[] = [];
    compileStoreOptions({ onBackgroundError: (error) => seen.push(error) }).onBackgroundError(new Error('x'));
    assert.equal(seen.length, 1);
  });

  it('store options - invalid values are reported together', () => {
    assert.throws(
      () =>
        compileStoreOptions({
          poolSize: 0,
          blindIndexKey: new Uint8Array(8),
          connectTimeout: 'soon',
          statementTimeout: -1,
        }),
      (error: unknown) => {
        assert.ok(error instanceof StoreOptionsError);
        assert.equal(error.code, StoreErrorCode.InvalidOptions);
        assert.equal(error.issues.length, 4);
        assert.match(error.message, /statementTimeout/);
        assert.match(error.message, /poolSize/);
        assert.match(error.message, /blindIndexKey: at least 32 bytes/);
        assert.match(error.message, /connectTimeout/);
        return true;
      },
    );
    assert.throws(() => compileStoreOptions({ databaseUrl: 'mysql://h/db' }), /expected a postgres:\/\/ URL/);
    assert.throws(() => compileStoreOptions({ databaseUrl: 'not a url' }), StoreOptionsError);
  });
});

describe('store opening', () => {
  it('store - a wrong DATABASE_URL fails with a clear error', async () => {
    await assert.rejects(
      createStore({ databaseUrl: 'postgres://parley:hunter2@127.0.0.1:1/parley', connectTimeout: '2s' }),
      (error: unknown) => {
        assert.ok(error instanceof StoreConnectionError);
        assert.equal(error.code, StoreErrorCode.ConnectionFailed);
        assert.match(
          error.message,
          /^cannot connect to Postgres at 127\.0\.0\.1:1\/parley \(.*ECONNREFUSED.*\)/,
        );
        assert.match(error.message, /set DATABASE_URL or unset it to use the embedded PGlite store/);
        assert.doesNotMatch(error.message, /hunter2/);
        assert.ok(error.cause);
        return true;
      },
    );
  });

  it('store - a Postgres database that does not exist fails with a clear error', async () => {
    await using database = await createTestDatabase();
    const url = new URL(database.url);
    url.pathname = '/parley_missing_database';
    await assert.rejects(createStore({ databaseUrl: url.toString() }), (error: unknown) => {
      assert.ok(error instanceof StoreConnectionError);
      assert.match(error.message, /parley_missing_database.*does not exist/);
      return true;
    });
  });

  it('store - a PGlite data dir that cannot be created fails with its path', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'parley-store-'));
    try {
      const file = join(parent, 'a-file');
      await writeFile(file, 'not a directory');
      const dataDir = join(file, 'pglite');
      await assert.rejects(createStore({ dataDir }), (error: unknown) => {
        assert.ok(error instanceof StoreDataDirError);
        assert.equal(error.code, StoreErrorCode.DataDirUnavailable);
        assert.equal(error.path, dataDir);
        assert.match(
          error.message,
          new RegExp(`^cannot open the PGlite data directory ${dataDir} \\(ENOTDIR`),
        );
        return true;
      });
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('store - PGlite on a directory keeps data across close and reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
    try {
      let userId: string;
      {
        await using store = await createStore({ dataDir });
        assert.equal(store.backend, 'pglite');
        userId = (await store.users.upsert({ channel: 'cli', platformUserId: 'me', displayName: 'Me' })).id;
        await store.pluginData.set('notes', userId, 'todo', ['milk']);
        await store.conversations.recordTurn({
          conversationKey: 'cli:me',
          channel: 'cli',
          userId,
          state: { step: 2 },
          inbound: { idempotencyId: 'cli:1', content: 'hi', sentAt: 1 },
          outbound: [],
        });
      }
      await using reopened = await createStore({ dataDir });
      assert.equal((await reopened.users.upsert({ channel: 'cli', platformUserId: 'me' })).id, userId);
      assert.equal((await reopened.users.get(userId))?.displayName, 'Me');
      assert.deepEqual(await reopened.pluginData.get('notes', userId, 'todo'), ['milk']);
      assert.deepEqual((await reopened.conversations.load('cli:me'))?.state, { step: 2 });
      assert.equal(await reopened.conversations.hasProcessed('cli:1'), true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('store - Postgres nodes starting together agree on schema and blind index key', async () => {
    await using database = await createTestDatabase();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createStore({ databaseUrl: database.url, poolSize: 2 })),
    );
    try {
      const ids = await Promise.all(
        stores.map(
          async (store) => (await store.users.upsert({ channel: 'web', platformUserId: 'same' })).id,
        ),
      );
      assert.equal(new Set(ids).size, 1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});

for (const backend of storeBackends) {
  describe(`store lifecycle (${backend.name})`, () => {
    it('store - ping answers while open; close is idempotent; calls after close reject', async () => {
      const store = await backend.open();
      assert.equal(store.backend, backend.name);
      await store.ping();
      await store.close();
      await store.close();
      await assert.rejects(store.ping());
    });

    const noStatementTimeout = backend.name === 'pglite' && 'PGlite has no statement timeout';

    it(
      'store - a statement running past statementTimeout is cancelled',
      { skip: noStatementTimeout },
      async () => {
        await using store = await backend.open({ statementTimeout: '1s' });
        await assert.rejects(sql`select pg_sleep(5)`.execute(databaseOf(store)), (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.equal((error as Error & { code?: unknown }).code, '57014');
          assert.match(error.message, /canceling statement due to statement timeout/);
          return true;
        });
        await store.ping();
      },
    );

    it(
      'store - a call stuck behind a lock fails after statementTimeout',
      { skip: noStatementTimeout },
      async () => {
        await using store = await backend.open({ statementTimeout: '1s' });
        const userId = (await store.users.upsert({ channel: 'web', platformUserId: 'locked' })).id;
        const turn = (id: string) => ({
          conversationKey: 'web:locked',
          channel: 'web',
          userId,
          state: {},
          inbound: { idempotencyId: id, content: id, sentAt: 1 },
          outbound: [],
        });
        await store.conversations.recordTurn(turn('web:s:m1'));
        await store.transaction(async (tx) => {
          await tx.conversations.recordTurn(turn('web:s:m2'));
          // The transaction holds the conversation row until it commits.
          await assert.rejects(store.conversations.recordTurn(turn('web:s:m3')), /statement timeout/);
        });
        assert.equal(await store.conversations.hasProcessed('web:s:m2'), true);
        assert.equal(await store.conversations.hasProcessed('web:s:m3'), false);
      },
    );

    it(
      'store - an idle connection dropped by the server reaches onBackgroundError',
      { skip: backend.name === 'pglite' && 'PGlite has no connections to drop' },
      async () => {
        await using location = await backend.createLocation();
        const errors: Error[] = [];
        let onReported = () => {};
        const reported = new Promise<void>((resolveReported) => (onReported = resolveReported));
        await using store = await createStore({
          ...location.options,
          poolSize: 1,
          onBackgroundError: (error) => {
            errors.push(error);
            onReported();
          },
        });
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
          databaseOf(store),
        );
        {
          await using killer = await createStore(location.options);
          await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(databaseOf(killer));
        }
        await reported;
        assert.match(errors[0]?.message ?? '', /terminat/);
        await store.ping();
      },
    );
  });
}
