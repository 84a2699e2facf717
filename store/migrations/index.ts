import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { Migrator } from 'kysely/migration';
import type { Database } from '../database.js';
import { StoreMigrationError } from '../errors.js';
import * as initial from './0001_initial.js';

/**
 * Every migration, old and new, keyed by name; names sort in the order they apply. Add a file
 * `000N_<what>.ts` exporting `up` (and `down`) and list it here. Never edit a migration that has shipped.
 * Kysely records applied ones in `kysely_migration` (the schema version) and serialises concurrent
 * migrators with `kysely_migration_lock` / an advisory lock.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
};

/** Lists {@link migrations} from code, so nothing depends on files being present at run time. */
export const codeMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...migrations }),
};

/** Applies pending migrations in one transaction; throws {@link StoreMigrationError} naming the failing one. */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: codeMigrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new StoreMigrationError(failed?.migrationName, { cause: error });
  }
}

/** Names of the migrations applied to `db`, in order. */
export async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await new Migrator({ db, provider: codeMigrationProvider }).getMigrations();
  return all.filter((info) => info.executedAt !== undefined).map((info) => info.name);
}
