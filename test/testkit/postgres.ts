import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created for one test on the test Postgres server; dropped on dispose. */
export interface TestDatabase extends AsyncDisposable {
  /** Connection URL of the new database. */
  readonly url: string;
  /** Its name, `parley_test_<random hex>`. */
  readonly name: string;
}

/**
 * Admin URLs tried in order when `PARLEY_TEST_POSTGRES_URL` is unset: a local server with trust auth,
 * as the `postgres` superuser or as `root` (the user of many CI containers).
 */
export const DEFAULT_TEST_POSTGRES_URLS = [
  'postgres://postgres@127.0.0.1:5432/postgres',
  'postgres://root@127.0.0.1:5432/postgres',
] as const;

let adminUrl: Promise<string> | undefined;

/**
 * Creates a fresh, empty database on the test server: the one at env `PARLEY_TEST_POSTGRES_URL`
 * (@default {@link DEFAULT_TEST_POSTGRES_URLS}), as a user allowed to create databases. Throws when the
 * server cannot be reached: integration tests need a real Postgres and never skip silently.
 *
 * @example
 * ```ts
 * await using database = await createTestDatabase();
 * const store = await createStore({ databaseUrl: database.url });
 * ```
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  adminUrl ??= findAdminUrl();
  const admin = await adminUrl;
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  await withClient(admin, (client) => client.query(`create database ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    [Symbol.asyncDispose]: () =>
      (dropped ??= withClient(admin, async (client) => {
        // FORCE ends sessions a failed test left open (Postgres 13+).
        await client.query(`drop database if exists ${name} with (force)`);
      })),
  };
}

async function findAdminUrl(): Promise<string> {
  const configured = process.env.PARLEY_TEST_POSTGRES_URL;
  const candidates = configured ? [configured] : DEFAULT_TEST_POSTGRES_URLS;
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      await withClient(candidate, (client) => client.query('select 1'));
      return candidate;
    } catch (error) {
      failures.push(`${redact(candidate)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    `cannot reach the test Postgres (${failures.join('; ')}): start Postgres locally with trust auth, ` +
      'or set PARLEY_TEST_POSTGRES_URL to a server where the user may create databases',
  );
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
