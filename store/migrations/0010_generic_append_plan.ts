import type { Kysely } from 'kysely';
import { sql } from 'kysely';

const APPEND_TURNS = sql.raw(
  'parley_append_turns(uuid[], uuid[], bytea[], bigint[], bytea[], text[], text, timestamptz)',
);

/**
 * `parley_append_turns` (0009) keeps one plan per connection for each of its statements, instead of
 * planning them again at many calls. Postgres chooses per call between a statement's generic plan and a
 * custom one made for that call's arguments, by their estimated costs: the generic plan guesses 10 turns
 * a call, so a call with fewer (a node at light load sends one at a time) looked cheaper planned afresh,
 * and each such call planned the function's statements anew. Measured on Postgres 15, one connection
 * appending: Postgres CPU for a call of one turn 453 -> 220 µs; 8 turns 60-90 -> 53 µs a turn; 23 turns
 * 47-52 -> 37-40 µs a turn. One cluster node under 64 conversations (batches of ~23): +2.8% messages/s,
 * paired, inside the noise.
 *
 * A plan kept is made for the tables as they are when the connection first calls, so only nested loops
 * are left to it (besides no sequential scans, as before): each turn of a call finds its conversation by
 * probing the primary key, whatever the table's size was when the plan was made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter function ${APPEND_TURNS}
      set plan_cache_mode = force_generic_plan
      set enable_hashjoin = off
      set enable_mergejoin = off`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter function ${APPEND_TURNS}
      reset plan_cache_mode
      reset enable_hashjoin
      reset enable_mergejoin`.execute(db);
}
