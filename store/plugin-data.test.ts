import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { storeBackends } from '../test/testkit/index.js';
import type { Store } from './index.js';
import { UnknownUserError } from './index.js';

for (const backend of storeBackends) {
  describe(`store plugin data (${backend.name})`, () => {
    let store: Store;
    let ann: string;
    let bob: string;
    before(async () => {
      store = await backend.open();
      ann = (await store.users.upsert({ channel: 'web', platformUserId: 'ann' })).id;
      bob = (await store.users.upsert({ channel: 'web', platformUserId: 'bob' })).id;
    });
    after(() => store.close());

    it('plugin data - set then get returns the JSON value; set again replaces it', async () => {
      const plugin = `p-${randomUUID()}`;
      assert.equal(await store.pluginData.get(plugin, ann, 'city'), undefined);
      await store.pluginData.set(plugin, ann, 'city', { name: 'Lisbon', lat: 38.7 });
      assert.deepEqual(await store.pluginData.get(plugin, ann, 'city'), { name: 'Lisbon', lat: 38.7 });
      await store.pluginData.set(plugin, ann, 'city', null);
      assert.equal(await store.pluginData.get(plugin, ann, 'city'), null);
    });

    it('plugin data - delete removes the key and reports whether it existed', async () => {
      const plugin = `p-${randomUUID()}`;
      await store.pluginData.set(plugin, ann, 'k', 1);
      assert.equal(await store.pluginData.delete(plugin, ann, 'k'), true);
      assert.equal(await store.pluginData.get(plugin, ann, 'k'), undefined);
      assert.equal(await store.pluginData.delete(plugin, ann, 'k'), false);
    });

    it('plugin data - each user and each plugin has its own namespace', async () => {
      const plugin = `p-${randomUUID()}`;
      const other = `p-${randomUUID()}`;
      await store.pluginData.set(plugin, ann, 'k', 'ann');
      await store.pluginData.set(plugin, bob, 'k', 'bob');
      await store.pluginData.set(other, ann, 'k', 'other plugin');
      assert.equal(await store.pluginData.get(plugin, ann, 'k'), 'ann');
      assert.equal(await store.pluginData.get(plugin, bob, 'k'), 'bob');
      assert.equal(await store.pluginData.get(other, ann, 'k'), 'other plugin');
      assert.equal(await store.pluginData.delete(plugin, bob, 'k'), true);
      assert.equal(await store.pluginData.get(plugin, ann, 'k'), 'ann');
      assert.deepEqual(await store.pluginData.list(plugin, ann), [{ key: 'k', value: 'ann' }]);
      assert.deepEqual(await store.pluginData.list(plugin, bob), []);
    });

    it('plugin data - list orders by key in byte order and filters by prefix', async () => {
      const plugin = `p-${randomUUID()}`;
      for (const key of ['todo/2', 'Todo/1', 'todo/10', 'todo%', 'note', 'todo/1']) {
        await store.pluginData.set(plugin, ann, key, key.length);
      }
      assert.deepEqual(
        (await store.pluginData.list(plugin, ann)).map((entry) => entry.key),
        ['Todo/1', 'note', 'todo%', 'todo/1', 'todo/10', 'todo/2'],
      );
      assert.deepEqual(await store.pluginData.list(plugin, ann, 'todo/'), [
        { key: 'todo/1', value: 6 },
        { key: 'todo/10', value: 7 },
        { key: 'todo/2', value: 6 },
      ]);
      assert.deepEqual(
        (await store.pluginData.list(plugin, ann, 'todo%')).map((entry) => entry.key),
        ['todo%'],
        'prefix is matched literally, not as a LIKE pattern',
      );
    });

    it('plugin data - set for an unknown user throws UnknownUserError', async () => {
      await assert.rejects(store.pluginData.set('p', randomUUID(), 'k', 1), UnknownUserError);
    });
  });
}
