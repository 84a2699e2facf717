/**
 * `parley store ...`: changes to the store an operator makes once, by hand.
 */
import { join } from 'node:path';
import { createStore, type StoreOptions } from '../store/index.js';
import type { Config } from './config-schema.js';

export const STORE_USAGE = `Store (DATABASE_URL, or the embedded store in the data directory):
  parley store use-turn-journal         record turns in the journal from now on (a store made by an
                                        earlier version); run it once every node runs this version`;

/** A `parley store` invocation that cannot run as typed. */
export class StoreUsageError extends Error {
  override readonly name = 'StoreUsageError';
}

/** Where the configured store is: Postgres at `databaseUrl`, or PGlite in the data directory. */
export function storeLocationOf(config: Config): StoreOptions {
  return config.databaseUrl
    ? { databaseUrl: config.databaseUrl }
    : { dataDir: join(config.dataDir, 'pglite') };
}

export async function runStoreCommand(
  args: readonly string[],
  config: Config,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  if (args[0] !== 'use-turn-journal' || args.length > 1) {
    throw new StoreUsageError(`parley store takes use-turn-journal\n\n${STORE_USAGE}`);
  }
  await using store = await createStore(storeLocationOf(config));
  out(
    (await store.useTurnJournal())
      ? 'turns are recorded in the journal from now on; running nodes take it up at their next start'
      : 'turns were already recorded in the journal',
  );
  return 0;
}
