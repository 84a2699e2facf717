import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { storeBackends } from '../test/testkit/index.js';
import type { Store } from './index.js';
import { BlindIndex, BlindIndexPurpose, databaseOf } from './internal.js';

const blindIndexKey = randomBytes(32);

for (const backend of storeBackends) {
  describe(`store users (${backend.name})`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open({ blindIndexKey });
    });
    after(() => store.close());

    it('users - upsert returns the same id for the same platform user', async () => {
      const platformUserId = randomUUID();
      const first = await store.users.upsert({ channel: 'telegram', platformUserId, displayName: 'Ann' });
      const second = await store.users.upsert({ channel: 'telegram', platformUserId });
      assert.equal(second.id, first.id);
      assert.equal(second.displayName, 'Ann', 'omitted display name keeps the stored one');
      assert.equal(second.platformUserId, platformUserId);
      assert.deepEqual(await store.users.get(first.id), second);
    });

    it('users - the same platform id on another channel is another user', async () => {
      const platformUserId = randomUUID();
      const telegram = await store.users.upsert({ channel: 'telegram', platformUserId });
      const web = await store.users.upsert({ channel: 'web', platformUserId });
      assert.notEqual(web.id, telegram.id);
    });

    it('users - upsert updates a changed display name', async () => {
      const platformUserId = randomUUID();
      const { id } = await store.users.upsert({ channel: 'web', platformUserId, displayName: 'Old' });
      const renamed = await store.users.upsert({ channel: 'web', platformUserId, displayName: 'New' });
      assert.equal(renamed.id, id);
      assert.equal((await store.users.get(id))?.displayName, 'New');
    });

    it('users - concurrent upserts of a new user agree on one id', async () => {
      const platformUserId = randomUUID();
      const users = await Promise.all(
        Array.from({ length: 8 }, () => store.users.upsert({ channel: 'web', platformUserId })),
      );
      assert.equal(new Set(users.map((user) => user.id)).size, 1);
    });

    it('users - lookup goes through the HMAC blind index of channel:platformUserId', async () => {
      const platformUserId = randomUUID();
      const user = await store.users.upsert({ channel: 'whatsapp', platformUserId });
      const row = await databaseOf(store)
        .selectFrom('users')
        .select('platform_user_index')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      const expected = new BlindIndex(blindIndexKey).compute(
        BlindIndexPurpose.PlatformUser,
        `whatsapp:${platformUserId}`,
      );
      assert.deepEqual(Uint8Array.from(row.platform_user_index), Uint8Array.from(expected));
      assert.equal((await store.users.find({ channel: 'whatsapp', platformUserId }))?.id, user.id);
      assert.equal(await store.users.find({ channel: 'web', platformUserId }), undefined);
    });

    it('users - get returns undefined for unknown and malformed ids', async () => {
      assert.equal(await store.users.get(randomUUID()), undefined);
      assert.equal(await store.users.get('not-a-uuid'), undefined);
    });

    it('users - forget deletes the user with their plugin data, messages and conversations', async () => {
      const user = await store.users.upsert({ channel: 'web', platformUserId: randomUUID() });
      const other = await store.users.upsert({ channel: 'web', platformUserId: randomUUID() });
      const conversationKey = `web:${randomUUID()}`;
      await store.conversations.recordTurn({
        conversationKey,
        channel: 'web',
        userId: user.id,
        state: {},
        inbound: { idempotencyId: randomUUID(), content: 'hi', sentAt: Date.now() },
        outbound: [{ id: randomUUID(), content: 'hello', sentAt: Date.now() }],
      });
      await store.pluginData.set('notes', user.id, 'a', 1);
      await store.pluginData.set('notes', other.id, 'a', 2);

      assert.equal(await store.users.forget(user.id), true);
      assert.equal(await store.users.get(user.id), undefined);
      assert.equal(await store.conversations.load(conversationKey), undefined);
      assert.deepEqual(await store.messages.listByConversation(conversationKey), []);
      assert.equal(await store.pluginData.get('notes', user.id, 'a'), undefined);
      assert.equal(await store.pluginData.get('notes', other.id, 'a'), 2, 'other users keep their data');
      const leftovers = await databaseOf(store)
        .selectFrom('messages')
        .select('id')
        .where('user_id', '=', user.id)
        .execute();
      assert.deepEqual(leftovers, []);
      assert.equal(await store.users.forget(user.id), false);
    });
  });
}
