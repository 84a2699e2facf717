import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { storeBackends } from '../test/testkit/index.js';
import type { Store } from './index.js';
import { createStore, StoreDataDirError, StoreErrorCode } from './index.js';
import type { DataDirLockContent } from './internal.js';
import { DATA_DIR_LOCK_FILE } from './internal.js';

/** A temp PGlite data directory, removed on dispose. */
async function tempDataDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), 'parley-lock-'));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

const lockFileOf = (dataDir: string) => join(dataDir, DATA_DIR_LOCK_FILE);

async function readLock(dataDir: string): Promise<DataDirLockContent> {
  return JSON.parse(await readFile(lockFileOf(dataDir), 'utf8')) as DataDirLockContent;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function assertInUse(error: unknown, dataDir: string, pid: number): true {
  assert.ok(error instanceof StoreDataDirError);
  assert.equal(error.code, StoreErrorCode.DataDirInUse);
  assert.equal(error.path, dataDir);
  assert.equal(error.pid, pid);
  assert.equal(
    error.message,
    `the PGlite data directory ${dataDir} is in use by process ${pid}; stop that Parley ` +
      '(or connect to it with `parley chat`), or use another PARLEY_DATA_DIR',
  );
  return true;
}

/** Starts `node` with `args`; the handle kills it (if still running) on dispose. */
function startNode(args: string[]): ChildProcess & AsyncDisposable {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.assign(child, {
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    },
  });
}

/** Pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await once(child, 'exit');
  return pid;
}

for (const backend of storeBackends) {
  describe(`store data dir lock (${backend.name})`, () => {
    it('data dir lock - a second store on an open location: PGlite refuses it, Postgres shares', async () => {
      await using location = await backend.createLocation();
      const first = await createStore(location.options);
      try {
        if (backend.name === 'pglite') {
          const dataDir = location.options.dataDir ?? '';
          await assert.rejects(createStore(location.options), (error) =>
            assertInUse(error, dataDir, process.pid),
          );
          assert.equal((await readLock(dataDir)).pid, process.pid);
        } else {
          await using second = await createStore(location.options);
          await second.ping();
        }
        await first.ping();
      } finally {
        await first.close();
      }
      await using reopened = await createStore(location.options);
      await reopened.ping();
    });
  });
}

describe('store data dir lock (pglite, across processes)', () => {
  it('data dir lock - close removes the lock file; memory:// takes none', async () => {
    await using dir = await tempDataDir();
    const store = await createStore({ dataDir: dir.path });
    const lock = await readLock(dir.path);
    assert.equal(lock.pid, process.pid);
    assert.ok(Number.isFinite(Date.parse(lock.startedAt)));
    await store.close();
    assert.equal(await exists(lockFileOf(dir.path)), false);

    const memory: Store[] = [];
    try {
      memory.push(await createStore({ dataDir: 'memory://' }));
      memory.push(await createStore({ dataDir: 'memory://' }));
    } finally {
      await Promise.all(memory.map((each) => each.close()));
    }
  });

  it('data dir lock - a directory held by a live Parley in another process is refused; its crash frees it', async () => {
    await using dir = await tempDataDir();
    const storeModule = new URL('./index.ts', import.meta.url).href;
    await using holder = startNode([
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { createStore } = await import(${JSON.stringify(storeModule)});
       await createStore({ dataDir: ${JSON.stringify(dir.path)} });
       console.log('ready');
       setInterval(() => {}, 60_000);`,
    ]);
    const [ready] = (await once(holder.stdout ?? assert.fail('no stdout'), 'data')) as [Buffer];
    assert.equal(ready.toString().trim(), 'ready');
    const holderPid = holder.pid ?? assert.fail('no pid');

    await assert.rejects(createStore({ dataDir: dir.path }), (error) =>
      assertInUse(error, dir.path, holderPid),
    );

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    await using store = await createStore({ dataDir: dir.path });
    await store.ping();
    assert.equal((await readLock(dir.path)).pid, process.pid);
  });

  it('data dir lock - a stale lock of a dead process is taken over', async () => {
    const stalePids = [
      await deadPid(),
      2 ** 22 + 1,
      // An earlier process with our pid (a container's pid 1 after a restart) that did not close.
      process.pid,
    ];
    for (const pid of stalePids) {
      await using dir = await tempDataDir();
      const stale = { pid, startedAt: '2020-01-01T00:00:00.000Z' } satisfies DataDirLockContent;
      await writeFile(lockFileOf(dir.path), JSON.stringify(stale));
      {
        await using store = await createStore({ dataDir: dir.path });
        await store.ping();
        const lock = await readLock(dir.path);
        assert.equal(lock.pid, process.pid, `took over the lock of ${pid}`);
        assert.notEqual(lock.startedAt, stale.startedAt);
      }
      assert.equal(await exists(lockFileOf(dir.path)), false);
    }
  });

  it('data dir lock - close leaves a lock that another process took over', async () => {
    await using dir = await tempDataDir();
    await using sleeper = startNode(['-e', 'setInterval(() => {}, 60_000)']);
    const theirs = JSON.stringify({ pid: sleeper.pid, startedAt: new Date().toISOString() });
    {
      await using store = await createStore({ dataDir: dir.path });
      await writeFile(lockFileOf(dir.path), theirs);
      await store.ping();
    }
    assert.equal(await readFile(lockFileOf(dir.path), 'utf8'), theirs);
    await assert.rejects(createStore({ dataDir: dir.path }), (error) =>
      assertInUse(error, dir.path, sleeper.pid ?? -1),
    );
  });
});
