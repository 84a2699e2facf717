/**
 * A dynamic batcher with Triton's semantics, generic over what a batch is run on. The inference engine
 * batches texts onto ONNX Runtime workers with it; the gRPC client batches concurrent calls into
 * `ClassifyBatch` calls with the same code.
 *
 * - A request that arrives while a runner is idle is dispatched at once, with whatever else is queued
 *   (with `deferDispatch`, once the current microtasks have run, with whatever they submitted too).
 * - While every runner is busy, requests are held until `maxBatch` of them are queued or the oldest has
 *   waited `maxQueueDelayMicros`; then the batch is handed over to wait at the runner (at most
 *   `handoff` such batches), so a runner starts its next batch without a round trip through this loop.
 * - The queue is bounded: past `maxQueue` waiting requests, `submit` fails with `queue_full`
 *   (`RESOURCE_EXHAUSTED` on the wire) and nothing is queued.
 * - A request whose deadline has passed when its batch is formed is not run: it fails with
 *   `deadline_exceeded`.
 *
 * @example
 * ```ts
 * const batcher = createBatcher({ run: (texts) => model.run(texts), concurrency: 2, maxBatch: 64 });
 * const answer = await batcher.submit('hello');
 * ```
 */
import { InferenceError, InferenceErrorCode } from './errors.js';

export interface BatcherOptions<I, O> {
  /** Runs one batch; resolves with one output per input, in order. A rejection fails the whole batch. */
  readonly run: (batch: readonly I[]) => Promise<readonly O[]>;
  /** Batches that run at once (one per worker or connection). An integer >= 1. */
  readonly concurrency: number;
  /** Most requests in one batch. @default 64 */
  readonly maxBatch?: number;
  /** Longest a request is held to fill a batch while every runner is busy, in microseconds. @default 500 */
  readonly maxQueueDelayMicros?: number;
  /** Most requests waiting to be batched; more fail with `queue_full`. @default 8192 */
  readonly maxQueue?: number;
  /** Batches handed over beyond `concurrency` to wait at the runner. @default `concurrency` */
  readonly handoff?: number;
  /**
   * Dispatch from a microtask queued by `submit` rather than inside it, so that requests submitted by the
   * same run of promise callbacks share a batch. Without it, callers woken together by one batch's answer
   * resubmit one by one, and the first of them leaves alone on the idle runner (a batch of one, then the
   * rest). @default false
   */
  readonly deferDispatch?: boolean;
  /** Whether two requests may share a batch (e.g. same model version). @default always */
  readonly compatible?: (a: I, b: I) => boolean;
  /** Milliseconds on a monotonic clock. @default performance.now */
  readonly now?: () => number;
}

export interface BatcherStats {
  /** Requests waiting to be batched. */
  readonly queued: number;
  /** Batches handed to the runner and not yet finished. */
  readonly inFlight: number;
  readonly batches: number;
  readonly requests: number;
  /** Requests refused because the queue was full. */
  readonly rejected: number;
  /** Requests dropped because their deadline passed before they ran. */
  readonly expired: number;
  /** Mean requests per batch (0 before the first batch). */
  readonly meanBatch: number;
}

export interface SubmitOptions {
  /** Deadline on the batcher's clock (`now()`); see {@link BatcherOptions.now}. */
  readonly deadline?: number;
}

export interface Batcher<I, O> {
  submit(input: I, options?: SubmitOptions): Promise<O>;
  /** Queues all inputs or none (one `queue_full` for the lot): a batch request is admitted whole. */
  submitAll(inputs: readonly I[], options?: SubmitOptions): Promise<O[]>;
  stats(): BatcherStats;
  /** Resolves once nothing is queued or running. */
  idle(): Promise<void>;
  /** Refuses new requests with `shutting_down`; queued and running ones still finish. */
  close(): Promise<void>;
}

interface Pending<I, O> {
  readonly input: I;
  readonly enqueuedAt: number;
  readonly deadline: number;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const concurrency = positiveInteger('concurrency', options.concurrency);
  const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? 64);
  const maxQueue = positiveInteger('maxQueue', options.maxQueue ?? 8192);
  const handoff = options.handoff ?? concurrency;
  const maxDelayMs = (options.maxQueueDelayMicros ?? 500) / 1000;
  const compatible = options.compatible ?? (() => true);
  const deferDispatch = options.deferDispatch ?? false;
  const now = options.now ?? (() => performance.now());

  // A ring-free queue: an array with a moving head, emptied when the head reaches its end and compacted
  // when the head passes half of it. Taken slots are cleared: a request kept there after it ran would keep
  // its caller's promise chain alive through young-generation collections, to be promoted and collected
  // late (with the slots kept, ~660 KB promoted a scavenge at concurrency 1 on the server, 2 ms scavenges).
  let queue: (Pending<I, O> | undefined)[] = [];
  let head = 0;
  let inFlight = 0;
  let closed = false;
  let timer: { cancel(): void } | undefined;
  let pumpQueued = false;
  let idleWaiters: (() => void)[] = [];
  const counts = { batches: 0, requests: 0, rejected: 0, expired: 0, batched: 0 };

  const queued = (): number => queue.length - head;

  function admit(inputs: readonly I[], deadline: number): Promise<O>[] {
    if (closed) throw new InferenceError(InferenceErrorCode.ShuttingDown, 'the inference queue is closed');
    if (queued() + inputs.length > maxQueue) {
      counts.rejected += inputs.length;
      throw new InferenceError(
        InferenceErrorCode.QueueFull,
        `the inference queue is full (${queued()} of ${maxQueue} waiting); try again later`,
      );
    }
    const enqueuedAt = now();
    if (deadline <= enqueuedAt) {
      counts.expired += inputs.length;
      throw new InferenceError(
        InferenceErrorCode.DeadlineExceeded,
        'the deadline passed before the request was queued',
      );
    }
    counts.requests += inputs.length;
    const promises = inputs.map(
      (input) =>
        new Promise<O>((resolve, reject) => {
          queue.push({ input, enqueuedAt, deadline, resolve, reject });
        }),
    );
    if (!deferDispatch) pump();
    else if (!pumpQueued) {
      pumpQueued = true;
      queueMicrotask(() => {
        pumpQueued = false;
        pump();
      });
    }
    return promises;
  }

  function pump(): void {
    timer?.cancel();
    timer = undefined;
    while (queued() > 0) {
      if (inFlight < concurrency) {
        dispatch();
        continue;
      }
      if (inFlight >= concurrency + handoff) return; // a finishing batch pumps again
      const oldest = queue[head]!;
      const waited = now() - oldest.enqueuedAt;
      if (queued() >= maxBatch || waited >= maxDelayMs) {
        dispatch();
        continue;
      }
      timer = wake(maxDelayMs - waited, pump);
      return;
    }
  }

  function dispatch(): void {
    const batch: Pending<I, O>[] = [];
    const at = now();
    const first = queue[head]!;
    while (head < queue.length && batch.length < maxBatch) {
      const next = queue[head]!;
      if (!compatible(first.input, next.input)) break;
      queue[head] = undefined;
      head += 1;
      if (next.deadline <= at) {
        counts.expired += 1;
        next.reject(
          new InferenceError(
            InferenceErrorCode.DeadlineExceeded,
            'the deadline passed while the request was queued',
          ),
        );
      } else {
        batch.push(next);
      }
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (batch.length === 0) return;
    inFlight += 1;
    counts.batches += 1;
    counts.batched += batch.length;
    let outputs: Promise<readonly O[]>;
    try {
      outputs = options.run(batch.map((p) => p.input));
    } catch (error) {
      outputs = Promise.reject(asError(error));
    }
    outputs.then(
      (results) => {
        batch.forEach((pending, i) => {
          if (i < results.length) pending.resolve(results[i]!);
          else
            pending.reject(
              new InferenceError(InferenceErrorCode.ModelFailed, 'the runner returned too few results'),
            );
        });
        finished();
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
        finished();
      },
    );
  }

  function finished(): void {
    inFlight -= 1;
    pump();
    if (inFlight === 0 && queued() === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wakeUp of waiters) wakeUp();
    }
  }

  return {
    submit(input, submitOptions = {}) {
      try {
        return admit([input], submitOptions.deadline ?? Infinity)[0]!;
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    submitAll(inputs, submitOptions = {}) {
      if (inputs.length === 0) return Promise.resolve([]);
      try {
        return Promise.all(admit(inputs, submitOptions.deadline ?? Infinity));
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    stats() {
      return {
        queued: queued(),
        inFlight,
        batches: counts.batches,
        requests: counts.requests,
        rejected: counts.rejected,
        expired: counts.expired,
        meanBatch: counts.batches === 0 ? 0 : counts.batched / counts.batches,
      };
    },
    idle() {
      if (inFlight === 0 && queued() === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      await this.idle();
    },
  };
}

/**
 * Calls `callback` after `ms` milliseconds. Below a millisecond (timers' resolution) it checks again on
 * each turn of the event loop instead, so a 100 µs queue delay is 100 µs, not 1 ms.
 */
function wake(ms: number, callback: () => void): { cancel(): void } {
  if (ms >= 1) {
    const handle = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(handle) };
  }
  const handle = setImmediate(callback);
  return { cancel: () => clearImmediate(handle) };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`batcher option '${name}' must be an integer >= 1, got ${value}`);
  }
  return value;
}
