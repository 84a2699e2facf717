import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * `parley_processed(indexes)`: which of these inbound idempotency indexes are recorded. The duplicate check
 * every turn makes (`ConversationRepository.hasProcessed`) was a statement Postgres parsed and planned each
 * time, and under a cluster node's load its batches are small, so that was most of its cost. A prepared
 * statement would plan it once per connection, but its generic plan is made for the table as it is then:
 * on a new database, a sequential scan kept while the table grew (measured: Postgres 400-600 µs a turn).
 * In a plpgsql function the plan is also kept per connection, and the function's `enable_seqscan = off`
 * holds while it is planned, so the plan is always the probe of the unique index, one a key.
 *
 * Measured with one cluster node under 64 conversations (Postgres 15, alternating 5 s slices):
 * 3,558 -> 3,863 messages/s; Postgres 115 -> 104 µs a message, the node 185 -> 170.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function parley_processed(p_indexes bytea[]) returns setof bytea
    language plpgsql stable set enable_seqscan = off as $$
    begin
      return query
        select k.i from unnest(p_indexes) as k(i)
        where exists (
          select 1 from messages m where m.idempotency_index = k.i and m.direction = 'inbound'
        );
    end
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function parley_processed`.execute(db);
}
