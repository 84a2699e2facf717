import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, sql } from 'kysely';
import type { StoreLocation } from '../test/testkit/index.js';
import { storeBackends } from '../test/testkit/index.js';
import { createStore, plainCodec, StoreMigrationError, type Store } from './index.js';
import type { Database, MigrationContext } from './internal.js';
import {
  appliedMigrations,
  BlindIndex,
  BlindIndexPurpose,
  compileStoreOptions,
  databaseOf,
  FieldSealer,
  fieldAad,
  loadOrCreateBlindIndexKey,
  migrateTo,
  migrateToLatest,
  migrations,
  openDialect,
} from './internal.js';

const TABLES = ['conversations', 'messages', 'plugin_data', 'store_settings', 'turns', 'users'];

const plainMigrationContext: MigrationContext = {
  sealer: new FieldSealer(plainCodec),
  blindIndexKey: (db) => loadOrCreateBlindIndexKey(db, new Date()),
};

/** Opens `location` without a store, migrated only up to `target`, and runs `fn` on it. */
async function atMigration(
  location: StoreLocation,
  target: keyof typeof migrations,
  fn: (db: Kysely<Database>) => Promise<void>,
): Promise<void> {
  const opened = await openDialect(compileStoreOptions(location.options).connection, () => {});
  const db = new Kysely<Database>({ dialect: opened.dialect });
  try {
    await migrateTo(db, plainMigrationContext, target);
    await fn(db);
  } finally {
    await db.destroy();
    await opened.release();
  }
}

/** Rows as migration 0001 wrote them, with clear-text idempotency ids shaped like the gateway's. */
async function writeRowsOf0001(db: Kysely<Database>, generated: number) {
  const blindIndex = new BlindIndex(await loadOrCreateBlindIndexKey(db, new Date()));
  const sealer = new FieldSealer(plainCodec);
  const userId = '00000000-0000-4000-8000-000000000001';
  const conversationId = '00000000-0000-4000-8000-000000000002';
  const conversationKey = 'web:legacy-conversation';
  const session = 'web:LEGACY-SESSION-SECRET';
  await sql`insert into users values (${userId}, 'web',
    ${blindIndex.compute(BlindIndexPurpose.PlatformUser, 'web:legacy')},
    ${await sealer.sealText('legacy', fieldAad('users', 'platform_user_id', userId))},
    null, 'plain', now(), now())`.execute(db);
  await sql`insert into conversations values (${conversationId},
    ${blindIndex.compute(BlindIndexPurpose.ConversationKey, conversationKey)},
    ${await sealer.sealText(conversationKey, fieldAad('conversations', 'conversation_key', conversationId))},
    'web', ${userId}, ${await sealer.sealText('{}', fieldAad('conversations', 'state', conversationId))},
    0, 'plain', now(), now())`.execute(db);
  // Plain codec: a 0x00 version byte before the JSON; enough rows for several backfill batches.
  await sql`insert into messages (id, conversation_id, user_id, direction, idempotency_id, content, codec,
      sent_at, created_at)
    select gen_random_uuid(), ${conversationId}, ${userId},
      case when i % 2 = 1 then 'inbound' else 'outbound' end,
      case when i % 2 = 1 then ${session} || ':m' || i else ${session} || ':m' || (i - 1) || '#0' end,
      '\\x00'::bytea || convert_to('"text ' || i || '"', 'UTF8'), 'plain',
      to_timestamp(i), now()
    from generate_series(1, ${generated}) as i`.execute(db);
  return { conversationKey, session, userId };
}

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
      await migrateToLatest(db, plainMigrationContext);
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

    it('migrations - 0002 seals and blind-indexes the idempotency ids of a 0001 database', async () => {
      await using location = await backend.createLocation();
      const generated = 1_201;
      let legacy!: Awaited<ReturnType<typeof writeRowsOf0001>>;
      await atMigration(location, '0001_initial', async (db) => {
        assert.deepEqual(await appliedMigrations(db), ['0001_initial']);
        legacy = await writeRowsOf0001(db, generated);
      });
      const { conversationKey, session, userId } = legacy;

      for (const reopen of [false, true]) {
        await using store = await createStore(location.options);
        const db = databaseOf(store);
        assert.deepEqual(await appliedMigrations(db), Object.keys(migrations).sort(), `reopen ${reopen}`);

        const { rows: columns } = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
          select column_name, data_type, is_nullable from information_schema.columns
          where table_schema = current_schema() and table_name = 'messages'
            and column_name like 'idempotency%' order by column_name`.execute(db);
        assert.deepEqual(columns, [
          { column_name: 'idempotency_id', data_type: 'bytea', is_nullable: 'NO' },
          { column_name: 'idempotency_index', data_type: 'bytea', is_nullable: 'NO' },
        ]);

        assert.equal(await store.conversations.hasProcessed(`${session}:m1`), true);
        assert.equal(await store.conversations.hasProcessed(`${session}:m${generated}`), true);
        assert.equal(
          await store.conversations.hasProcessed(`${session}:m1#0`),
          false,
          'replies are not inbound',
        );
        assert.equal(await store.conversations.hasProcessed(`${session}:m2`), false);

        const messages = await store.messages.listByConversation(conversationKey, { limit: 3 });
        assert.deepEqual(
          messages.map(({ direction, idempotencyId, content }) => ({ direction, idempotencyId, content })),
          [
            { direction: 'inbound', idempotencyId: `${session}:m1199`, content: 'text 1199' },
            { direction: 'outbound', idempotencyId: `${session}:m1199#0`, content: 'text 1200' },
            { direction: 'inbound', idempotencyId: `${session}:m1201`, content: 'text 1201' },
          ],
        );

        const turn = {
          conversationKey,
          channel: 'web',
          userId,
          state: {},
          inbound: { idempotencyId: `${session}:m1`, content: 'again', sentAt: 1 },
          outbound: [],
        };
        assert.equal(await store.conversations.recordTurn(turn), 'duplicate');
        if (reopen) {
          const fresh = `${session}:after-0002`;
          const next = { ...turn, inbound: { ...turn.inbound, idempotencyId: fresh } };
          assert.equal(await store.conversations.recordTurn(next), 'recorded');
          assert.equal(await store.conversations.hasProcessed(fresh), true);
        }
      }
    });

    it('migrations - 0003 adds fencing records to a 0002 database and links its replies', async () => {
      await using location = await backend.createLocation();
      let legacy!: Awaited<ReturnType<typeof writeRowsOf0001>>;
      await atMigration(location, '0001_initial', async (db) => {
        legacy = await writeRowsOf0001(db, 6);
      });
      await atMigration(location, '0002_idempotency_index', async (db) => {
        assert.deepEqual(await appliedMigrations(db), ['0001_initial', '0002_idempotency_index']);
      });
      const { conversationKey, session, userId } = legacy;

      await using store = await createStore(location.options);
      assert.deepEqual(await appliedMigrations(databaseOf(store)), Object.keys(migrations).sort());
      for (const n of [1, 3, 5]) {
        assert.deepEqual(await store.conversations.repliesTo(`${session}:m${n}`), [
          { id: `${session}:m${n}#0`, content: `text ${n + 1}`, sentAt: (n + 1) * 1_000 },
        ]);
      }

      const turn = {
        conversationKey,
        channel: 'web',
        userId,
        state: {},
        inbound: { idempotencyId: `${session}:m7`, content: 'new', sentAt: 7_000 },
        outbound: [{ id: `${session}:m7#0`, content: 'reply', sentAt: 7_500 }],
        epoch: 1,
        writer: 'node-a',
      };
      assert.equal(await store.conversations.recordTurn(turn), 'recorded');
      assert.deepEqual(await store.conversations.repliesTo(`${session}:m7`), turn.outbound);
      const log = await store.conversations.turnLog(conversationKey);
      assert.deepEqual(
        log.map(({ idempotencyId, epoch, writer }) => ({ idempotencyId, epoch, writer })),
        [
          { idempotencyId: `${session}:m1`, epoch: undefined, writer: undefined },
          { idempotencyId: `${session}:m3`, epoch: undefined, writer: undefined },
          { idempotencyId: `${session}:m5`, epoch: undefined, writer: undefined },
          { idempotencyId: `${session}:m7`, epoch: 1, writer: 'node-a' },
        ],
      );
    });

    it('migrations - 0006 keeps the directions of a 0005 database and still refuses any other', async () => {
      await using location = await backend.createLocation();
      let legacy!: Awaited<ReturnType<typeof writeRowsOf0001>>;
      await atMigration(location, '0001_initial', async (db) => {
        legacy = await writeRowsOf0001(db, 4);
      });
      await atMigration(location, '0005_inline_conversation_state', () => Promise.resolve());

      await using store = await createStore(location.options);
      const db = databaseOf(store);
      const { rows } = await sql<{ direction: string; n: string }>`
        select direction, count(*) as n from messages group by direction order by direction`.execute(db);
      assert.deepEqual(
        rows.map(({ direction, n }) => [direction, Number(n)]),
        [
          ['inbound', 2],
          ['outbound', 2],
        ],
      );
      assert.deepEqual(await store.conversations.repliesTo(`${legacy.session}:m3`), [
        { id: `${legacy.session}:m3#0`, content: 'text 4', sentAt: 4_000 },
      ]);
      await assert.rejects(
        sql`update messages set direction = 'sideways' where direction = 'inbound'`.execute(db),
        /invalid input value for enum message_direction/,
      );
    });

    it('migrations - 0007 records a turn as one row; rows from before it and from parley_record_turn read the same', async () => {
      await using location = await backend.createLocation();
      let legacy!: Awaited<ReturnType<typeof writeRowsOf0001>>;
      await atMigration(location, '0001_initial', async (db) => {
        legacy = await writeRowsOf0001(db, 4);
      });
      const { conversationKey, session, userId } = legacy;

      await using store = await createStore(location.options);
      const db = databaseOf(store);
      const rowCount = async () =>
        Number((await sql<{ n: string }>`select count(*) as n from messages`.execute(db)).rows[0]!.n);
      const replies = [
        { id: `${session}:m5#0`, content: 'a5', sentAt: 5_500 },
        { id: `${session}:m5#1`, content: 'b5', sentAt: 5_600 },
      ];
      const turn = {
        conversationKey,
        channel: 'web',
        userId,
        state: {},
        inbound: { idempotencyId: `${session}:m5`, content: 'q5', sentAt: 5_000 },
        outbound: replies,
      };
      assert.equal(await store.conversations.recordTurn(turn), 'recorded');
      assert.equal(await rowCount(), 5, 'the turn is one row');

      // A node of the previous version, during a rolling deploy, still records through the 0004 function.
      const blindIndex = new BlindIndex(await loadOrCreateBlindIndexKey(db, new Date()));
      const sealer = new FieldSealer(plainCodec);
      const conversationId = '00000000-0000-4000-8000-000000000002';
      const [inboundId, replyId] = [
        '00000000-0000-4000-8000-000000000070',
        '00000000-0000-4000-8000-000000000071',
      ];
      const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
      const oldReplies = JSON.stringify([
        {
          id: replyId,
          index: hex(blindIndex.compute(BlindIndexPurpose.IdempotencyId, `${session}:m7#0`)),
          sealedId: hex(
            await sealer.sealText(`${session}:m7#0`, fieldAad('messages', 'idempotency_id', replyId)),
          ),
          content: hex(await sealer.sealJson('a7', fieldAad('messages', 'content', replyId), 'content')),
          sentAt: new Date(7_500).toISOString(),
        },
      ]);
      const { rows } = await sql<{ result: string }>`select parley_record_turn(
        ${blindIndex.compute(BlindIndexPurpose.ConversationKey, conversationKey)}::bytea, ${conversationId}::uuid,
        null::bytea, 'web', ${userId}::uuid,
        ${await sealer.sealJson({}, fieldAad('conversations', 'state', conversationId), 'state')}::bytea,
        null::bigint, 'old-node', 'plain', now(), ${inboundId}::uuid,
        ${blindIndex.compute(BlindIndexPurpose.IdempotencyId, `${session}:m7`)}::bytea,
        ${await sealer.sealText(`${session}:m7`, fieldAad('messages', 'idempotency_id', inboundId))}::bytea,
        ${await sealer.sealJson('q7', fieldAad('messages', 'content', inboundId), 'content')}::bytea,
        ${new Date(7_000).toISOString()}::timestamptz, ${oldReplies}::jsonb) as result`.execute(db);
      assert.equal(rows[0]?.result, 'recorded');
      assert.equal(await rowCount(), 7);

      const messages = await store.messages.listByConversation(conversationKey);
      assert.deepEqual(
        messages.map(({ direction, idempotencyId, content }) => [direction, idempotencyId, content]),
        [
          ['inbound', `${session}:m1`, 'text 1'],
          ['outbound', `${session}:m1#0`, 'text 2'],
          ['inbound', `${session}:m3`, 'text 3'],
          ['outbound', `${session}:m3#0`, 'text 4'],
          ['inbound', `${session}:m5`, 'q5'],
          ['outbound', `${session}:m5#0`, 'a5'],
          ['outbound', `${session}:m5#1`, 'b5'],
          ['inbound', `${session}:m7`, 'q7'],
          ['outbound', `${session}:m7#0`, 'a7'],
        ],
      );
      assert.equal(new Set(messages.map((message) => message.id)).size, messages.length, 'ids are unique');
      assert.deepEqual(
        (await store.messages.listByConversation(conversationKey, { limit: 3 })).map((m) => m.content),
        ['b5', 'q7', 'a7'],
      );
      assert.deepEqual(await store.conversations.repliesTo(`${session}:m3`), [
        { id: `${session}:m3#0`, content: 'text 4', sentAt: 4_000 },
      ]);
      assert.deepEqual(await store.conversations.repliesTo(`${session}:m5`), replies);
      assert.deepEqual(await store.conversations.repliesTo(`${session}:m7`), [
        { id: `${session}:m7#0`, content: 'a7', sentAt: 7_500 },
      ]);
    });

    it('migrations - 0009: a store made before it records turns the old way until use-turn-journal, and reads both kinds as one', async () => {
      await using location = await backend.createLocation();
      let legacy!: Awaited<ReturnType<typeof writeRowsOf0001>>;
      await atMigration(location, '0001_initial', async (db) => {
        legacy = await writeRowsOf0001(db, 4);
      });
      const { conversationKey, session, userId } = legacy;
      const turn = (n: number) => ({
        conversationKey,
        channel: 'web',
        userId,
        state: { n },
        inbound: { idempotencyId: `${session}:m${n}`, content: `q${n}`, sentAt: n * 1000 },
        outbound: [{ id: `${session}:m${n}#0`, content: `a${n}`, sentAt: n * 1000 + 500 }],
      });
      const count = async (store: Store, table: 'messages' | 'turns') =>
        Number(
          (await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(databaseOf(store)))
            .rows[0]!.n,
        );
      {
        await using store = await createStore(location.options);
        assert.equal(await store.conversations.recordTurn(turn(5)), 'recorded');
        assert.deepEqual([await count(store, 'messages'), await count(store, 'turns')], [5, 0]);
        assert.equal(await store.useTurnJournal(), true);
        assert.equal(await store.useTurnJournal(), false);
        // A running node takes it up at its next start.
        assert.equal(await store.conversations.recordTurn(turn(6)), 'recorded');
        assert.deepEqual([await count(store, 'messages'), await count(store, 'turns')], [6, 0]);
      }
      {
        await using store = await createStore(location.options);
        assert.equal(await store.conversations.recordTurn(turn(7)), 'recorded');
        assert.deepEqual([await count(store, 'messages'), await count(store, 'turns')], [6, 1]);
        assert.deepEqual((await store.conversations.load(conversationKey))?.state, { n: 7 });
        // An id recorded the old way is a duplicate for the journal too, whichever way the turn goes in.
        assert.equal(await store.conversations.recordTurn(turn(5)), 'duplicate');
        assert.equal(await store.conversations.recordTurn(turn(7)), 'duplicate');
        for (const n of [1, 5, 6, 7]) {
          assert.equal(await store.conversations.hasProcessed(`${session}:m${n}`), true, `m${n}`);
          assert.equal(
            (await store.conversations.processedIds(conversationKey)).mayHave(`${session}:m${n}`),
            true,
          );
        }
        assert.equal(await store.conversations.hasProcessed(`${session}:m9`), false);
        assert.deepEqual(
          (await store.conversations.turnLog(conversationKey)).map((entry) => entry.idempotencyId),
          [1, 3, 5, 6, 7].map((n) => `${session}:m${n}`),
        );
        const messages = await store.messages.listByConversation(conversationKey);
        assert.deepEqual(
          messages.map(({ direction, content }) => `${direction} ${String(content)}`),
          [
            'inbound text 1',
            'outbound text 2',
            'inbound text 3',
            'outbound text 4',
            ...[5, 6, 7].flatMap((n) => [`inbound q${n}`, `outbound a${n}`]),
          ],
        );
        assert.deepEqual(
          (await store.messages.listByConversation(conversationKey, { limit: 3 })).map((m) => m.content),
          ['a6', 'q7', 'a7'],
        );
        assert.deepEqual(await store.conversations.repliesTo(`${session}:m7`), turn(7).outbound);
        assert.deepEqual(await store.conversations.repliesTo(`${session}:m6`), turn(6).outbound);
        // As a node that has not restarted since: a turn recorded the old way after a journal turn.
        await sql`delete from store_settings where name = 'turn_journal'`.execute(databaseOf(store));
      }
      {
        await using store = await createStore(location.options);
        assert.equal(await store.conversations.recordTurn(turn(8)), 'recorded');
        assert.deepEqual([await count(store, 'messages'), await count(store, 'turns')], [7, 1]);
        assert.deepEqual((await store.conversations.load(conversationKey))?.state, { n: 8 });
      }
      // A store made now records in the journal from the start.
      await using fresh = await backend.open();
      assert.equal(await fresh.useTurnJournal(), false);
    });

    it('migrations - 0002 refuses rows sealed by another codec and leaves the database at 0001', async () => {
      await using location = await backend.createLocation();
      await atMigration(location, '0001_initial', async (db) => {
        await writeRowsOf0001(db, 2);
        await sql`update messages set codec = 'other-codec'`.execute(db);
      });
      await assert.rejects(createStore(location.options), (error: unknown) => {
        assert.ok(error instanceof StoreMigrationError);
        assert.equal(error.migration, '0002_idempotency_index');
        assert.match(error.message, /sealed with codec 'other-codec'.*open it with codec 'other-codec'/);
        return true;
      });
      await atMigration(location, '0001_initial', async (db) => {
        assert.deepEqual(await appliedMigrations(db), ['0001_initial']);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from messages
          where idempotency_id like 'web:%'`.execute(db);
        assert.equal(rows[0]?.n, 2, 'clear-text ids untouched by the rolled-back migration');
      });
    });
  });
}
