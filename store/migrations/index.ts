import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider, MigrationResultSet } from 'kysely/migration';
import { Migrator } from 'kysely/migration';
import type { Database } from '../database.js';
import { StoreMigrationError } from '../errors.js';
import * as initial from './0001_initial.js';
import { idempotencyIndexMigration } from './0002_idempotency_index.js';
import * as fencingRecords from './0003_fencing_records.js';
import * as recordTurn from './0004_record_turn.js';
import * as inlineConversationState from './0005_inline_conversation_state.js';
import * as messageDirectionEnum from './0006_message_direction_enum.js';
import * as repliesInTurnRow from './0007_replies_in_turn_row.js';
import * as processedLookup from './0008_processed_lookup.js';
import * as turnJournal from './0009_turn_journal.js';
import * as genericAppendPlan from './0010_generic_append_plan.js';
import type { MigrationContext } from './context.js';

export type { MigrationContext } from './context.js';

/**
 * Every migration, old and new, keyed by name; names sort in the order they apply. Add a file
 * `000N_<what>.ts` exporting `up` (and `down`), or a factory taking the {@link MigrationContext} when it
 * moves data, and list it here. Never edit a migration that has shipped. Kysely records applied ones in
 * `kysely_migration` (the schema version) and serialises concurrent migrators with
 * `kysely_migration_lock` / an advisory lock.
 */
export const migrations: Readonly<Record<string, (ctx: MigrationContext) => Migration>> = {
  '0001_initial': () => initial,
  '0002_idempotency_index': idempotencyIndexMigration,
  '0003_fencing_records': () => fencingRecords,
  '0004_record_turn': () => recordTurn,
  '0005_inline_conversation_state': () => inlineConversationState,
  '0006_message_direction_enum': () => messageDirectionEnum,
  '0007_replies_in_turn_row': () => repliesInTurnRow,
  '0008_processed_lookup': () => processedLookup,
  '0009_turn_journal': () => turnJournal,
  '0010_generic_append_plan': () => genericAppendPlan,
};

/** Lists {@link migrations} from code, so nothing depends on files being present at run time. */
export function codeMigrationProvider(ctx: MigrationContext): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve(
        Object.fromEntries(Object.entries(migrations).map(([name, migration]) => [name, migration(ctx)])),
      ),
  };
}

/** Applies pending migrations in one transaction; throws {@link StoreMigrationError} naming the failing one. */
export async function migrateToLatest(db: Kysely<Database>, ctx: MigrationContext): Promise<void> {
  await migrate(db, ctx, (migrator) => migrator.migrateToLatest());
}

/** Applies pending migrations up to and including `target` (tests build old schemas with it). */
export async function migrateTo(
  db: Kysely<Database>,
  ctx: MigrationContext,
  target: keyof typeof migrations,
): Promise<void> {
  await migrate(db, ctx, (migrator) => migrator.migrateTo(target));
}

async function migrate(
  db: Kysely<Database>,
  ctx: MigrationContext,
  run: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<void> {
  const { error, results } = await run(new Migrator({ db, provider: codeMigrationProvider(ctx) }));
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new StoreMigrationError(failed?.migrationName, { cause: error });
  }
}

/** Names of the migrations applied to `db`, in order. */
export async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const provider: MigrationProvider = {
    // Only the names are read.
    getMigrations: () => codeMigrationProvider(NAMES_ONLY).getMigrations(),
  };
  const all = await new Migrator({ db, provider }).getMigrations();
  return all.filter((info) => info.executedAt !== undefined).map((info) => info.name);
}

const NAMES_ONLY: MigrationContext = {
  get sealer(): never {
    throw new Error('migration context used outside a migration run');
  },
  blindIndexKey: () => Promise.reject(new Error('migration context used outside a migration run')),
};
