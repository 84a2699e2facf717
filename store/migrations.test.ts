import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { storeBackends } from '../test/testkit/index.js';
import { createStore } from './index.js';
import { appliedMigrations, databaseOf, migrateToLatest, migrations } from './internal.js';

const TABLES = ['conversations', 'messages', 'plugin_data', 'store_settings', 'users'];

for (const backend of storeBackends) {
  describe(`store migrations (${backend.name})`, () => {
    it('migrations - apply every migration on a fresh database', async () => {
      await using store = await backend.open();
      const db = databaseOf(store);
      assert.deepEqual(await appliedMigrations(db), Object.keys(migrations).sort());
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = current_schema() and table_name = any(${TABLES})
        order by table_name`.execute(db);
      assert.deepEqual(
        rows.map((row) => row.table_name),
        TABLES,
      );
    });

    it('migrations - running them again changes nothing', async () => {
      await using store = await backend.open();
      const db = databaseOf(store);
      await migrateToLatest(db);
      assert.deepEqual(await appliedMigrations(db), Object.keys(migrations).sort());
    });

    it('migrations - re-opening an existing database keeps schema and data', async () => {
      await using location = await backend.createLocation();
      let userId: string;
      {
        await using first = await createStore(location.options);
        userId = (await first.users.upsert({ channel: 'web', platformUserId: 'reopen' })).id;
      }

      await using second = await createStore(location.options);
      assert.deepEqual(await appliedMigrations(databaseOf(second)), Object.keys(migrations).sort());
      const again = await second.users.upsert({ channel: 'web', platformUserId: 'reopen' });
      assert.equal(again.id, userId, 'blind index key and row survived the re-open');
    });
  });
}
