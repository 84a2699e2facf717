import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { storeBackends } from '../test/testkit/index.js';
import type { Store, Turn } from './index.js';
import { InvalidValueError, StaleEpochError, UnknownUserError } from './index.js';
import { databaseOf, type Database } from './internal.js';

function turnFor(userId: string, overrides: Partial<Turn> = {}): Turn {
  return {
    conversationKey: `web:${randomUUID()}`,
    channel: 'web',
    userId,
    state: { step: 'greeted' },
    inbound: { idempotencyId: `web:${randomUUID()}`, content: { text: 'hi' }, sentAt: 1_700_000_000_000 },
    outbound: [{ id: `out:${randomUUID()}`, content: { text: 'hello' }, sentAt: 1_700_000_000_500 }],
    ...overrides,
  };
}

/** The turn's next message in the same conversation. */
function nextTurn(turn: Turn, overrides: Partial<Turn> = {}): Turn {
  return turnFor(turn.userId, { conversationKey: turn.conversationKey, ...overrides });
}

/** Sequential and index scans of `table` so far (Postgres statistics, flushed first). */
/** Scans of `table` so far: sequential, by index, and the rows its index scans fetched. */
async function tableScans(
  db: Kysely<Database>,
  table: string,
): Promise<{ seq: number; idx: number; fetched: number }> {
  await sql`select pg_stat_force_next_flush()`.execute(db);
  const { rows } = await sql<{ seq: string; idx: string; fetched: string }>`
    select seq_scan as seq, idx_scan as idx, idx_tup_fetch as fetched
      from pg_stat_user_tables where relname = ${table}
  `.execute(db);
  return { seq: Number(rows[0]!.seq), idx: Number(rows[0]!.idx), fetched: Number(rows[0]!.fetched) };
}

for (const backend of storeBackends) {
  describe(`store conversations (${backend.name})`, () => {
    let store: Store;
    let userId: string;
    before(async () => {
      store = await backend.open();
      userId = (await store.users.upsert({ channel: 'web', platformUserId: 'conversations' })).id;
    });
    after(() => store.close());

    const countMessages = async () =>
      Number(
        (
          await databaseOf(store)
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('conversations - a state of a few KB stays in its row, not in the TOAST table (migration 0005)', async () => {
      const db = databaseOf(store);
      const { rows } = await sql<{ toast: string }>`
        select reltoastrelid::regclass::text as toast from pg_class where oid = 'conversations'::regclass
      `.execute(db);
      const toastRows = async () =>
        Number(
          (await sql<{ n: string }>`select count(*) as n from ${sql.raw(rows[0]!.toast)}`.execute(db))
            .rows[0]!.n,
        );
      const before = await toastRows();
      // A state of ~3 KB (here 64 ids, as states kept before), over the 2 KB where TOAST starts.
      const state = { recent: Array.from({ length: 64 }, () => `web:${randomUUID()}`) };
      const first = turnFor(userId, { state });
      assert.equal(await store.conversations.recordTurn(first), 'recorded');
      assert.equal(await store.conversations.recordTurn(nextTurn(first, { state })), 'recorded');
      assert.equal(await toastRows(), before);
      assert.deepEqual((await store.conversations.load(first.conversationKey))?.state, state);
    });

    it('conversations - on Postgres, turns are recorded by a statement prepared once per connection', async (t) => {
      if (backend.name !== 'postgres') return t.skip('PGlite runs statements as they come');
      // One connection, so the statement and the look at the session's prepared statements meet.
      await using single = await backend.open({ poolSize: 1 });
      const user = await single.users.upsert({ channel: 'web', platformUserId: 'prepared' });
      const first = turnFor(user.id);
      assert.equal(await single.conversations.recordTurn(first), 'recorded');
      assert.equal(await single.conversations.recordTurn(nextTurn(first)), 'recorded');
      const { rows } = await sql<{ name: string }>`
        select name from pg_prepared_statements where statement like '%parley_append_turns%'
      `.execute(databaseOf(single));
      // The second turn reused what the first prepared.
      assert.equal(rows.length, 1);
      assert.match(rows[0]!.name, /^parley_\d+$/);
      assert.deepEqual((await single.conversations.load(first.conversationKey))?.state, { step: 'greeted' });
    });

    it('conversations - on Postgres, the duplicate check probes the index, also when planned on a new table (migrations 0008, 0009)', async (t) => {
      if (backend.name !== 'postgres') return t.skip('PGlite plans statements as they come');
      // One connection: the check's plan is made once on it, while the table is nearly empty.
      await using single = await backend.open({ poolSize: 1 });
      const db = databaseOf(single);
      const user = await single.users.upsert({ channel: 'web', platformUserId: 'lookup' });
      const first = turnFor(user.id);
      assert.equal(await single.conversations.recordTurn(first), 'recorded');
      // Six checks: a prepared statement's generic plan is chosen from the sixth run on.
      for (let i = 0; i < 6; i++) {
        assert.equal(await single.conversations.hasProcessed(first.inbound.idempotencyId), true);
      }
      const turns = Array.from({ length: 300 }, () => turnFor(user.id));
      for (const turn of turns) await single.conversations.recordTurn(turn);
      const scans = () => tableScans(db, 'turns');
      const before = await scans();
      const checked = [turns[7]!.inbound.idempotencyId, 'web:never-sent', turns[250]!.inbound.idempotencyId];
      assert.deepEqual(await Promise.all(checked.map((id) => single.conversations.hasProcessed(id))), [
        true,
        false,
        true,
      ]);
      const after = await scans();
      assert.equal(after.seq - before.seq, 0, 'the check read the whole table');
      assert.ok(after.idx > before.idx);
    });

    it('conversations - on Postgres, a journal turn finds its conversation by index, also when planned on a new table (migrations 0009, 0010)', async (t) => {
      if (backend.name !== 'postgres') return t.skip('PGlite plans statements as they come');
      await using single = await backend.open({ poolSize: 1 });
      const db = databaseOf(single);
      const user = await single.users.upsert({ channel: 'web', platformUserId: 'append' });
      // Seven turns of one conversation: six appends plan the statement while the tables are nearly empty.
      const first = turnFor(user.id);
      for (const turn of [first, ...Array.from({ length: 6 }, () => nextTurn(first))]) {
        assert.equal(await single.conversations.recordTurn(turn), 'recorded');
      }
      const others = Array.from({ length: 300 }, () => turnFor(user.id));
      for (const turn of others) await single.conversations.recordTurn(turn);
      const before = await tableScans(db, 'conversations');
      for (const turn of [others[7]!, others[250]!, first]) {
        assert.equal(await single.conversations.recordTurn(nextTurn(turn)), 'recorded');
      }
      const after = await tableScans(db, 'conversations');
      assert.equal(after.seq - before.seq, 0, 'an append read the whole table');
      assert.ok(after.idx > before.idx);
      // Probes, a few rows each append (its fence, its foreign key), not the table's 300 rows read whole
      // through an index for a hash join.
      assert.ok(after.fetched - before.fetched <= 12, `${after.fetched - before.fetched} rows fetched`);
    });

    it('conversations - load returns undefined before the first turn', async () => {
      assert.equal(await store.conversations.load(`web:${randomUUID()}`), undefined);
    });

    it('conversations - recordTurn stores the state and the messages', async () => {
      const turn = turnFor(userId);
      assert.equal(await store.conversations.recordTurn(turn), 'recorded');

      const conversation = await store.conversations.load(turn.conversationKey);
      assert.ok(conversation);
      assert.equal(conversation.key, turn.conversationKey);
      assert.equal(conversation.channel, 'web');
      assert.equal(conversation.userId, userId);
      assert.deepEqual(conversation.state, { step: 'greeted' });
      assert.equal(conversation.epoch, 0);
      assert.equal(await store.conversations.hasProcessed(turn.inbound.idempotencyId), true);

      const messages = await store.messages.listByConversation(turn.conversationKey);
      assert.deepEqual(
        messages.map(({ direction, idempotencyId, content, sentAt }) => ({
          direction,
          idempotencyId,
          content,
          sentAt,
        })),
        [
          {
            direction: 'inbound',
            idempotencyId: turn.inbound.idempotencyId,
            content: { text: 'hi' },
            sentAt: 1_700_000_000_000,
          },
          {
            direction: 'outbound',
            idempotencyId: turn.outbound[0]?.id,
            content: { text: 'hello' },
            sentAt: 1_700_000_000_500,
          },
        ],
      );

      const second = nextTurn(turn, { state: { step: 'asked' } });
      assert.equal(await store.conversations.recordTurn(second), 'recorded');
      const updated = await store.conversations.load(turn.conversationKey);
      assert.equal(updated?.id, conversation.id);
      assert.deepEqual(updated?.state, { step: 'asked' });
      assert.equal((await store.messages.listByConversation(turn.conversationKey)).length, 4);
    });

    it('conversations - a second recordTurn with the same idempotency id is a duplicate and changes nothing', async () => {
      const turn = turnFor(userId);
      await store.conversations.recordTurn(turn);
      const before = await store.conversations.load(turn.conversationKey);
      const messagesBefore = await countMessages();

      const replay = nextTurn(turn, { inbound: turn.inbound, state: { step: 'changed' }, epoch: 9 });
      assert.equal(await store.conversations.recordTurn(replay), 'duplicate');
      assert.deepEqual(await store.conversations.load(turn.conversationKey), before);
      assert.equal(await countMessages(), messagesBefore);
    });

    it('conversations - a duplicate id under a new conversation key creates no conversation', async () => {
      const turn = turnFor(userId);
      await store.conversations.recordTurn(turn);
      const elsewhere = turnFor(userId, { inbound: turn.inbound });
      assert.equal(await store.conversations.recordTurn(elsewhere), 'duplicate');
      assert.equal(await store.conversations.load(elsewhere.conversationKey), undefined);
    });

    it('conversations - concurrent recordTurns with the same id record exactly one', async () => {
      const turn = turnFor(userId);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.conversations.recordTurn({ ...turn, state: { attempt: i } }),
        ),
      );
      assert.equal(results.filter((result) => result === 'recorded').length, 1);
      assert.equal(results.filter((result) => result === 'duplicate').length, 7);
      assert.equal((await store.messages.listByConversation(turn.conversationKey)).length, 2);
    });

    it('conversations - concurrent first turns of a new conversation share one conversation', async () => {
      const first = turnFor(userId, { outbound: [] });
      const turns = Array.from({ length: 6 }, () => nextTurn(first, { outbound: [] }));
      const results = await Promise.all(turns.map((turn) => store.conversations.recordTurn(turn)));
      assert.deepEqual(
        results,
        Array.from({ length: 6 }, () => 'recorded'),
      );
      const inbound = (await store.messages.listByConversation(first.conversationKey)).filter(
        (message) => message.direction === 'inbound',
      );
      assert.deepEqual(
        inbound.map((message) => message.idempotencyId).sort(),
        turns.map((turn) => turn.inbound.idempotencyId).sort(),
      );
    });

    it('conversations - a conversation deleted with its user is created anew by its next turn', async () => {
      // The repository remembers conversation ids to record turns in one statement; a deleted row must
      // send the next turn down the path that creates it.
      const first = await store.users.upsert({ channel: 'web', platformUserId: `gone-${randomUUID()}` });
      const turn = turnFor(first.id);
      assert.equal(await store.conversations.recordTurn(turn), 'recorded');
      const before = await store.conversations.load(turn.conversationKey);
      assert.equal(await store.users.forget(first.id), true);
      assert.equal(await store.conversations.load(turn.conversationKey), undefined);

      const again = await store.users.upsert({ channel: 'web', platformUserId: `back-${randomUUID()}` });
      assert.equal(await store.conversations.recordTurn(nextTurn(turn, { userId: again.id })), 'recorded');
      const after = await store.conversations.load(turn.conversationKey);
      assert.ok(after && before);
      assert.notEqual(after.id, before.id);
      assert.equal(after.userId, again.id);
      assert.equal(await store.conversations.recordTurn(nextTurn(turn, { userId: again.id })), 'recorded');
    });

    it("conversations - processedIds holds the conversation's recorded inbound ids, not its replies' nor other conversations'", async () => {
      const turn = turnFor(userId);
      const second = nextTurn(turn);
      const other = turnFor(userId);
      for (const t of [turn, second, other]) await store.conversations.recordTurn(t);
      const ids = await store.conversations.processedIds(turn.conversationKey);
      assert.equal(ids.mayHave(turn.inbound.idempotencyId), true);
      assert.equal(ids.mayHave(second.inbound.idempotencyId), true);
      assert.equal(ids.mayHave(turn.outbound[0]!.id), false, 'a reply id');
      assert.equal(ids.mayHave(other.inbound.idempotencyId), false, "another conversation's id");
      const fresh = await store.conversations.processedIds(`web:${randomUUID()}`);
      assert.equal(fresh.mayHave(turn.inbound.idempotencyId), false, 'a conversation not stored yet');
    });

    it('conversations - concurrent hasProcessed calls (more than one query holds) each get their answer', async () => {
      const recorded = turnFor(userId);
      await store.conversations.recordTurn(recorded);
      const ids = Array.from({ length: 600 }, (_, i) =>
        i % 7 === 0 ? recorded.inbound.idempotencyId : `web:${randomUUID()}`,
      );
      const answers = await Promise.all(ids.map((id) => store.conversations.hasProcessed(id)));
      assert.deepEqual(
        answers,
        ids.map((_, i) => i % 7 === 0),
      );
    });

    it('conversations - turns given at once (recorded together) each get their own answer', async () => {
      // Concurrent turns share statements; each still answers as if it were alone.
      const known = Array.from({ length: 20 }, () => turnFor(userId, { epoch: 3 }));
      await Promise.all(known.map((turn) => store.conversations.recordTurn(turn)));
      const fresh = known.map((turn) => nextTurn(turn, { epoch: 3, state: { step: 'next' } }));
      const brandNew = Array.from({ length: 5 }, () => turnFor(userId));
      const repeated = known.slice(0, 5);
      const stale = known.slice(5, 8).map((turn) => nextTurn(turn, { epoch: 2 }));
      const outcomes = await Promise.allSettled(
        [...fresh, ...brandNew, ...repeated, ...stale].map((turn) => store.conversations.recordTurn(turn)),
      );
      const answers = outcomes.map((outcome) =>
        outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).name,
      );
      assert.deepEqual(answers, [
        ...fresh.map(() => 'recorded'),
        ...brandNew.map(() => 'recorded'),
        ...repeated.map(() => 'duplicate'),
        ...stale.map(() => 'StaleEpochError'),
      ]);
      for (const turn of [...fresh, ...brandNew]) {
        assert.equal(await store.conversations.hasProcessed(turn.inbound.idempotencyId), true);
      }
      for (const turn of stale) {
        assert.equal(await store.conversations.hasProcessed(turn.inbound.idempotencyId), false);
      }
      assert.deepEqual((await store.conversations.load(fresh[0]!.conversationKey))?.state, { step: 'next' });
    });

    it('conversations - a turn that fails among turns given at once fails alone', async () => {
      const good = Array.from({ length: 6 }, () => turnFor(userId));
      const orphan = turnFor(randomUUID());
      const outcomes = await Promise.allSettled(
        [...good.slice(0, 3), orphan, ...good.slice(3)].map((turn) => store.conversations.recordTurn(turn)),
      );
      assert.equal(outcomes[3]!.status, 'rejected');
      assert.ok((outcomes[3] as PromiseRejectedResult).reason instanceof UnknownUserError);
      assert.deepEqual(
        outcomes.filter((_, i) => i !== 3).map((outcome) => outcome.status === 'fulfilled' && outcome.value),
        good.map(() => 'recorded'),
      );
      assert.equal(await store.conversations.load(orphan.conversationKey), undefined);
      for (const turn of good) assert.ok(await store.conversations.load(turn.conversationKey));
    });

    it('conversations - a turn that fails among turns of stored conversations given at once fails alone', async () => {
      // Turns of conversations this store has seen, recorded by one statement that one failing turn fails.
      const first = Array.from({ length: 7 }, () => turnFor(userId));
      for (const turn of first) await store.conversations.recordTurn(turn);
      const next = first.map((turn) => nextTurn(turn, { state: { step: 'next' } }));
      const orphan = nextTurn(first[3]!, { userId: randomUUID() });
      next[3] = orphan;
      const outcomes = await Promise.allSettled(next.map((turn) => store.conversations.recordTurn(turn)));
      assert.ok((outcomes[3] as PromiseRejectedResult).reason instanceof UnknownUserError);
      assert.deepEqual(
        outcomes.filter((_, i) => i !== 3).map((outcome) => outcome.status === 'fulfilled' && outcome.value),
        next.slice(1).map(() => 'recorded'),
      );
      assert.equal(await store.conversations.hasProcessed(orphan.inbound.idempotencyId), false);
      assert.deepEqual((await store.conversations.load(orphan.conversationKey))?.state, first[3]!.state);
      assert.deepEqual((await store.conversations.load(first[0]!.conversationKey))?.state, { step: 'next' });
    });

    it('conversations - turns of one conversation given at once are recorded in the order given', async () => {
      const first = turnFor(userId);
      await store.conversations.recordTurn(first);
      const others = Array.from({ length: 5 }, (_, i) => turnFor(userId, { state: { other: i } }));
      const next = Array.from({ length: 6 }, (_, i) => nextTurn(first, { state: { step: i } }));
      const mixed = next.flatMap((turn, i) => (others[i] ? [turn, others[i]] : [turn]));
      await Promise.all(mixed.map((turn) => store.conversations.recordTurn(turn)));
      const log = await store.conversations.turnLog(first.conversationKey);
      assert.deepEqual(
        log.map((entry) => entry.idempotencyId),
        [first, ...next].map((turn) => turn.inbound.idempotencyId),
      );
      assert.deepEqual((await store.conversations.load(first.conversationKey))?.state, { step: 5 });
    });

    it('conversations - a write with a stale epoch is rejected and changes nothing', async () => {
      const turn = turnFor(userId, { epoch: 5 });
      await store.conversations.recordTurn(turn);
      assert.equal((await store.conversations.load(turn.conversationKey))?.epoch, 5);
      const before = await store.conversations.load(turn.conversationKey);
      const messagesBefore = await countMessages();

      const stale = nextTurn(turn, { epoch: 4, state: { step: 'stale' } });
      await assert.rejects(store.conversations.recordTurn(stale), (error: unknown) => {
        assert.ok(error instanceof StaleEpochError);
        assert.equal(error.attemptedEpoch, 4);
        assert.equal(error.currentEpoch, 5);
        assert.equal(error.conversationId, before?.id);
        return true;
      });
      assert.deepEqual(await store.conversations.load(turn.conversationKey), before);
      assert.equal(await countMessages(), messagesBefore);
      assert.equal(await store.conversations.hasProcessed(stale.inbound.idempotencyId), false);
    });

    it("conversations - a load that claims an epoch refuses an earlier owner's later turn, before the new owner writes", async () => {
      const turn = turnFor(userId, { epoch: 3, writer: 'old-owner' });
      await store.conversations.recordTurn(turn);
      assert.equal(await store.conversations.load('no such conversation', { claimEpoch: 9 }), undefined);

      // The new owner (epoch 6) activates the conversation: it reads the state and claims it.
      const claimed = await store.conversations.load(turn.conversationKey, { claimEpoch: 6 });
      assert.equal(claimed?.epoch, 6);
      // The old owner, still finishing a turn under epoch 3, is refused although epoch 6 wrote nothing yet.
      const late = nextTurn(turn, { epoch: 3, writer: 'old-owner', state: { step: 'late' } });
      await assert.rejects(store.conversations.recordTurn(late), (error: unknown) => {
        assert.ok(error instanceof StaleEpochError);
        assert.equal(error.currentEpoch, 6);
        return true;
      });
      assert.equal(await store.conversations.hasProcessed(late.inbound.idempotencyId), false);
      assert.deepEqual((await store.conversations.load(turn.conversationKey))?.state, claimed?.state);

      // A claim never lowers the epoch; the new owner's own turns go through.
      assert.equal((await store.conversations.load(turn.conversationKey, { claimEpoch: 2 }))?.epoch, 6);
      assert.equal((await store.conversations.load(turn.conversationKey, { claimEpoch: 6 }))?.epoch, 6);
      await assert.rejects(
        store.conversations.load(turn.conversationKey, { claimEpoch: -1 }),
        /invalid claimEpoch: expected a non-negative integer, got -1/,
      );
      const next = nextTurn(turn, { epoch: 6, writer: 'new-owner' });
      assert.equal(await store.conversations.recordTurn(next), 'recorded');
    });

    it('conversations - an equal or newer epoch is accepted and stored; an omitted one keeps it', async () => {
      const turn = turnFor(userId, { epoch: 2 });
      await store.conversations.recordTurn(turn);
      assert.equal(await store.conversations.recordTurn(nextTurn(turn, { epoch: 2 })), 'recorded');
      assert.equal(await store.conversations.recordTurn(nextTurn(turn, { epoch: 7 })), 'recorded');
      assert.equal((await store.conversations.load(turn.conversationKey))?.epoch, 7);
      assert.equal(await store.conversations.recordTurn(nextTurn(turn)), 'recorded');
      assert.equal((await store.conversations.load(turn.conversationKey))?.epoch, 7);
    });

    it('conversations - repliesTo returns the replies of a recorded turn in order', async () => {
      const replies = [3, 1, 2].map((n) => ({
        id: `out:${randomUUID()}`,
        content: { n },
        sentAt: 1_000 * n,
      }));
      const turn = turnFor(userId, { outbound: replies });
      await store.conversations.recordTurn(turn);
      await store.conversations.recordTurn(nextTurn(turn));

      assert.deepEqual(await store.conversations.repliesTo(turn.inbound.idempotencyId), replies);
      assert.deepEqual(await store.conversations.repliesTo(`web:${randomUUID()}`), []);
      assert.deepEqual(
        await store.conversations.repliesTo(replies[0]?.id ?? ''),
        [],
        'a reply is not a turn',
      );
      const silent = nextTurn(turn, { outbound: [] });
      await store.conversations.recordTurn(silent);
      assert.deepEqual(await store.conversations.repliesTo(silent.inbound.idempotencyId), []);
    });

    it('conversations - a duplicate turn adds no replies', async () => {
      const turn = turnFor(userId);
      await store.conversations.recordTurn(turn);
      const replay = nextTurn(turn, { inbound: turn.inbound });
      assert.equal(await store.conversations.recordTurn(replay), 'duplicate');
      assert.deepEqual(await store.conversations.repliesTo(turn.inbound.idempotencyId), turn.outbound);
      assert.deepEqual(await store.conversations.repliesTo(replay.outbound[0]?.id ?? ''), []);
      assert.equal(await store.conversations.hasProcessed(replay.outbound[0]?.id ?? ''), false);
    });

    it('conversations - turnLog lists the inbound messages in order with their epoch and writer', async () => {
      const first = turnFor(userId, { epoch: 1, writer: 'node-a' });
      const turns = [
        first,
        nextTurn(first, { epoch: 1, writer: 'node-a' }),
        nextTurn(first, { epoch: 2, writer: 'node-b' }),
        nextTurn(first),
      ];
      for (const turn of turns) await store.conversations.recordTurn(turn);
      await store.conversations.recordTurn(turnFor(userId, { epoch: 3, writer: 'node-c' }));

      const log = await store.conversations.turnLog(first.conversationKey);
      assert.deepEqual(
        log.map(({ idempotencyId, epoch, writer }) => ({ idempotencyId, epoch, writer })),
        [
          { idempotencyId: turns[0]?.inbound.idempotencyId, epoch: 1, writer: 'node-a' },
          { idempotencyId: turns[1]?.inbound.idempotencyId, epoch: 1, writer: 'node-a' },
          { idempotencyId: turns[2]?.inbound.idempotencyId, epoch: 2, writer: 'node-b' },
          { idempotencyId: turns[3]?.inbound.idempotencyId, epoch: undefined, writer: undefined },
        ],
      );
      const seqs = log.map((entry) => entry.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
      assert.equal(new Set(seqs).size, seqs.length);
      assert.ok(log.every((entry) => entry.recordedAt instanceof Date));
      assert.deepEqual(await store.conversations.turnLog(`web:${randomUUID()}`), []);
    });

    it('conversations - recordTurn appends one journal row a turn, with the epoch and writer, and nothing to messages', async () => {
      const turn = turnFor(userId, { epoch: 4, writer: 'node-a' });
      // The first turn creates the conversation (in a transaction); the next one takes one statement.
      await store.conversations.recordTurn(turn);
      await store.conversations.recordTurn(nextTurn(turn, { epoch: 4, writer: 'node-a' }));
      const messages = await store.messages.listByConversation(turn.conversationKey);
      assert.deepEqual(
        messages.map((message) => message.direction),
        ['inbound', 'outbound', 'inbound', 'outbound'],
      );
      const db = databaseOf(store);
      const conversation = await store.conversations.load(turn.conversationKey);
      const rows = await db
        .selectFrom('turns')
        .select(['epoch', 'writer'])
        .where('conversation_id', '=', conversation!.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        rows.map((row) => ({ epoch: Number(row.epoch), writer: row.writer })),
        [
          { epoch: 4, writer: 'node-a' },
          { epoch: 4, writer: 'node-a' },
        ],
      );
      const inMessages = await db
        .selectFrom('messages')
        .select('id')
        .where('conversation_id', '=', conversation!.id)
        .execute();
      assert.deepEqual(inMessages, []);
    });

    it('conversations - recordTurn for an unknown user throws UnknownUserError', async () => {
      const turn = turnFor(randomUUID());
      await assert.rejects(store.conversations.recordTurn(turn), UnknownUserError);
      assert.equal(await store.conversations.load(turn.conversationKey), undefined);
    });

    it('conversations - recordTurn rejects invalid turns before writing', async () => {
      const turn = turnFor(userId);
      await assert.rejects(store.conversations.recordTurn({ ...turn, epoch: -1 }), InvalidValueError);
      await assert.rejects(store.conversations.recordTurn({ ...turn, userId: 'nope' }), InvalidValueError);
      await assert.rejects(store.conversations.recordTurn({ ...turn, writer: '' }), InvalidValueError);
      await assert.rejects(
        store.conversations.recordTurn({
          ...turn,
          outbound: [{ id: turn.inbound.idempotencyId, content: 1, sentAt: 0 }],
        }),
        InvalidValueError,
      );
      assert.equal(await store.conversations.hasProcessed(turn.inbound.idempotencyId), false);
    });

    it('conversations - a transaction that throws rolls back its recorded turns', async () => {
      const turn = turnFor(userId);
      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal(await tx.conversations.recordTurn(turn), 'recorded');
          throw new Error('handler failed');
        }),
        /handler failed/,
      );
      assert.equal(await store.conversations.load(turn.conversationKey), undefined);
      assert.equal(await store.conversations.hasProcessed(turn.inbound.idempotencyId), false);
    });

    it("conversations - a duplicate inside a transaction keeps the transaction's other writes", async () => {
      const turn = turnFor(userId);
      await store.conversations.recordTurn(turn);
      const result = await store.transaction(async (tx) => {
        await tx.pluginData.set('notes', userId, 'in-tx', true);
        return await tx.conversations.recordTurn(turnFor(userId, { inbound: turn.inbound }));
      });
      assert.equal(result, 'duplicate');
      assert.equal(await store.pluginData.get('notes', userId, 'in-tx'), true);
    });
  });
}
