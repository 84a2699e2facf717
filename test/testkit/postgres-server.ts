/**
 * A private PostgreSQL server for one test: `initdb` into a temp dir, then `postgres` on a free loopback
 * port, with stop/start/restart for tests of what Parley does while the database goes away. Uses the
 * server binaries of the Debian packages (`/usr/lib/postgresql/<version>/bin`). Postgres refuses to run
 * as root, so as root it runs as the `postgres` user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './nats.js';

export interface TestPostgresServer extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  /** Fast shutdown (SIGINT): open sessions are ended. No-op when stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir; resolves when it accepts connections. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** A new database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;

/** The newest installed server's bin dir, or undefined when there is none. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export async function startPostgresServer(): Promise<TestPostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const user = process.getuid?.() === 0 ? postgresUser() : {};
  const dir = await mkdtemp(join(tmpdir(), 'parley-pg-'));
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', dir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'],
    { encoding: 'utf8', ...user },
  );
  if (init.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  const url = `postgres://postgres@${HOST}:${port}/postgres`;
  let child: ChildProcess | undefined;

  const startNow = async (): Promise<void> => {
    if (child) return;
    const args = [
      '-D',
      dir,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      'fsync=off',
    ];
    const started = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
    let log = '';
    started.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    child = started;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`postgres exited with ${started.exitCode}: ${log}`);
      if (await acceptsQueries(url)) return;
      if (Date.now() > deadline) throw new Error(`postgres did not start in ${READY_TIMEOUT_MS} ms: ${log}`);
      await sleep(100);
    }
  };
  const stopNow = async (): Promise<void> => {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode === null) {
      running.kill('SIGINT');
      await once(running, 'exit');
    }
  };
  // One process per test file: a failing test must not leave a server running.
  const onExit = (): void => void child?.kill('SIGKILL');
  process.once('exit', onExit);

  await startNow();
  return {
    url,
    stop: stopNow,
    start: startNow,
    restart: async () => {
      await stopNow();
      await startNow();
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    [Symbol.asyncDispose]: async () => {
      process.off('exit', onExit);
      await stopNow();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresUser(): { uid?: number; gid?: number } {
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
  return { uid: id('-u'), gid: id('-g') };
}

async function acceptsQueries(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
