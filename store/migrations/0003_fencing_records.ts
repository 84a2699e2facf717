import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Fencing records on `messages`, so cluster checks can show who wrote each turn and what a turn answered:
 * `epoch` (the writer's fencing epoch, null when unfenced), `writer` (free text, e.g. a node id) and, on
 * outbound rows, `reply_to_index`: the blind index of the inbound idempotency id the reply answers (same
 * purpose and key as `idempotency_index`). `seq` already gives the insertion order (0001).
 *
 * Existing replies get their `reply_to_index` from the inbound message just before them in their
 * conversation: a turn's rows were always inserted together under the conversation's row lock, so a
 * conversation's rows in `seq` order are each turn's inbound message followed by its replies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('epoch', 'bigint')
    .addColumn('writer', 'text')
    .addColumn('reply_to_index', 'bytea')
    .execute();
  await sql`
    update messages as reply set reply_to_index = (
      select inbound.idempotency_index from messages as inbound
      where inbound.conversation_id = reply.conversation_id and inbound.direction = 'inbound'
        and inbound.seq < reply.seq
      order by inbound.seq desc limit 1)
    where reply.direction = 'outbound'`.execute(db);
  await db.schema
    .createIndex('messages_reply_to_index_idx')
    .on('messages')
    .column('reply_to_index')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_reply_to_index_idx').execute();
  await db.schema
    .alterTable('messages')
    .dropColumn('reply_to_index')
    .dropColumn('writer')
    .dropColumn('epoch')
    .execute();
}
