#!/usr/bin/env node
// Finds every `*.test.ts` in the project's folders and runs them with Node's test runner.
// Node 20's `--test` does not expand globs itself, hence this small script.
// Usage: node scripts/run-tests.mjs [path-substring ...]   (no argument: every test)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['actors', 'app', 'models', 'plugins', 'proto', 'runtime', 'store', 'test'];
const skip = new Set(['node_modules', '.tmp']);

function* walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield path;
  }
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((root) => [...walk(root)])
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

// Tests that load the whole machine (`*.solo.test.ts`: three cluster nodes, NATS and Postgres under load)
// run after the others, one at a time, so neither starves the other's timeouts.
const solo = files.filter((file) => file.endsWith('.solo.test.ts'));
const shared = files.filter((file) => !solo.includes(file));
const run = (batch, concurrency, timeoutMs) =>
  batch.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          `--test-concurrency=${concurrency}`,
          `--test-timeout=${timeoutMs}`,
          ...batch,
        ],
        { stdio: 'inherit' },
      ).status ?? 1);
const status = run(shared, 2, 300_000);
process.exit(run(solo, 1, 900_000) || status);
