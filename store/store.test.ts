import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { createTestDatabase, storeBackends } from '../test/testkit/index.js';
import {
  createStore,
  StoreConnectionError,
  StoreDataDirError,
  StoreErrorCode,
  StoreOptionsError,
} from './index.js';
import { compileStoreOptions } from './internal.js';

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
    });
    const custom = compileStoreOptions({
      databaseUrl: 'postgresql://h/db',
      poolSize: 3,
      connectTimeout: '1.5s',
    });
    assert.deepEqual(custom.connection, {
      type: 'postgres',
      url: 'postgresql://h/db',
      address: 'h:5432/db',
      poolSize: 3,
      connectTimeoutMs: 1_500,
    });
  });

  it('store options - invalid values are reported together', () => {
    assert.throws(
      () => compileStoreOptions({ poolSize: 0, blindIndexKey: new Uint8Array(8), connectTimeout: 'soon' }),
      (error: unknown) => {
        assert.ok(error instanceof StoreOptionsError);
        assert.equal(error.code, StoreErrorCode.InvalidOptions);
        assert.equal(error.issues.length, 3);
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
  });
}
