import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * `parley_record_turn`: a turn recorded in one round trip instead of six (begin, lock, insert the inbound
 * message, insert the replies, update the conversation, commit). Each round trip to Postgres costs a
 * socket write and a wake-up of the server process; under cluster load they were ~40% of a core node's
 * CPU. The function does what `recordTurn`'s transaction does, in the same order, under the same row
 * lock:
 *
 * 1. Lock the conversation row by its key index. Missing: create it with `p_id` (when `p_key` is given),
 *    else answer `retry`. Present under another id than `p_id`: `retry` (the caller's id was stale).
 * 2. A fenced turn older than the row's epoch: `stale <epoch>`, nothing written.
 * 3. Insert the inbound message; its idempotency index already taken: undo a conversation created in
 *    step 1 and answer `duplicate`.
 * 4. Insert the replies in order, then store the state and epoch; answer `recorded`.
 *
 * Sealed values arrive as bytea parameters, and the replies as one JSON array with their bytes in hex (a
 * JSON parameter reads the same in pg and PGlite, where bytea arrays do not).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function parley_record_turn(
      p_key_index bytea, p_id uuid, p_key bytea, p_channel text, p_user_id uuid, p_state bytea,
      p_epoch bigint, p_writer text, p_codec text, p_now timestamptz,
      p_inbound_id uuid, p_inbound_index bytea, p_inbound_sealed_id bytea, p_inbound_content bytea,
      p_inbound_sent_at timestamptz, p_replies jsonb
    ) returns text language plpgsql as $$
    declare
      v_id uuid;
      v_epoch bigint;
      v_created boolean := false;
      v_reply jsonb;
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
                            content, epoch, writer, reply_to_index, codec, sent_at, created_at)
        values (p_inbound_id, p_id, p_user_id, 'inbound', p_inbound_index, p_inbound_sealed_id,
                p_inbound_content, p_epoch, p_writer, null, p_codec, p_inbound_sent_at, p_now)
        on conflict (idempotency_index) do nothing;
      if not found then
        if v_created then delete from conversations where id = p_id; end if;
        return 'duplicate';
      end if;

      for v_reply in select value from jsonb_array_elements(p_replies) loop
        insert into messages (id, conversation_id, user_id, direction, idempotency_index, idempotency_id,
                              content, epoch, writer, reply_to_index, codec, sent_at, created_at)
          values ((v_reply->>'id')::uuid, p_id, p_user_id, 'outbound', decode(v_reply->>'index', 'hex'),
                  decode(v_reply->>'sealedId', 'hex'), decode(v_reply->>'content', 'hex'), p_epoch,
                  p_writer, p_inbound_index, p_codec, (v_reply->>'sentAt')::timestamptz, p_now);
      end loop;

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
  await sql`drop function parley_record_turn`.execute(db);
}
