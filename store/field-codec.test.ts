import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { storeBackends } from '../test/testkit/index.js';
import type { FieldCodec, Store } from './index.js';
import { createStore, FieldDecodeError, PLAIN_CODEC_VERSION, plainCodec } from './index.js';
import type { Database } from './internal.js';
import { databaseOf } from './internal.js';

/** Sensitive columns: each must be bytea holding codec output. */
const SENSITIVE_COLUMNS = [
  'users.platform_user_id',
  'users.display_name',
  'conversations.conversation_key',
  'conversations.state',
  'messages.idempotency_id',
  'messages.content',
  'messages.replies',
  'turns.body',
  'plugin_data.value',
];
const BLIND_INDEX_COLUMNS = [
  'users.platform_user_index',
  'conversations.conversation_key_index',
  'messages.idempotency_index',
  'turns.idempotency_index',
];
const TABLES = ['users', 'conversations', 'messages', 'turns', 'plugin_data'];
/** The tables `writeSensitiveData` writes: a store made now records turns in the journal (0009). */
const WRITTEN_TABLES = TABLES.filter((table) => table !== 'messages');
const MARKER = 'SECRET-MARKER';

/** XORs every byte, and records the associated data it was given. */
function xorCodec(): FieldCodec & { sealedAad: Set<string>; openedAad: string[] } {
  const sealedAad = new Set<string>();
  const openedAad: string[] = [];
  const xor = (bytes: Uint8Array) => Uint8Array.from(bytes, (byte) => byte ^ 0xa5);
  return {
    id: 'xor-test',
    sealedAad,
    openedAad,
    seal(plaintext, aad) {
      sealedAad.add(aad);
      return xor(plaintext);
    },
    open(sealed, aad) {
      openedAad.push(aad);
      return xor(sealed);
    },
  };
}

/** Writes one of everything, with {@link MARKER} in every sensitive value. */
async function writeSensitiveData(store: Store) {
  const user = await store.users.upsert({
    channel: 'web',
    platformUserId: `${MARKER}-platform-id`,
    displayName: `${MARKER}-name`,
  });
  const conversationKey = `${MARKER}-conversation`;
  const inboundId = `web:${MARKER}-session-${randomUUID()}:m1`;
  await store.conversations.recordTurn({
    conversationKey,
    channel: 'web',
    userId: user.id,
    state: { note: `${MARKER}-state` },
    // Shaped like the web gateway's ids, which embed the session id (a bearer credential).
    inbound: { idempotencyId: inboundId, content: { text: `${MARKER}-in` }, sentAt: 1 },
    outbound: [{ id: `${inboundId}#0`, content: { text: `${MARKER}-out` }, sentAt: 2 }],
  });
  await store.pluginData.set('notes', user.id, 'k', `${MARKER}-value`);
  return { user, conversationKey, inboundId };
}

async function columnTypes(db: Kysely<Database>) {
  const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema() and table_name = any(${TABLES})`.execute(db);
  return rows;
}

const byteaHoldsMarker = (db: Kysely<Database>, table: string, column: string) =>
  sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}
    where position(convert_to(${MARKER}, 'UTF8') in ${sql.ref(column)}) > 0`.execute(db);

for (const backend of storeBackends) {
  describe(`store field codec (${backend.name})`, () => {
    it('field codec - sensitive and blind index columns are bytea', async () => {
      await using store = await backend.open();
      const types = new Map(
        (await columnTypes(databaseOf(store))).map((c) => [`${c.table_name}.${c.column_name}`, c.data_type]),
      );
      for (const column of [...SENSITIVE_COLUMNS, ...BLIND_INDEX_COLUMNS]) {
        assert.equal(types.get(column), 'bytea', column);
      }
    });

    it('field codec - no text column holds a sensitive value', async () => {
      await using store = await backend.open();
      await writeSensitiveData(store);
      const db = databaseOf(store);
      const textColumns = (await columnTypes(db)).filter((c) => c.data_type === 'text');
      assert.ok(textColumns.length > 0);
      for (const { table_name, column_name } of textColumns) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)}
          where ${sql.ref(column_name)} like ${`%${MARKER}%`}`.execute(db);
        assert.equal(rows[0]?.n, 0, `${table_name}.${column_name} holds plaintext`);
      }
    });

    it('field codec - the plain codec stores a version byte before the plaintext', async () => {
      await using store = await backend.open();
      const { user } = await writeSensitiveData(store);
      const row = await databaseOf(store)
        .selectFrom('users')
        .select(['platform_user_id', 'codec'])
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.codec, plainCodec.id);
      assert.equal(row.platform_user_id[0], PLAIN_CODEC_VERSION);
      assert.equal(new TextDecoder().decode(row.platform_user_id.subarray(1)), `${MARKER}-platform-id`);
    });

    it('field codec - a custom codec seals every sensitive column and reads decode through it', async () => {
      const codec = xorCodec();
      await using store = await backend.open({ codec });
      const { user, conversationKey, inboundId } = await writeSensitiveData(store);
      const db = databaseOf(store);

      for (const column of SENSITIVE_COLUMNS) {
        const [table = '', name = ''] = column.split('.');
        const { rows } = await byteaHoldsMarker(db, table, name);
        assert.equal(rows[0]?.n, 0, `${column} holds plaintext bytes`);
      }
      for (const table of WRITTEN_TABLES) {
        const codecs = await db
          .selectFrom(table as 'users')
          .select('codec')
          .distinct()
          .execute();
        assert.deepEqual(codecs, [{ codec: 'xor-test' }], `${table}.codec`);
      }

      const read = await store.users.get(user.id);
      assert.equal(read?.platformUserId, `${MARKER}-platform-id`);
      assert.equal(read?.displayName, `${MARKER}-name`);
      const conversation = await store.conversations.load(conversationKey);
      assert.equal(conversation?.key, conversationKey);
      assert.deepEqual(conversation?.state, { note: `${MARKER}-state` });
      assert.deepEqual(
        (await store.messages.listByConversation(conversationKey)).map((m) => [m.idempotencyId, m.content]),
        [
          [inboundId, { text: `${MARKER}-in` }],
          [`${inboundId}#0`, { text: `${MARKER}-out` }],
        ],
      );
      assert.equal(await store.conversations.hasProcessed(inboundId), true);
      assert.equal(await store.pluginData.get('notes', user.id, 'k'), `${MARKER}-value`);

      assert.ok(codec.openedAad.length >= 6);
      for (const aad of codec.openedAad) assert.ok(codec.sealedAad.has(aad), `opened ${aad} was sealed`);
      assert.ok(codec.sealedAad.has(`users.platform_user_id:${user.id}`));
      assert.ok(codec.sealedAad.has(`conversations.state:${conversation?.id}`));
      assert.ok([...codec.sealedAad].some((aad) => aad.startsWith('turns.body:')));
      assert.ok(codec.sealedAad.has(`plugin_data.value:${JSON.stringify(['notes', user.id, 'k'])}`));
    });

    it('field codec - rows sealed by another codec fail with FieldDecodeError', async () => {
      await using location = await backend.createLocation();
      let userId: string;
      {
        await using store = await createStore({ ...location.options, codec: xorCodec() });
        userId = (await writeSensitiveData(store)).user.id;
      }
      await using plain = await createStore(location.options);
      await assert.rejects(plain.users.get(userId), (error: unknown) => {
        assert.ok(error instanceof FieldDecodeError);
        assert.equal(error.aad, `users.platform_user_id:${userId}`);
        assert.equal(error.codecId, 'plain');
        assert.doesNotMatch(error.message, new RegExp(MARKER));
        return true;
      });
    });
  });
}
