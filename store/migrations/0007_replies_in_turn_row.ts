import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * A turn is one `messages` row: the inbound message, with the replies it produced sealed together in the
 * new column `replies` (JSON `[{ id, idempotencyId, content, sentAt }]`, aad `messages.replies:<row id>`;
 * null when the turn had none). Until now each reply was a row of its own, with five index entries and
 * two foreign-key checks; measured with 16 conversations recording turns against Postgres 15, Postgres
 * CPU 107-108 -> 73-74 µs a turn and the recording process's 72-73 -> 59-60.
 *
 * Rows written before stay as they are: `outbound` rows whose `reply_to_index` names their inbound
 * message. Readers take both (`listByConversation`, `repliesTo`), as they will take outbound messages
 * that answer no inbound one. `parley_record_turn_v2` records the new way; `parley_record_turn`
 * (migration 0004) stays for nodes of the previous version during a rolling deploy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('replies', 'bytea').execute();
  await sql`
    create function parley_record_turn_v2(
      p_key_index bytea, p_id uuid, p_key bytea, p_channel text, p_user_id uuid, p_state bytea,
      p_epoch bigint, p_writer text, p_codec text, p_now timestamptz,
      p_inbound_id uuid, p_inbound_index bytea, p_inbound_sealed_id bytea, p_inbound_content bytea,
      p_inbound_sent_at timestamptz, p_replies bytea
    ) returns text language plpgsql as $$
    declare
      v_id uuid;
      v_epoch bigint;
      v_created boolean := false;
    begin
      select id, epoch into v_id, v_epoch from conversations
        where conversation_key_index = p_key_index for update;
      if not found then
        if p_key is null then return 'retry'; end if;
        insert into conversations (id, conversation_key_index, conversation_key, channel, user_id, state,
                                   epoch, codec, created_at, updated_at)
          values (p_id, p_key_index, p_key, p_channel, p_user_id, p_state, coalesce(p_epoch, 0), p_codec,
                  p_now, p_now)
          on conflict (conversation_key_index) do nothing;
        if not found then return 'retry'; end if;
        v_created := true;
      elsif v_id <> p_id then
        return 'retry';
      elsif p_epoch < v_epoch then
        return 'stale ' || v_epoch;
      end if;

      insert into messages (id, conversation_id, user_id, direction, idempotency_index, idempotency_id,
                            content, replies, epoch, writer, reply_to_index, codec, sent_at, created_at)
        values (p_inbound_id, p_id, p_user_id, 'inbound', p_inbound_index, p_inbound_sealed_id,
                p_inbound_content, p_replies, p_epoch, p_writer, null, p_codec, p_inbound_sent_at, p_now)
        on conflict (idempotency_index) do nothing;
      if not found then
        if v_created then delete from conversations where id = p_id; end if;
        return 'duplicate';
      end if;

      if not v_created then
        update conversations
          set state = p_state, epoch = coalesce(p_epoch, epoch), codec = p_codec, updated_at = p_now
          where id = p_id;
      end if;
      return 'recorded';
    end
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function parley_record_turn_v2`.execute(db);
  await db.schema.alterTable('messages').dropColumn('replies').execute();
}
