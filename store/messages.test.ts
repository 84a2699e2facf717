import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { storeBackends } from '../test/testkit/index.js';
import type { Store } from './index.js';
import { InvalidValueError } from './index.js';

for (const backend of storeBackends) {
  describe(`store messages (${backend.name})`, () => {
    let store: Store;
    let userId: string;
    before(async () => {
      store = await backend.open();
      userId = (await store.users.upsert({ channel: 'web', platformUserId: 'messages' })).id;
    });
    after(() => store.close());

    /** Records `turns` turns of one inbound and two replies each; returns the conversation key. */
    async function conversationWith(turns: number): Promise<string> {
      const conversationKey = `web:${randomUUID()}`;
      for (let i = 0; i < turns; i++) {
        await store.conversations.recordTurn({
          conversationKey,
          channel: 'web',
          userId,
          state: { turn: i },
          inbound: { idempotencyId: `in-${i}-${randomUUID()}`, content: `q${i}`, sentAt: 1_000 * i },
          outbound: [
            { id: `out-${i}-a-${randomUUID()}`, content: `a${i}`, sentAt: 1_000 * i + 1 },
            { id: `out-${i}-b-${randomUUID()}`, content: `b${i}`, sentAt: 1_000 * i + 2 },
          ],
        });
      }
      return conversationKey;
    }

    it('messages - listByConversation returns every message oldest first', async () => {
      const key = await conversationWith(3);
      const messages = await store.messages.listByConversation(key);
      assert.deepEqual(
        messages.map((message) => message.content),
        ['q0', 'a0', 'b0', 'q1', 'a1', 'b1', 'q2', 'a2', 'b2'],
      );
      assert.deepEqual(
        messages.map((message) => message.direction),
        [
          'inbound',
          'outbound',
          'outbound',
          'inbound',
          'outbound',
          'outbound',
          'inbound',
          'outbound',
          'outbound',
        ],
      );
      assert.equal(messages[3]?.sentAt, 1_000);
      assert.ok(messages[0]?.createdAt instanceof Date);
    });

    it('messages - limit keeps the most recent messages, still oldest first', async () => {
      const key = await conversationWith(3);
      const messages = await store.messages.listByConversation(key, { limit: 4 });
      assert.deepEqual(
        messages.map((message) => message.content),
        ['b1', 'q2', 'a2', 'b2'],
      );
    });

    it("messages - only the conversation's own messages are listed", async () => {
      const one = await conversationWith(1);
      const two = await conversationWith(2);
      assert.equal((await store.messages.listByConversation(one)).length, 3);
      assert.equal((await store.messages.listByConversation(two)).length, 6);
      assert.deepEqual(await store.messages.listByConversation(`web:${randomUUID()}`), []);
    });

    it('messages - a limit that is not a positive integer is rejected', async () => {
      await assert.rejects(store.messages.listByConversation('any', { limit: 0 }), InvalidValueError);
      await assert.rejects(store.messages.listByConversation('any', { limit: 1.5 }), InvalidValueError);
    });
  });
}
