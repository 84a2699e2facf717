import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Keeps a conversation's state in its row up to ~8 KB. Every turn rewrites the state, and by default a row
 * over ~2 KB (a dialog state with 64 recent message ids, as kept until then, was ~3 KB) is first run
 * through pglz, which gains nothing on ids and nothing at all on encrypted bytes, then moved to the TOAST
 * table: each turn wrote the value anew there and left the old one dead. Measured with 64 conversations
 * recording turns against Postgres 15: Postgres CPU 360 -> 290-310 µs a turn, WAL 4.9 -> 1.9 KB a turn.
 * Larger states are compressed and moved out of the row as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table conversations set (toast_tuple_target = 8160)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table conversations reset (toast_tuple_target)`.execute(db);
}
