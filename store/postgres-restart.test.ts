import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresBinDir, startPostgresServer } from '../test/testkit/index.js';
import { createStore } from './index.js';

describe(
  'store - Postgres going away and coming back',
  { skip: !postgresBinDir() && 'no PostgreSQL server binaries' },
  () => {
    it('postgres restart - a session cut in the middle of a transaction fails that transaction, not the process; the store works once the server is back', async () => {
      await using server = await startPostgresServer();
      const errors: Error[] = [];
      await using store = Object.assign(
        await createStore({
          databaseUrl: await server.createDatabase('restart'),
          onBackgroundError: (error) => void errors.push(error),
        }),
        {
          [Symbol.asyncDispose]() {
            return store.close();
          },
        },
      );
      const user = await store.users.upsert({ channel: 'web', platformUserId: 'restart' });

      // A transaction holding its connection between two statements when the server shuts down: the
      // connection's error arrives while no query of it is running (pg emits it on the client).
      const cut = store.transaction(async (tx) => {
        await tx.pluginData.set('notes', user.id, 'before', true);
        await sleep(1500);
        await tx.pluginData.set('notes', user.id, 'after', true);
      });
      await sleep(300);
      await server.stop();
      await assert.rejects(cut);
      assert.ok(errors.length >= 1, 'the dropped session is reported as a background error');
      await assert.rejects(
        store.pluginData.get('notes', user.id, 'before'),
        'no server: a clear failure, not a hang',
      );

      await server.start();
      assert.equal(
        await store.pluginData.get('notes', user.id, 'before'),
        undefined,
        'the cut transaction left nothing',
      );
      await store.pluginData.set('notes', user.id, 'again', 1);
      assert.equal(await store.pluginData.get('notes', user.id, 'again'), 1);
    });
  },
);
