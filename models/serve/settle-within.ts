/**
 * `promise`, or a rejection with `error()` once `ms` have passed without it settling. The rejection waits
 * for `setImmediate`: after the event loop was blocked for a while, a reply already waiting on a socket
 * wins over the timer that expired meanwhile. A promise that loses the race may still reject later: the
 * race has subscribed to it, so that rejection is handled, not unhandled.
 */
export async function settleWithin<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  // Beyond what a Node timer can wait (2^31 - 1 ms, ~24.8 days; or no deadline) it would fire at once.
  if (ms > 2 ** 31 - 1) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(error())), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
