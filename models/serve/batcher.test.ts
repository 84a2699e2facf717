import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createBatcher } from './batcher.js';
import { InferenceError, InferenceErrorCode } from './errors.js';

/** A batch the runner was given, settled by hand. */
interface RunCall<I, O> {
  readonly batch: readonly I[];
  resolve(outputs: readonly O[]): void;
  reject(error: unknown): void;
}

/** A runner whose batches the test settles: `calls` lists every batch it was handed, in order. */
function manualRunner<I, O>(): {
  calls: RunCall<I, O>[];
  run: (batch: readonly I[]) => Promise<readonly O[]>;
} {
  const calls: RunCall<I, O>[] = [];
  return {
    calls,
    run: (batch) =>
      new Promise((resolve, reject) => {
        calls.push({ batch: [...batch], resolve, reject });
      }),
  };
}

/** Answers batch `index` with its inputs upper-cased. */
function answer(calls: readonly RunCall<string, string>[], index: number): void {
  const call = calls[index];
  assert.ok(call, `the runner got no batch #${index}`);
  call.resolve(call.batch.map((input) => input.toUpperCase()));
}

/** Lets the batcher react to settled runs: every pending promise callback, then one turn of the loop. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks whether a promise has settled yet, without adding an unhandled rejection. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

/** A full garbage collection, with `gc` exposed for this call only. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await new Promise((resolve) => setImmediate(resolve)); // WeakRefs hold their target until the turn ends
  gc();
}

function isInferenceError(code: InferenceErrorCode): (error: unknown) => boolean {
  return (error) => error instanceof InferenceError && error.code === code;
}

describe('batcher', () => {
  it('batcher - dispatches at once, as a batch of one, when a runner is idle', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 2, maxBatch: 8 });
    const first = batcher.submit('a');
    assert.deepEqual(
      runner.calls.map((call) => call.batch),
      [['a']],
      'dispatched synchronously on submit',
    );
    const second = batcher.submit('b');
    assert.deepEqual(
      runner.calls.map((call) => call.batch),
      [['a'], ['b']],
      'the second runner takes the next request at once',
    );
    answer(runner.calls, 1);
    answer(runner.calls, 0);
    assert.deepEqual(await Promise.all([first, second]), ['A', 'B']);
    assert.equal(batcher.stats().inFlight, 0);
  });

  it('batcher - keeps no reference to a request once it ran', async () => {
    const batcher = createBatcher<object, number>({
      run: (batch) => Promise.resolve(batch.map(() => 1)),
      concurrency: 1,
    });
    const refs: WeakRef<object>[] = [];
    const input = (i: number): object => {
      const made = { payload: new Array(100).fill(i) };
      refs.push(new WeakRef(made));
      return made;
    };
    for (let i = 0; i < 50; i++) await batcher.submit(input(i));
    await collectGarbage();
    assert.equal(refs.filter((ref) => ref.deref() !== undefined).length, 0, 'every input was collected');
  });

  it('batcher - while every runner is busy, queued requests go as one batch of at most maxBatch', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, maxBatch: 3 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((input) => batcher.submit(input));
    assert.equal(runner.calls.length, 1, 'nothing more is dispatched while the runner is busy');
    assert.equal(batcher.stats().queued, 4);

    answer(runner.calls, 0);
    await flush();
    assert.deepEqual(runner.calls[1]?.batch, ['b', 'c', 'd'], 'the next batch is full (maxBatch 3)');
    assert.equal(batcher.stats().queued, 1);

    answer(runner.calls, 1);
    await flush();
    assert.deepEqual(runner.calls[2]?.batch, ['e']);
    answer(runner.calls, 2);
    assert.deepEqual(await Promise.all(results), ['A', 'B', 'C', 'D', 'E']);
    assert.equal(runner.calls.length, 3);
  });

  it('batcher - with handoff, a full batch is handed over while the runner is still busy', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({
      run: runner.run,
      concurrency: 1,
      handoff: 1,
      maxBatch: 3,
      // The clock stands still, so the delay never passes: only a full batch is handed over here.
      maxQueueDelayMicros: 60_000_000,
      now: () => 0,
    });
    const results = ['a', 'b', 'c'].map((input) => batcher.submit(input));
    assert.equal(runner.calls.length, 1, 'two queued requests wait for company');
    results.push(batcher.submit('d'));
    assert.deepEqual(
      runner.calls.map((call) => call.batch),
      [['a'], ['b', 'c', 'd']],
      'the third queued request fills the batch, which is handed over at once',
    );
    assert.equal(batcher.stats().inFlight, 2);

    results.push(batcher.submit('e'), batcher.submit('f'), batcher.submit('g'));
    assert.equal(runner.calls.length, 2, 'no more than concurrency + handoff batches are out');
    assert.equal(batcher.stats().queued, 3);

    answer(runner.calls, 0);
    await flush();
    assert.deepEqual(runner.calls[2]?.batch, ['e', 'f', 'g'], 'a finished batch makes room for the next');
    answer(runner.calls, 1);
    answer(runner.calls, 2);
    assert.deepEqual(await Promise.all(results), ['A', 'B', 'C', 'D', 'E', 'F', 'G']);
  });

  it('batcher - with handoff, a partial batch is handed over once the oldest has waited maxQueueDelayMicros', async () => {
    const runner = manualRunner<string, string>();
    let clock = 0;
    const batcher = createBatcher({
      run: runner.run,
      concurrency: 1,
      handoff: 1,
      maxBatch: 10,
      maxQueueDelayMicros: 2000,
      now: () => clock,
    });
    const first = batcher.submit('a');
    clock = 0.5;
    const second = batcher.submit('b');
    const third = batcher.submit('c');
    await sleep(20);
    assert.equal(runner.calls.length, 1, 'the batcher clock says 0 ms waited: b and c are held');

    clock = 2.4; // b was queued at 0.5: 1.9 ms waited, under 2 ms
    await sleep(20);
    assert.equal(runner.calls.length, 1, 'held until the oldest has waited the full delay');

    clock = 2.5;
    await sleep(20);
    assert.deepEqual(runner.calls[1]?.batch, ['b', 'c'], 'handed over after 2 ms on the batcher clock');
    assert.equal(batcher.stats().inFlight, 2);
    answer(runner.calls, 1);
    answer(runner.calls, 0);
    assert.deepEqual(await Promise.all([first, second, third]), ['A', 'B', 'C']);
  });

  it('batcher - a sub-millisecond queue delay hands over on the real clock too', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({
      run: runner.run,
      concurrency: 1,
      handoff: 1,
      maxBatch: 10,
      maxQueueDelayMicros: 200,
    });
    const first = batcher.submit('a');
    const second = batcher.submit('b');
    await sleep(20);
    assert.deepEqual(runner.calls[1]?.batch, ['b'], 'handed over while the first batch still runs');
    answer(runner.calls, 0);
    answer(runner.calls, 1);
    assert.deepEqual(await Promise.all([first, second]), ['A', 'B']);
  });

  it('batcher - a full queue refuses with queue_full and the requests already queued still succeed', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, maxQueue: 2 });
    const accepted = ['a', 'b', 'c'].map((input) => batcher.submit(input));
    assert.equal(batcher.stats().queued, 2, 'a runs; b and c fill the queue');
    await assert.rejects(batcher.submit('d'), (error: unknown) => {
      assert.ok(isInferenceError(InferenceErrorCode.QueueFull)(error), String(error));
      assert.match((error as Error).message, /queue is full \(2 of 2 waiting\)/);
      return true;
    });
    assert.equal(batcher.stats().queued, 2, 'nothing of the refused request was queued');
    assert.equal(batcher.stats().rejected, 1);

    answer(runner.calls, 0);
    await flush();
    answer(runner.calls, 1);
    assert.deepEqual(await Promise.all(accepted), ['A', 'B', 'C']);
    assert.deepEqual(
      runner.calls.flatMap((call) => call.batch),
      ['a', 'b', 'c'],
    );
  });

  it('batcher - submitAll admits the whole lot or none of it, and answers in order', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, maxQueue: 3 });
    const running = batcher.submit('a');
    const queued = batcher.submit('b');
    await assert.rejects(batcher.submitAll(['x', 'y', 'z']), isInferenceError(InferenceErrorCode.QueueFull));
    assert.equal(batcher.stats().queued, 1, 'none of x, y, z was queued');
    assert.equal(batcher.stats().rejected, 3);

    const lot = batcher.submitAll(['x', 'y']);
    assert.equal(batcher.stats().queued, 3);
    assert.deepEqual(await batcher.submitAll([]), [], 'an empty lot is answered at once');

    answer(runner.calls, 0);
    await flush();
    assert.deepEqual(runner.calls[1]?.batch, ['b', 'x', 'y']);
    answer(runner.calls, 1);
    assert.deepEqual(await lot, ['X', 'Y']);
    assert.deepEqual(await Promise.all([running, queued]), ['A', 'B']);
  });

  it('batcher - a request whose deadline passed is never run and fails with deadline_exceeded', async () => {
    const runner = manualRunner<string, string>();
    let clock = 100;
    const batcher = createBatcher({
      run: runner.run,
      concurrency: 1,
      handoff: 0,
      now: () => clock,
    });
    await assert.rejects(
      batcher.submit('late', { deadline: 100 }),
      isInferenceError(InferenceErrorCode.DeadlineExceeded),
      'a deadline already passed is refused on submit',
    );
    await assert.rejects(
      batcher.submitAll(['late', 'later'], { deadline: 50 }),
      isInferenceError(InferenceErrorCode.DeadlineExceeded),
    );
    assert.equal(runner.calls.length, 0, 'the runner never saw them');

    const running = batcher.submit('a');
    const expiring = track(batcher.submit('b', { deadline: 105 }));
    const patient = batcher.submit('c', { deadline: 1000 });
    clock = 110;
    answer(runner.calls, 0);
    await assert.rejects(expiring.promise, (error: unknown) => {
      assert.ok(isInferenceError(InferenceErrorCode.DeadlineExceeded)(error), String(error));
      assert.match((error as Error).message, /while the request was queued/);
      return true;
    });
    assert.deepEqual(runner.calls[1]?.batch, ['c'], 'b expired in the queue and was left out of the batch');
    answer(runner.calls, 1);
    assert.deepEqual(await Promise.all([running, patient]), ['A', 'C']);
    assert.equal(batcher.stats().expired, 4);
    assert.equal(
      runner.calls.flatMap((call) => call.batch).includes('b'),
      false,
      'an expired request is never run',
    );
  });

  it('batcher - a queue of nothing but expired requests leaves the batcher idle', async () => {
    const runner = manualRunner<string, string>();
    let clock = 0;
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, now: () => clock });
    const running = batcher.submit('a');
    const expiring = batcher.submit('b', { deadline: 5 });
    const idle = track(batcher.idle());
    clock = 10;
    answer(runner.calls, 0);
    assert.equal(await running, 'A');
    await assert.rejects(expiring, isInferenceError(InferenceErrorCode.DeadlineExceeded));
    await idle.promise;
    assert.equal(runner.calls.length, 1);
    assert.deepEqual(batcher.stats(), {
      queued: 0,
      inFlight: 0,
      batches: 1,
      requests: 2,
      rejected: 0,
      expired: 1,
      meanBatch: 1,
    });
  });

  it('batcher - compatible keeps incompatible requests in separate batches, in order', async () => {
    interface Item {
      readonly group: string;
      readonly n: number;
    }
    const runner = manualRunner<Item, number>();
    const batcher = createBatcher<Item, number>({
      run: runner.run,
      concurrency: 1,
      handoff: 0,
      compatible: (a, b) => a.group === b.group,
    });
    const items: Item[] = [
      { group: 'x', n: 0 },
      { group: 'x', n: 1 },
      { group: 'x', n: 2 },
      { group: 'y', n: 3 },
      { group: 'y', n: 4 },
      { group: 'x', n: 5 },
    ];
    const results = items.map((item) => batcher.submit(item));
    for (let i = 0; i < 4; i++) {
      const call = runner.calls[i];
      assert.ok(call, `batch #${i} was dispatched`);
      call.resolve(call.batch.map((item) => item.n * 10));
      await flush();
    }
    assert.deepEqual(
      runner.calls.map((call) => call.batch.map((item) => item.n)),
      [[0], [1, 2], [3, 4], [5]],
    );
    for (const call of runner.calls) {
      assert.equal(new Set(call.batch.map((item) => item.group)).size, 1, 'one group per batch');
    }
    assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40, 50]);
  });

  it('batcher - a runner failure fails exactly its batch', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, maxBatch: 2 });
    const first = batcher.submit('a');
    const second = batcher.submit('b');
    const third = batcher.submit('c');
    const fourth = batcher.submit('d');
    const boom = new Error('boom');

    runner.calls[0]?.reject(boom);
    await assert.rejects(first, (error) => error === boom);
    await flush();
    assert.deepEqual(runner.calls[1]?.batch, ['b', 'c']);
    runner.calls[1]?.reject(boom);
    await assert.rejects(second, (error) => error === boom);
    await assert.rejects(third, (error) => error === boom);
    await flush();
    answer(runner.calls, 2);
    assert.equal(await fourth, 'D', 'the next batch runs and succeeds');
  });

  it('batcher - a runner that throws, or answers too few, fails its batch and the batcher goes on', async () => {
    let mode: 'throw' | 'short' | 'ok' = 'throw';
    const batcher = createBatcher<string, string>({
      concurrency: 1,
      run: (batch) => {
        if (mode === 'throw') throw new Error('synchronous failure');
        if (mode === 'short') return Promise.resolve(batch.slice(1));
        return Promise.resolve(batch.map((input) => input.toUpperCase()));
      },
    });
    await assert.rejects(batcher.submit('a'), /synchronous failure/);
    mode = 'short';
    await assert.rejects(batcher.submit('a'), isInferenceError(InferenceErrorCode.ModelFailed));
    mode = 'ok';
    assert.equal(await batcher.submit('a'), 'A');
    assert.equal(batcher.stats().inFlight, 0);
  });

  it('batcher - close refuses new requests with shutting_down and lets queued ones finish', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0 });
    const running = batcher.submit('a');
    const queued = batcher.submit('b');
    const closed = track(batcher.close());
    await assert.rejects(batcher.submit('c'), isInferenceError(InferenceErrorCode.ShuttingDown));
    await assert.rejects(batcher.submitAll(['c', 'd']), isInferenceError(InferenceErrorCode.ShuttingDown));

    answer(runner.calls, 0);
    await flush();
    assert.equal(closed.settled(), false, 'close waits for the queued request');
    assert.deepEqual(runner.calls[1]?.batch, ['b'], 'the queued request still runs after close');
    answer(runner.calls, 1);
    await closed.promise;
    assert.deepEqual(await Promise.all([running, queued]), ['A', 'B']);
    assert.equal(runner.calls.length, 2);
  });

  it('batcher - stats count batches, requests, queue and mean batch size', async () => {
    const runner = manualRunner<string, string>();
    const batcher = createBatcher({ run: runner.run, concurrency: 1, handoff: 0, maxQueue: 5 });
    assert.deepEqual(batcher.stats(), {
      queued: 0,
      inFlight: 0,
      batches: 0,
      requests: 0,
      rejected: 0,
      expired: 0,
      meanBatch: 0,
    });
    const results = ['a', 'b', 'c', 'd'].map((input) => batcher.submit(input));
    await assert.rejects(batcher.submitAll(['x', 'y', 'z']), isInferenceError(InferenceErrorCode.QueueFull));
    assert.deepEqual(batcher.stats(), {
      queued: 3,
      inFlight: 1,
      batches: 1,
      requests: 4,
      rejected: 3,
      expired: 0,
      meanBatch: 1,
    });
    answer(runner.calls, 0);
    await flush();
    answer(runner.calls, 1);
    await Promise.all(results);
    await batcher.idle();
    assert.deepEqual(batcher.stats(), {
      queued: 0,
      inFlight: 0,
      batches: 2,
      requests: 4,
      rejected: 3,
      expired: 0,
      meanBatch: 2,
    });
  });

  it('batcher - refuses options that are not positive integers', () => {
    const run = (batch: readonly string[]): Promise<readonly string[]> => Promise.resolve(batch);
    assert.throws(() => createBatcher({ run, concurrency: 0 }), /'concurrency' must be an integer >= 1/);
    assert.throws(() => createBatcher({ run, concurrency: 1, maxBatch: 1.5 }), /'maxBatch'/);
    assert.throws(() => createBatcher({ run, concurrency: 1, maxQueue: -1 }), /'maxQueue'/);
  });
});
