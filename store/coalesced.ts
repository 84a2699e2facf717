/**
 * Coalesces calls that each take one key into calls of `run` that take many: a call waits for the current
 * microtasks, then goes with every other call made meanwhile (up to `maxBatch`); while `maxInFlight` runs
 * are out, new calls gather for the next. Under load a node makes dozens of such calls at once, and each
 * run is one round trip to Postgres. `run` answers the keys in their order; when it fails, every call of
 * the run fails with its error.
 */
export function coalesced<K, R>(
  run: (keys: K[]) => Promise<R[]>,
  { maxBatch, maxInFlight }: { maxBatch: number; maxInFlight: number },
): (key: K) => Promise<R> {
  let waiting: Array<{ key: K; resolve(result: R): void; reject(error: unknown): void }> = [];
  let inFlight = 0;
  const flush = (): void => {
    if (waiting.length === 0 || inFlight >= maxInFlight) return;
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(maxBatch);
    inFlight += 1;
    run(batch.map((call) => call.key))
      .then(
        (results) => batch.forEach((call, i) => call.resolve(results[i]!)),
        (error: unknown) => batch.forEach((call) => call.reject(error)),
      )
      .finally(() => {
        inFlight -= 1;
        flush();
      });
  };
  return (key) =>
    new Promise((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      if (waiting.length === 1) queueMicrotask(flush);
    });
}
