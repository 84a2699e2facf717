import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createStore } from '../store/index.js';
import { databaseOf } from '../store/internal.js';
import { loadConfig } from './config.js';
import { runStoreCommand, StoreUsageError } from './store-command.js';

describe('parley store', () => {
  it('use-turn-journal switches a store made before the journal, once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-store-command-'));
    try {
      const config = loadConfig({ env: { PARLEY_DATA_DIR: dataDir } });
      {
        // As a store made by an earlier version: it has conversations, so 0009 left the journal off.
        await using store = await createStore({ dataDir: join(dataDir, 'pglite') });
        await sql`delete from store_settings where name = 'turn_journal'`.execute(databaseOf(store));
      }
      const lines: string[] = [];
      assert.equal(await runStoreCommand(['use-turn-journal'], config, (line) => lines.push(line)), 0);
      assert.equal(await runStoreCommand(['use-turn-journal'], config, (line) => lines.push(line)), 0);
      assert.deepEqual(lines, [
        'turns are recorded in the journal from now on; running nodes take it up at their next start',
        'turns were already recorded in the journal',
      ]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('an unknown subcommand is a usage error, before the store is opened', async () => {
    const config = loadConfig({ env: { DATABASE_URL: 'postgres://127.0.0.1:1/nowhere' } });
    await assert.rejects(runStoreCommand([], config), StoreUsageError);
    await assert.rejects(runStoreCommand(['use-turn-journal', 'extra'], config), /takes use-turn-journal/);
  });
});
