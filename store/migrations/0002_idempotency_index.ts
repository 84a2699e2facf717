import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { BlindIndex, BlindIndexPurpose } from '../blind-index.js';
import { fieldAad } from '../field-codec.js';
import type { MigrationContext } from './context.js';

/** Rows sealed per round trip while backfilling. */
const BATCH_SIZE = 500;

/**
 * Idempotency ids embed credentials (the web channel's is `web:<session id>:<client message id>`), so
 * `messages.idempotency_id` stops being clear text: it becomes sealed `bytea` (aad
 * `messages.idempotency_id:<row id>`), and duplicates are found through the new unique blind index
 * `idempotency_index`. Existing rows are backfilled with the store's codec and blind index key; the
 * table is then rewritten so the old clear-text values do not linger in dead row versions.
 */
export function idempotencyIndexMigration(ctx: MigrationContext): Migration {
  return {
    async up(db) {
      await db.schema
        .alterTable('messages')
        .addColumn('idempotency_index', 'bytea')
        .addColumn('idempotency_id_sealed', 'bytea')
        .execute();
      await db.schema.alterTable('messages').dropConstraint('messages_idempotency_id_key').execute();

      await backfill(db, ctx);

      await db.schema.alterTable('messages').dropColumn('idempotency_id').execute();
      await db.schema
        .alterTable('messages')
        .renameColumn('idempotency_id_sealed', 'idempotency_id')
        .execute();
      await db.schema
        .alterTable('messages')
        .alterColumn('idempotency_id', (col) => col.setNotNull())
        .execute();
      await db.schema
        .alterTable('messages')
        .alterColumn('idempotency_index', (col) => col.setNotNull())
        .execute();
      await db.schema
        .alterTable('messages')
        .addUniqueConstraint('messages_idempotency_index_key', ['idempotency_index'])
        .execute();
      // A rewrite keeps only live rows and nulls dropped columns, so no clear-text id stays on disk.
      await sql`cluster messages using messages_pkey`.execute(db);
    },
  };
}

async function backfill(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  let blindIndex: BlindIndex | undefined;
  let after = -1;
  for (;;) {
    const { rows } = await sql<{ id: string; seq: string | number; idempotency_id: string; codec: string }>`
      select id, seq, idempotency_id, codec from messages
      where seq > ${after} order by seq limit ${BATCH_SIZE}`.execute(db);
    const last = rows.at(-1);
    if (last === undefined) return;
    after = Number(last.seq);
    blindIndex ??= new BlindIndex(await ctx.blindIndexKey(db));

    const values = [];
    for (const row of rows) {
      if (row.codec !== ctx.sealer.codec.id) {
        // Sealing the id with another codec than the row's content would leave the row unreadable.
        throw new Error(
          `message ${row.id} was sealed with codec '${row.codec}', but the store was opened with ` +
            `'${ctx.sealer.codec.id}': open it with codec '${row.codec}' to apply this migration`,
        );
      }
      const index = blindIndex.compute(BlindIndexPurpose.IdempotencyId, row.idempotency_id);
      const sealed = await ctx.sealer.sealText(
        row.idempotency_id,
        fieldAad('messages', 'idempotency_id', row.id),
      );
      values.push(sql`(${row.id}::uuid, ${index}::bytea, ${sealed}::bytea)`);
    }
    await sql`
      update messages as m
      set idempotency_index = v.idempotency_index, idempotency_id_sealed = v.sealed
      from (values ${sql.join(values)}) as v(id, idempotency_index, sealed)
      where m.id = v.id`.execute(db);
  }
}
