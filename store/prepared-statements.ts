/**
 * Statements run often enough that parsing and planning them each time shows: on Postgres each is prepared
 * once per connection under a name and afterwards only bound and run (the dialect looks the name up, see
 * `dialect.ts`). Measured on the batch statement that records turns (`conversations.ts`): 16 conversations
 * recording turns against Postgres 15, Postgres CPU 128-137 -> 110-116 µs a turn; one cluster node under
 * 64 conversations, 161-172 -> 147-153. PGlite runs them as they are.
 */
const names = new Map<string, string>();

/** Marks `sql` as a statement to prepare once per connection, and returns it. */
export function prepared(sql: string): string {
  if (!names.has(sql)) names.set(sql, `parley_${names.size + 1}`);
  return sql;
}

/** The name `sql` is prepared under, if it was marked with {@link prepared}. */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
