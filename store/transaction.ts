import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from './database.js';

let savepointSeq = 0;

/**
 * Runs `fn` atomically: in a new transaction, or, when `db` already is one, in a savepoint, so a
 * repository method that rolls back on its own (a duplicate turn) does not undo the caller's other work.
 *
 * Operations on one transaction must run one after another, never in parallel (`Promise.all`): a
 * transaction is one connection, and savepoints nest by order of execution.
 */
export async function inTransaction<T>(
  db: Kysely<Database>,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (!db.isTransaction) return await db.transaction().execute(fn);
  const savepoint = sql.id(`parley_sp_${++savepointSeq}`);
  await sql`savepoint ${savepoint}`.execute(db);
  let result: T;
  try {
    result = await fn(db);
  } catch (error) {
    // If even the rollback fails, the connection is broken and the enclosing transaction fails anyway;
    // the caller's error is the one worth reporting.
    await sql`rollback to savepoint ${savepoint}`.execute(db).catch(() => {});
    throw error;
  }
  await sql`release savepoint ${savepoint}`.execute(db);
  return result;
}
