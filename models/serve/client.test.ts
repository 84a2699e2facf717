import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import type { nlu } from '../../proto/index.js';
import { createPredictionCache } from './cache.js';
import {
  createInferenceClient,
  STREAM_MAX_CHARS,
  type InferenceClient,
  type InferenceClientOptions,
} from './client.js';
import { createInferenceEngine, type InferenceEngine } from './engine.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import {
  buildTestModels,
  FAKE_MODEL,
  sharedEngine,
  startFakeNluServer,
  tempDir,
  unusedPort,
  waitFor,
  wirePrediction,
  type FakeNluServer,
  type TestModels,
} from './fixtures.js';
import { startInferenceServer, type InferenceServer } from './server.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `parley:test:client:${process.pid}:${randomBytes(4).toString('hex')}:`;
/** INT8 probabilities move by about 1e-3 with the batch a text runs in. */
const INT8_TOLERANCE = 0.01;

const EXPECTED: Readonly<Record<string, string>> = {
  'set an alarm for 7': 'alarm.set',
  'wake me up at noon': 'alarm.set',
  'play some jazz': 'music.play',
  'put on the beatles': 'music.play',
  'what time is it in paris': 'time.current',
  'tell me the time in tokyo': 'time.current',
  'weather in lima today': 'weather.today',
  'is it going to rain in cairo': 'weather.today',
};
const TEXTS = Object.keys(EXPECTED);

function isInferenceError(code: InferenceErrorCode, message?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof InferenceError, `expected an InferenceError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('inference client', () => {
  let dir: AsyncDisposable & { readonly path: string };
  let models: TestModels;
  let engine: InferenceEngine;
  let server: InferenceServer;
  let address: string;
  let redis: Redis;
  const closers: (() => unknown)[] = [];

  before(async () => {
    dir = await tempDir('parley-client-');
    models = await buildTestModels(dir.path);
    engine = await createInferenceEngine({ model: models.v1, threads: 2 });
    server = await startInferenceServer({ engine, address: '127.0.0.1:0' });
    address = `127.0.0.1:${server.port}`;
    redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    await server?.shutdown(1000); // closes the engine
    if (redis) {
      try {
        const keys = await redis.keys(`${PREFIX}*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }
    await dir?.[Symbol.asyncDispose]();
  });

  /** A client closed in `after`. */
  function client(options: Partial<InferenceClientOptions> = {}): InferenceClient {
    const created = createInferenceClient({ address, ...options });
    closers.push(() => created.close());
    return created;
  }

  /** A fake server stopped in `after`. */
  async function fake(handlers: Partial<nlu.NluServiceServer>): Promise<FakeNluServer> {
    const started = await startFakeNluServer(handlers);
    closers.push(() => started.stop());
    return started;
  }

  it('client - coalesces 200 concurrent predictions into far fewer gRPC calls, every answer right', async () => {
    const coalescing = client();
    await coalescing.ready();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => coalescing.predict(TEXTS[i % TEXTS.length]!)),
    );
    answers.forEach((answer, i) => {
      const text = TEXTS[i % TEXTS.length]!;
      assert.equal(answer.prediction.intent, EXPECTED[text], `answer ${i}: ${text}`);
      assert.equal(answer.version, models.v1.metadata.version);
    });
    for (const [i, text] of TEXTS.entries()) {
      const direct = await engine.predict(text);
      const answer = answers[i]!.prediction;
      assert.ok(Math.abs(answer.confidence - direct.prediction.confidence) <= INT8_TOLERANCE, text);
    }
    const stats = coalescing.stats();
    assert.ok(stats.calls < 50, `200 predictions took ${stats.calls} gRPC calls`);
    assert.equal(stats.coalescing?.requests, 200);
    assert.equal(stats.coalescing?.batches, stats.calls);
    assert.ok((stats.coalescing?.meanBatch ?? 0) > 1);
    assert.equal(stats.cache, undefined);
  });

  it('client - a text the service refuses fails its own caller only, not the others coalesced with it', async () => {
    const coalescing = client();
    await coalescing.ready();
    const tooLong = 'x'.repeat(5000);
    const texts = [...TEXTS.slice(0, 3), tooLong, ...TEXTS.slice(3, 6)];
    const answers = await Promise.allSettled(texts.map((text) => coalescing.predict(text)));
    answers.forEach((answer, i) => {
      if (texts[i] === tooLong) {
        assert.equal(answer.status, 'rejected');
        isInferenceError(
          InferenceErrorCode.InvalidArgument,
          /^the text is 5000 characters long; the limit is 4096$/,
        )(answer.reason);
      } else {
        assert.equal(answer.status, 'fulfilled', `answer ${i} (${texts[i]})`);
        assert.equal(answer.value.prediction.intent, EXPECTED[texts[i]!]);
      }
    });
    // They went as one ClassifyBatch (refused), then each alone: the long one as a unary Classify, the
    // rest on the stream.
    assert.equal(coalescing.stats().coalescing?.batches, 1);
    assert.equal(coalescing.stats().calls, 1 + texts.length);
  });

  it("client - a coalesced batch over the service's size limit goes again in batches of that size", async () => {
    const small = await startInferenceServer({
      engine: sharedEngine(engine),
      address: '127.0.0.1:0',
      maxBatchTexts: 4,
    });
    closers.push(() => small.shutdown(1000));
    const coalescing = client({
      address: `127.0.0.1:${small.port}`,
      coalesce: { maxBatch: 10, maxInFlight: 1 },
    });
    await coalescing.ready();
    const texts = Array.from({ length: 10 }, (_, i) => TEXTS[i % TEXTS.length]!);
    const answers = await Promise.all(texts.map((text) => coalescing.predict(text)));
    answers.forEach((answer, i) => assert.equal(answer.prediction.intent, EXPECTED[texts[i]!]));
    // One batch of 10, refused; then 4 + 4 + 2 (or fewer, when the first call took fewer texts).
    assert.ok(coalescing.stats().calls <= 1 + Math.ceil(10 / 4) * 2, `${coalescing.stats().calls} calls`);
    assert.ok(coalescing.stats().calls < 1 + 10, 'not one call per text');
  });

  it('client - a request larger than the service takes is invalid_argument, not queue_full; the default takes more than 4 MiB', async () => {
    const small = await startInferenceServer({
      engine: sharedEngine(engine),
      address: '127.0.0.1:0',
      maxMessageBytes: 2048,
    });
    closers.push(() => small.shutdown(1000));
    const unary = client({ address: `127.0.0.1:${small.port}`, coalesce: false });
    await assert.rejects(
      unary.predict('x'.repeat(3000)),
      isInferenceError(
        InferenceErrorCode.InvalidArgument,
        /^the request is larger than the inference service .* takes: /,
      ),
    );
    assert.equal((await unary.predict('play some jazz')).prediction.intent, 'music.play');

    // grpc-js's default limit (4 MiB) would refuse this batch long before the server's own limits.
    const big = Array.from({ length: 1100 }, (_, i) => `${TEXTS[i % TEXTS.length]!} ${'z'.repeat(3900)}`);
    assert.ok(Buffer.byteLength(big.join('')) > 4 * 1024 * 1024);
    const { predictions } = await client().predictBatch(big, { deadline: Date.now() + 60_000 });
    assert.equal(predictions.length, big.length);
  });

  it('client - coalesce: false sends each text alone, on one ClassifyStream; a very long one as a unary Classify', async () => {
    const alone = client({ coalesce: false });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => alone.predict(TEXTS[i % TEXTS.length]!, { topK: 3 })),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.prediction.intent, EXPECTED[TEXTS[i % TEXTS.length]!]);
      assert.equal(answer.prediction.top.length, 3);
    });
    assert.equal(alone.stats().calls, 20);
    assert.equal(alone.stats().coalescing, undefined);

    const seen = { streams: 0, streamed: [] as number[], unary: [] as number[] };
    const counting = await fake({
      classifyStream(call) {
        seen.streams += 1;
        call.on('data', (request: nlu.ClassifyStreamRequest) => {
          seen.streamed.push(request.text.length);
          call.write({
            id: request.id,
            prediction: wirePrediction('alarm.set'),
            modelVersion: 'v',
            error: undefined,
          });
        });
        call.on('end', () => call.end());
      },
      classify(call, callback) {
        seen.unary.push(call.request.text.length);
        callback(null, { prediction: wirePrediction('music.play'), modelVersion: 'v' });
      },
    });
    const counted = client({ address: counting.address, coalesce: false });
    const texts = [...TEXTS, 'y'.repeat(STREAM_MAX_CHARS), 'z'.repeat(STREAM_MAX_CHARS + 1)];
    const intents = await Promise.all(
      texts.map(async (text) => (await counted.predict(text)).prediction.intent),
    );
    assert.deepEqual(intents, [...TEXTS.map(() => 'alarm.set'), 'alarm.set', 'music.play']);
    assert.equal(seen.streams, 1, 'one stream for all');
    assert.deepEqual(
      seen.streamed.sort((a, b) => a - b),
      texts
        .slice(0, -1)
        .map((text) => text.length)
        .sort((a, b) => a - b),
    );
    assert.deepEqual(seen.unary, [STREAM_MAX_CHARS + 1]);
    assert.equal(counted.stats().calls, texts.length);
  });

  it('client - predictBatch keeps order, getModel describes the model, topK passes through', async () => {
    const plain = client();
    const { predictions, version } = await plain.predictBatch([...TEXTS].reverse(), { topK: 2 });
    assert.equal(version, models.v1.metadata.version);
    assert.deepEqual(
      predictions.map((prediction) => prediction.intent),
      [...TEXTS].reverse().map((text) => EXPECTED[text]),
    );
    assert.ok(predictions.every((prediction) => prediction.top.length === 2));
    const single = await plain.predict('play some jazz', { topK: 4 });
    assert.equal(single.prediction.top.length, 4);

    const model = await plain.getModel();
    assert.equal(model.version, models.v1.metadata.version);
    assert.equal(model.precision, 'int8');
    assert.deepEqual(model.labels, engine.model.labels);
    assert.deepEqual(await plain.ready(), model, 'the watch and GetModel agree');
    await assert.rejects(
      plain.predict('hello', { topK: 11 }),
      isInferenceError(InferenceErrorCode.InvalidArgument, /top_k/),
    );
  });

  it('client - classify() is { intent, source: model }, or undefined for an empty text', async () => {
    const classifier = client();
    const alarm = await classifier.classify('set an alarm for 7');
    assert.ok(alarm);
    assert.equal(alarm.intent, 'alarm.set');
    assert.equal(alarm.source, 'model');
    assert.ok(alarm.confidence > 0.5 && alarm.confidence <= 1);
    assert.deepEqual(alarm.entities, {});
    assert.equal(await classifier.classify(''), undefined);
  });

  it('client - retries a call that fails with UNAVAILABLE, coalesced or alone on the stream', async () => {
    let batchAttempts = 0;
    let streams = 0;
    const streamed: string[] = [];
    const flaky = await fake({
      classifyBatch(call, callback) {
        batchAttempts += 1;
        if (batchAttempts === 1) {
          callback({ code: status.UNAVAILABLE, details: 'warming up' }, null);
          return;
        }
        callback(null, {
          predictions: call.request.texts.map(() => wirePrediction('alarm.set')),
          modelVersion: FAKE_MODEL.version,
        });
      },
      classifyStream(call) {
        streams += 1;
        const stream = streams;
        call.on('data', (request: nlu.ClassifyStreamRequest) => {
          streamed.push(`${stream}:${request.text}`);
          // The first stream fails as a whole; the second answers its first text as a draining server
          // does (UNAVAILABLE in place), so the client moves to a third; the third answers.
          if (stream === 1) call.emit('error', { code: status.UNAVAILABLE, details: 'warming up' });
          else if (stream === 2) {
            const error = { code: status.UNAVAILABLE, message: 'the inference service is shutting down' };
            call.write({ id: request.id, prediction: undefined, modelVersion: '', error });
          } else {
            const prediction = wirePrediction('music.play');
            call.write({ id: request.id, prediction, modelVersion: FAKE_MODEL.version, error: undefined });
          }
        });
        call.on('end', () => call.end());
      },
    });
    const coalescing = client({ address: flaky.address });
    const answers = await Promise.all([
      coalescing.predict('set an alarm for 7'),
      coalescing.predict('wake me up at noon'),
    ]);
    assert.deepEqual(
      answers.map((answer) => [answer.prediction.intent, answer.version]),
      [
        ['alarm.set', FAKE_MODEL.version],
        ['alarm.set', FAKE_MODEL.version],
      ],
    );
    assert.equal(batchAttempts, 2, 'the server saw the failed attempt and the retry');
    assert.equal(coalescing.stats().calls, 1, 'one call for the client, two attempts on the wire');

    const alone = client({ address: flaky.address, coalesce: false });
    assert.equal((await alone.predict('play some jazz')).prediction.intent, 'music.play');
    assert.deepEqual(streamed, ['1:play some jazz', '2:play some jazz', '3:play some jazz']);
    assert.equal(alone.stats().calls, 3, 'three attempts');
  });

  it('client - closed while a text waits to be retried: it fails at once as closed, and nothing more is sent', async () => {
    let streams = 0;
    const down = await fake({
      classifyStream(call) {
        streams += 1;
        call.on('data', () => call.emit('error', { code: status.UNAVAILABLE, details: 'down' }));
      },
    });
    const closing = createInferenceClient({ address: down.address, coalesce: false, maxAttempts: 50 });
    const started = Date.now();
    const waiting = closing.predict('set an alarm for 7', { deadline: Date.now() + 30_000 });
    await waitFor(() => streams >= 3, 'a few attempts');
    closing.close();
    const sentBefore = closing.stats().calls;
    await assert.rejects(
      waiting,
      isInferenceError(InferenceErrorCode.Unavailable, /^the inference client was closed$/),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(closing.stats().calls, sentBefore, 'no attempt after close');
    assert.ok(Date.now() - started < 10_000, 'not left to its 30 s deadline');
  });

  it('client - a deadline months away, or none, is kept, coalesced or alone', async () => {
    for (const coalesce of [true, false]) {
      const patient = client({ coalesce });
      const texts = ['set an alarm for 7', 'play some jazz', 'weather in lima today'];
      const deadlines = [undefined, Date.now() + 60 * 86_400_000, Infinity];
      const answers = await Promise.all(
        texts.map((text, i) =>
          patient.predict(text, deadlines[i] === undefined ? {} : { deadline: deadlines[i] }),
        ),
      );
      assert.deepEqual(
        answers.map((answer) => answer.prediction.intent),
        texts.map((text) => EXPECTED[text]),
        `coalesce ${coalesce}`,
      );
      // Alone, one after the other: each on the stream.
      for (const [i, text] of texts.entries()) {
        const alone = await patient.predict(
          text,
          deadlines[i] === undefined ? {} : { deadline: deadlines[i] },
        );
        assert.equal(alone.prediction.intent, EXPECTED[text], `coalesce ${coalesce}, ${text}`);
      }
    }
  });

  it('client - with maxAttempts 1 an UNAVAILABLE call is not retried: unavailable', async () => {
    const attempts = { batch: 0, stream: 0 };
    const down = await fake({
      classifyBatch(_call, callback) {
        attempts.batch += 1;
        callback({ code: status.UNAVAILABLE, details: 'down for maintenance' }, null);
      },
      classifyStream(call) {
        call.on('data', () => {
          attempts.stream += 1;
          call.emit('error', { code: status.UNAVAILABLE, details: 'down for maintenance' });
        });
      },
    });
    const unavailable = isInferenceError(
      InferenceErrorCode.Unavailable,
      /is unavailable: down for maintenance/,
    );
    const pair = (caller: InferenceClient): Promise<unknown> =>
      Promise.all([caller.predict('set an alarm for 7'), caller.predict('wake me up at noon')]);
    const once = client({ address: down.address, maxAttempts: 1 });
    await assert.rejects(once.predict('set an alarm for 7'), unavailable);
    await assert.rejects(pair(once), unavailable);
    assert.deepEqual(attempts, { batch: 1, stream: 1 }, 'each call reached the server once');

    attempts.batch = attempts.stream = 0;
    const thrice = client({ address: down.address, maxAttempts: 3 });
    await assert.rejects(thrice.predict('set an alarm for 7'), unavailable);
    await assert.rejects(pair(thrice), unavailable);
    assert.deepEqual(attempts, { batch: 3, stream: 3 }, 'maxAttempts counts the first attempt');
    assert.throws(
      () => createInferenceClient({ address: down.address, maxAttempts: 0 }),
      /'maxAttempts' must be an integer >= 1, got 0/,
    );
  });

  it('client - a call the server never answers fails with deadline_exceeded after deadlineMs', async () => {
    let received = 0;
    const timeouts: number[] = [];
    const silent = await fake({
      classifyStream: (call) =>
        call.on('data', (request: nlu.ClassifyStreamRequest) => {
          received += 1;
          timeouts.push(request.timeoutMs);
        }),
    });
    for (const coalesce of [true, false]) {
      const patient = client({ address: silent.address, deadlineMs: 100, coalesce });
      const started = Date.now();
      await assert.rejects(
        patient.predict('set an alarm for 7'),
        isInferenceError(InferenceErrorCode.DeadlineExceeded),
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 90 && elapsed < 5000, `coalesce ${coalesce}: gave up after ${elapsed} ms`);
    }
    assert.equal(received, 2, 'each call reached the server (and was not retried)');
    assert.ok(
      timeouts.every((ms) => ms > 0 && ms <= 100),
      `each text told the server the time its caller waits: ${timeouts.join(', ')} ms`,
    );

    const closing = client({ address: silent.address, coalesce: false });
    const waiting = closing.predict('play some jazz');
    await waitFor(() => received === 3, 'the text to reach the server');
    closing.close();
    await assert.rejects(
      waiting,
      isInferenceError(InferenceErrorCode.Unavailable, /^the inference client was closed$/),
    );
  });

  it('client - a stream the server stopped answering costs one text: the next goes on a new stream, the silent one is cancelled', async () => {
    let streams = 0;
    const cancelled: number[] = [];
    const received: string[] = [];
    const stuck = await fake({
      classifyStream(call) {
        streams += 1;
        const stream = streams;
        call.on('cancelled', () => cancelled.push(stream));
        call.on('data', (request: nlu.ClassifyStreamRequest) => {
          received.push(`${stream}:${request.text}`);
          if (stream === 1) return; // this stream never answers; the connection stays up
          const prediction = wirePrediction('music.play');
          call.write({ id: request.id, prediction, modelVersion: FAKE_MODEL.version, error: undefined });
        });
        call.on('end', () => call.end());
      },
    });
    const alone = client({ address: stuck.address, coalesce: false, deadlineMs: 150 });
    await assert.rejects(
      alone.predict('set an alarm for 7'),
      isInferenceError(InferenceErrorCode.DeadlineExceeded),
    );
    assert.equal((await alone.predict('play some jazz')).prediction.intent, 'music.play');
    assert.equal((await alone.predict('play some blues')).prediction.intent, 'music.play');
    assert.deepEqual(received, ['1:set an alarm for 7', '2:play some jazz', '2:play some blues']);
    // grpc-js tells a server call 'cancelled' when it closes; this server never ends stream 1 itself.
    await waitFor(() => cancelled.includes(1), 'the silent stream to be cancelled');
    assert.deepEqual(cancelled, [1], 'the stream in use is kept');
  });

  it('client - a text that times out on a stream that still answers others keeps the stream', async () => {
    let streams = 0;
    const received: string[] = [];
    const slow = await fake({
      classifyStream(call) {
        streams += 1;
        const stream = streams;
        call.on('data', (request: nlu.ClassifyStreamRequest) => {
          received.push(`${stream}:${request.text}`);
          const prediction = wirePrediction('music.play');
          const answer = (): void =>
            void call.write({
              id: request.id,
              prediction,
              modelVersion: FAKE_MODEL.version,
              error: undefined,
            });
          if (request.text === 'a slow one') setTimeout(answer, 400);
          else answer();
        });
        call.on('end', () => call.end());
      },
    });
    const alone = client({ address: slow.address, coalesce: false });
    const hurried = alone.predict('a slow one', { deadline: Date.now() + 150 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await alone.predict('play some jazz')).prediction.intent, 'music.play');
    await assert.rejects(hurried, isInferenceError(InferenceErrorCode.DeadlineExceeded));
    assert.equal((await alone.predict('play some blues')).prediction.intent, 'music.play');
    assert.deepEqual(received, ['1:a slow one', '1:play some jazz', '1:play some blues']);
    assert.equal(streams, 1, 'the stream answered meanwhile, so it was kept');
  });

  it("client - a caller in a hurry gives up at its own deadline without cutting short the others' call", async () => {
    const batches: string[][] = [];
    const slow = await fake({
      classifyBatch: (call, callback) => {
        batches.push(call.request.texts);
        setTimeout(
          () =>
            callback(null, {
              predictions: call.request.texts.map(() => wirePrediction('alarm.set')),
              modelVersion: FAKE_MODEL.version,
            }),
          300,
        );
      },
    });
    const coalescing = client({ address: slow.address });
    await coalescing.ready();
    const started = Date.now();
    const hasty = coalescing.predict('set an alarm for 7', { deadline: Date.now() + 100 });
    const patient = coalescing.predict('wake me up at noon', { deadline: Date.now() + 5000 });
    await assert.rejects(hasty, isInferenceError(InferenceErrorCode.DeadlineExceeded));
    const gaveUpAfter = Date.now() - started;
    assert.ok(gaveUpAfter < 290, `the hasty caller gave up after ${gaveUpAfter} ms, at its own deadline`);
    assert.equal((await patient).prediction.intent, 'alarm.set');
    assert.deepEqual(batches, [['set an alarm for 7', 'wake me up at noon']], 'one coalesced call');
  });

  it('client - caches in memory and in Redis: a miss, then a hit; another client gets a Redis hit', async () => {
    const errors: unknown[] = [];
    const cacheOptions = {
      redis,
      prefix: PREFIX,
      ttlSeconds: 60,
      onError: (error: unknown) => errors.push(error),
    };
    const first = client({ cache: createPredictionCache(cacheOptions) });
    await first.ready();
    const text = 'set an alarm for 7';

    const fetched = await first.predict(text);
    assert.equal(fetched.prediction.intent, 'alarm.set');
    assert.deepEqual(first.stats().cache, {
      hits: 0,
      misses: 1,
      memoryHits: 0,
      redisHits: 0,
      hitRatio: 0,
      size: 1,
    });
    assert.equal(first.stats().calls, 1);
    assert.equal((await redis.keys(`${PREFIX}${models.v1.metadata.version}:*`)).length, 1, 'stored in Redis');

    const cached = await first.predict(text);
    assert.deepEqual(cached, fetched);
    assert.equal(first.stats().cache?.hits, 1);
    assert.equal(first.stats().cache?.memoryHits, 1);
    assert.equal(first.stats().calls, 1, 'a hit makes no gRPC call');

    const second = client({ cache: createPredictionCache(cacheOptions) });
    await second.ready();
    const shared = await second.predict(text);
    assert.deepEqual(shared, fetched);
    assert.equal(second.stats().cache?.redisHits, 1, 'answered from what the first client put in Redis');
    assert.equal(second.stats().calls, 0);

    const topThree = await second.predict(text, { topK: 3 });
    assert.equal(topThree.prediction.top.length, 3, 'a top-k other than 1 is not served from the cache');
    assert.equal(second.stats().calls, 1);
    assert.deepEqual(errors, []);
  });

  it('client - a model swap under load over gRPC fails no call, coalesced or alone', async () => {
    const own = await createInferenceEngine({ model: models.v1, threads: 2, maxBatch: 5 });
    const ownServer = await startInferenceServer({ engine: own, address: '127.0.0.1:0' });
    try {
      const v1 = models.v1.metadata.version;
      const v2 = models.v2.metadata.version;
      const callers = [
        client({ address: `127.0.0.1:${ownServer.port}` }),
        client({ address: `127.0.0.1:${ownServer.port}`, coalesce: false }),
      ];
      const versions: { version: string; startedAfterSwap: boolean }[] = [];
      const failures: unknown[] = [];
      let swapped = false;
      let stop = false;
      const loop = async (caller: InferenceClient, index: number): Promise<void> => {
        for (let i = index; !stop; i++) {
          const startedAfterSwap = swapped;
          try {
            const { version } = await caller.predict(TEXTS[i % TEXTS.length]!);
            versions.push({ version, startedAfterSwap });
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const loops = callers.flatMap((caller) => Array.from({ length: 8 }, (_, i) => loop(caller, i)));
      await waitFor(() => versions.length >= 300 || failures.length > 0, '300 answers before the swap');
      await own.swap(models.v2);
      swapped = true;
      const swappedAt = versions.length;
      await waitFor(
        () => versions.length >= swappedAt + 300 || failures.length > 0,
        '300 answers after the swap',
      );
      stop = true;
      await Promise.all(loops);

      assert.deepEqual(failures, [], 'no call failed across the swap');
      assert.ok(versions.slice(0, 300).every((answer) => answer.version === v1));
      const after = versions.filter((answer) => answer.startedAfterSwap);
      assert.ok(after.length >= 300);
      assert.ok(
        after.every((answer) => answer.version === v2),
        'every call made after swap() resolved is answered by v2',
      );
    } finally {
      await ownServer.shutdown(1000);
    }
  });

  it("client - follows WatchModel across a swap and never answers from the old version's cache", async () => {
    const own = await createInferenceEngine({ model: models.v1, threads: 1 });
    const ownServer = await startInferenceServer({ engine: own, address: '127.0.0.1:0' });
    try {
      const v1 = models.v1.metadata.version;
      const v2 = models.v2.metadata.version;
      const cache = createPredictionCache({ redis, prefix: PREFIX, ttlSeconds: 60 });
      const follower = client({ address: `127.0.0.1:${ownServer.port}`, cache });
      assert.equal((await follower.ready()).version, v1);
      const text = 'what time is it in paris';

      const old = await follower.predict(text);
      assert.equal(old.version, v1);
      assert.deepEqual(await follower.predict(text), old, 'cached under v1');
      assert.equal(cache.stats().hits, 1);

      await own.swap(models.v2);
      await waitFor(() => follower.model?.version === v2, 'the client to see v2 through WatchModel', 5000);
      const missesThen = cache.stats().misses;
      const callsThen = follower.stats().calls;

      const swapped = await follower.predict(text);
      assert.equal(swapped.version, v2, 'answered by v2, not from the v1 entry');
      assert.equal(cache.stats().misses, missesThen + 1, 'the v1 entry does not count for v2');
      assert.equal(follower.stats().calls, callsThen + 1);
      const direct = await own.predict(text);
      assert.equal(direct.version, v2);
      assert.ok(Math.abs(swapped.prediction.confidence - direct.prediction.confidence) <= INT8_TOLERANCE);
      assert.ok(
        Math.abs(swapped.prediction.confidence - old.prediction.confidence) > 3 * INT8_TOLERANCE,
        `v1 said ${old.prediction.confidence}, v2 says ${swapped.prediction.confidence}: not the old answer`,
      );
      assert.deepEqual(await follower.predict(text), swapped, 'then cached under v2');
    } finally {
      await ownServer.shutdown(1000);
    }
  });

  it('client - ready() rejects with a clear message when nothing listens, and calls are unavailable', async () => {
    const port = await unusedPort();
    const watchErrors: unknown[] = [];
    const lonely = client({
      address: `127.0.0.1:${port}`,
      deadlineMs: 1000,
      onError: (error) => watchErrors.push(error),
    });
    await assert.rejects(
      lonely.ready(300),
      isInferenceError(
        InferenceErrorCode.Unavailable,
        new RegExp(`at 127\\.0\\.0\\.1:${port} did not answer within 300 ms`),
      ),
    );
    assert.equal(lonely.model, undefined);
    await assert.rejects(
      lonely.predict('set an alarm for 7'),
      isInferenceError(
        'unavailable',
        new RegExp(`the inference service at 127\\.0\\.0\\.1:${port} is unavailable`),
      ),
    );
    assert.ok(watchErrors.length > 0, 'the failing model watch is reported to onError');
  });
});
