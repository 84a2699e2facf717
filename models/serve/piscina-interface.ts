/**
 * A fix for piscina 5, applied at run time: its `WorkerInfo.interface` getter builds a new object with seven
 * getters on every access, and the pool reads it for every worker on every task it schedules (to offer the
 * workers to its balancer). Those objects outlive two young-generation collections and are promoted, so on
 * the serving thread at concurrency 1 every scavenge promoted ~545 KB and took 2.3-2.9 ms; cached, 1.1-1.3,
 * and p99 fell from 1.73-1.87 ms to 1.12-1.39 (docs/benchmarks.md, "GC at c=1").
 *
 * The object's getters read the worker's state when called, so one object a worker serves every access:
 * this caches it. Nothing is patched when piscina's internals are not where this expects them (another
 * version): the pool works as before, and `piscina-interface.test.ts` fails to say so.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const CACHED = Symbol('parley.cachedInterface');

/** Piscina's `WorkerInfo` class, or `undefined` when this piscina has none where 5.x keeps it. */
export function piscinaWorkerInfo(): { prototype: object } | undefined {
  const require = createRequire(import.meta.url);
  try {
    // The package's exports map hides its internals from bare specifiers; a file path reaches the same
    // module instance the package loaded (the CommonJS cache is keyed by file name).
    const file = join(dirname(require.resolve('piscina')), 'worker_pool', 'index.js');
    if (!existsSync(file)) return undefined;
    const { WorkerInfo } = require(file) as { WorkerInfo?: { prototype: object } };
    return typeof WorkerInfo === 'function' ? WorkerInfo : undefined;
  } catch {
    return undefined; // piscina laid out otherwise (bundled, say): left as it is
  }
}

/** Caches `WorkerInfo.interface` per worker; true once it is cached (this call or an earlier one). */
export function cachePiscinaWorkerInterface(): boolean {
  const workerInfo = piscinaWorkerInfo();
  if (!workerInfo) return false;
  const { prototype } = workerInfo;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'interface');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the worker as `this`
  const build = descriptor?.get;
  if (!build) return false;
  if (CACHED in build) return true;
  const built = new WeakMap<object, unknown>();
  const cached = function (this: object): unknown {
    let face = built.get(this);
    if (face === undefined) {
      face = build.call(this);
      built.set(this, face);
    }
    return face;
  };
  Object.defineProperty(cached, CACHED, { value: true });
  Object.defineProperty(prototype, 'interface', { ...descriptor, get: cached });
  return true;
}
