import { randomBytes } from 'node:crypto';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreDataDirError } from './errors.js';

/** Name of the lock file inside a PGlite data directory. */
export const DATA_DIR_LOCK_FILE = 'parley.lock';

/** What the lock file holds, as JSON. */
export interface DataDirLockContent {
  /** Process that holds the directory. */
  readonly pid: number;
  /** When it took the lock, ISO 8601. */
  readonly startedAt: string;
}

/** A held lock; `release()` removes the file if it is still ours (idempotent). */
export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Directories this process holds. The file alone cannot tell our own live lock from a stale one left by
 * an earlier process that had the same pid (a container's pid 1 after a restart).
 */
const heldByThisProcess = new Set<string>();

/**
 * Takes the exclusive lock of the PGlite data directory `dataDir` (which must exist): creates
 * `parley.lock` holding {@link DataDirLockContent}. A lock whose process is gone is taken over.
 *
 * The file is advisory and only Parley honours it. Two processes taking over the same stale lock at the
 * same instant can both win; any other overlap is refused.
 *
 * @throws StoreDataDirError with code `DataDirInUse` when a live process (or this one) holds it, or
 * `DataDirUnavailable` when the file cannot be written
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  if (heldByThisProcess.has(dataDir)) {
    throw new StoreDataDirError(dataDir, { type: 'inUse', pid: process.pid });
  }
  const content = JSON.stringify({
    pid: process.pid,
    startedAt: new Date().toISOString(),
  } satisfies DataDirLockContent);
  try {
    // Second attempt: after removing a stale lock. A third process winning that race holds the lock.
    for (let attempt = 0; ; attempt++) {
      if (await createExclusive(path, content)) break;
      const holder = await readHolder(path);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
        throw new StoreDataDirError(dataDir, { type: 'inUse', pid: holder });
      }
      if (attempt > 0) {
        throw new StoreDataDirError(dataDir, { type: 'inUse', pid: holder ?? process.pid });
      }
      await unlink(path).catch(ignoreMissing);
    }
  } catch (error) {
    if (error instanceof StoreDataDirError) throw error;
    throw new StoreDataDirError(dataDir, { type: 'unavailable', cause: error });
  }
  heldByThisProcess.add(dataDir);
  let released: Promise<void> | undefined;
  return {
    path,
    release: () =>
      (released ??= (async () => {
        heldByThisProcess.delete(dataDir);
        // Someone may have taken the file over (e.g. after deciding our pid was gone); leave theirs alone.
        const current = await readFile(path, 'utf8').catch(() => undefined);
        if (current === content) await unlink(path).catch(ignoreMissing);
      })()),
  };
}

/**
 * Creates `path` holding `content`; `false` when it already exists. The content is written to a private
 * file first and hard-linked into place, so a lock file is never seen half written.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const file = await open(draft, 'wx');
  try {
    await file.writeFile(content, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft).catch(ignoreMissing);
  }
}

/** Pid in the lock file; `undefined` when the file is gone or not a lock file. */
async function readHolder(path: string): Promise<number | undefined> {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const pid = (JSON.parse(text) as Partial<DataDirLockContent> | null)?.pid;
    return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return codeOf(error) === 'EPERM';
  }
}

function ignoreMissing(error: unknown): void {
  if (codeOf(error) !== 'ENOENT') throw error;
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
