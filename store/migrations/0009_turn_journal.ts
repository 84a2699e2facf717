import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** `store_settings` row that makes the store record turns in the journal; see {@link up}. */
export const TURN_JOURNAL_SETTING = 'turn_journal';

/**
 * The turn journal: a turn is one `turns` row, appended, holding everything it recorded in one sealed
 * `body` (JSON `{ id, idempotencyId, content, sentAt, replies, state }`, aad `turns.body:<hex of the
 * idempotency index>`). Until now a turn sealed four fields, locked and rewrote the conversation's row
 * (its state) and inserted a `messages` row with five indexes, through `parley_record_turn_v2`. Now the
 * conversation's row is written only when it is created and when an owner claims it (`load`); its state is
 * the latest turn's. Measured with one cluster node under 64 conversations: see docs/benchmarks.md ("A turn
 * journal").
 *
 * - Order: `seq` is drawn from `messages.seq`'s sequence, so a conversation's turns of both kinds are in
 *   one order, and it is commit order: a turn holds a lock on its conversation's row until it commits.
 * - Fencing: `parley_append_turns` takes that lock `for share`, where the conversation's epoch is not
 *   above the turn's. An owner's claim (an update of the row) waits for turns in flight, and turns wait
 *   for the claim and are then refused as stale. A turn under a newer epoch raises the row's, as before.
 * - Duplicates: `idempotency_index` is unique here, and the function also refuses an id recorded in
 *   `messages`. `parley_processed_v2` checks both tables.
 * - Rolling deploys: a node of an earlier version reads a conversation's state from its row and knows
 *   nothing of `turns`, so the store writes journal turns only once the `turn_journal` setting is in
 *   `store_settings`. This migration adds it to a store that has no conversation yet; a store that has
 *   them keeps writing `messages` rows (as nodes of the earlier version do) until every node runs this
 *   version and an operator runs `parley store use-turn-journal`. Readers take both kinds meanwhile: a
 *   conversation's state is its latest journal turn's unless a `messages` turn came later (then it is the
 *   row's, which that writer updated).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select pg_get_serial_sequence('messages', 'seq') as name`.execute(db);
  const sequence = rows[0]!.name;
  await sql`
    create table turns (
      seq bigint not null default nextval(${sql.lit(sequence)}::regclass),
      conversation_id uuid not null references conversations (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      idempotency_index bytea not null,
      epoch bigint,
      writer text,
      codec text not null,
      body bytea not null,
      created_at timestamptz not null,
      primary key (conversation_id, seq)
    ) with (toast_tuple_target = 8160)`.execute(db);
  await sql`create unique index turns_idempotency_index_key on turns (idempotency_index)`.execute(db);
  await sql`create index turns_user_id_idx on turns (user_id)`.execute(db);

  // One call for a batch of turns; the plan is kept per connection and made with sequential scans off,
  // so it probes the indexes whatever the tables' sizes were then (as `parley_processed`, 0008).
  await sql`
    create function parley_append_turns(
      p_conversation_ids uuid[], p_user_ids uuid[], p_indexes bytea[], p_epochs bigint[], p_bodies bytea[],
      p_writers text[], p_codec text, p_now timestamptz
    ) returns setof text language plpgsql set enable_seqscan = off as $$
    declare
      v_recorded bytea[];
    begin
      with fenced as (
        select t.*, c.epoch < t.epoch as raises
          from unnest(p_conversation_ids, p_user_ids, p_indexes, p_epochs, p_bodies, p_writers)
            with ordinality as t(conversation_id, user_id, idempotency_index, epoch, body, writer, n)
          join conversations c on c.id = t.conversation_id
          where t.epoch is null or c.epoch <= t.epoch
          for share of c
      ), inserted as (
        insert into turns (conversation_id, user_id, idempotency_index, epoch, writer, codec, body, created_at)
          select f.conversation_id, f.user_id, f.idempotency_index, f.epoch, f.writer, p_codec, f.body, p_now
          from fenced f
          where not exists (
            select 1 from messages m where m.idempotency_index = f.idempotency_index and m.direction = 'inbound'
          )
          order by f.n
          on conflict (idempotency_index) do nothing
          returning turns.idempotency_index
      ), raised as (
        -- A turn under a newer epoch than the conversation's claimed one raises it, as a claim would.
        -- An owner claims the conversation as it loads it, so on a cluster this is rare.
        update conversations c set epoch = f.epoch
          from fenced f join inserted i on i.idempotency_index = f.idempotency_index
          where f.raises and c.id = f.conversation_id
      )
      select coalesce(array_agg(i.idempotency_index), '{}') into v_recorded from inserted i;
      -- Why a turn was not recorded, read in a fresh snapshot: a claim that refused it has committed, so
      -- its epoch is seen here. Unknown conversation: 'retry'.
      return query
        select case
            when t.i = any(v_recorded) then 'recorded'
            else coalesce(
              (select case when t.e is not null and c.epoch > t.e then 'stale ' || c.epoch else 'duplicate' end
                from conversations c where c.id = t.cid),
              'retry')
          end
        from unnest(p_indexes, p_conversation_ids, p_epochs) with ordinality as t(i, cid, e, n)
        order by t.n;
    end
    $$`.execute(db);

  await sql`
    create function parley_processed_v2(p_indexes bytea[]) returns setof bytea
    language plpgsql stable set enable_seqscan = off as $$
    begin
      return query
        select k.i from unnest(p_indexes) as k(i)
        where exists (select 1 from turns t where t.idempotency_index = k.i)
          or exists (
            select 1 from messages m where m.idempotency_index = k.i and m.direction = 'inbound'
          );
    end
    $$`.execute(db);

  await sql`
    insert into store_settings (name, value, created_at)
      select ${TURN_JOURNAL_SETTING}, '\\x01'::bytea, now()
      where not exists (select 1 from conversations)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from store_settings where name = ${TURN_JOURNAL_SETTING}`.execute(db);
  await sql`drop function parley_processed_v2`.execute(db);
  await sql`drop function parley_append_turns`.execute(db);
  await sql`drop table turns`.execute(db);
}
