import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { health, nlu } from '../../proto/index.js';
import { makeDevCertificates, type DevCertificates } from '../../test/testkit/index.js';
import { createInferenceClient } from './client.js';
import { createInferenceEngine, type InferenceEngine } from './engine.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import {
  buildTestModels,
  isServiceError,
  settle,
  sharedEngine,
  tempDir,
  unaryCall,
  waitFor,
  type TestModels,
} from './fixtures.js';
import { startInferenceServer, type InferenceServer } from './server.js';

const ServingStatus = health.HealthCheckResponse_ServingStatus;
/** Long enough never to fire in a passing test; short enough that a hung call fails the test. */
const CALL_DEADLINE_MS = 10_000;

const callOptions = (deadlineMs = CALL_DEADLINE_MS): { deadline: number } => ({
  deadline: Date.now() + deadlineMs,
});

function classify(
  client: nlu.NluServiceClient,
  request: Partial<nlu.ClassifyRequest> & { text: string },
  deadlineMs?: number,
): Promise<nlu.ClassifyResponse> {
  return unaryCall<nlu.ClassifyResponse>((callback) =>
    client.classify({ topK: 0, ...request }, new Metadata(), callOptions(deadlineMs), callback),
  );
}

function classifyBatch(
  client: nlu.NluServiceClient,
  texts: string[],
  topK = 0,
  deadlineMs?: number,
): Promise<nlu.ClassifyBatchResponse> {
  return unaryCall<nlu.ClassifyBatchResponse>((callback) =>
    client.classifyBatch({ texts, topK }, new Metadata(), callOptions(deadlineMs), callback),
  );
}

/** Asserts a grpc-js failure with `code` whose details match `details`. */
function failsWith(code: status, details?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isServiceError(error, code), `expected status ${status[code]}, got ${String(error)}`);
    if (details) assert.match(error.details, details);
    return true;
  };
}

/** The messages of a server stream until it ends (or fails: then `error` is set). */
function readAll<T>(stream: {
  on(event: 'data', listener: (message: T) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}): Promise<{ messages: T[]; error?: ServiceError }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    stream.on('data', (message) => messages.push(message));
    stream.on('end', () => resolve({ messages }));
    stream.on('error', (error) => resolve({ messages, error: error as ServiceError }));
  });
}

describe('inference server', () => {
  let dir: AsyncDisposable & { readonly path: string };
  let models: TestModels;
  let certs: DevCertificates;
  let engine: InferenceEngine;
  let server: InferenceServer;
  let address: string;
  let client: nlu.NluServiceClient;
  let healthClient: health.HealthClient;
  const closers: (() => unknown)[] = [];

  before(async () => {
    dir = await tempDir('parley-server-');
    [models, certs] = await Promise.all([buildTestModels(dir.path), makeDevCertificates()]);
    engine = await createInferenceEngine({ model: models.v1, threads: 1 });
    server = await startInferenceServer({
      engine: sharedEngine(engine),
      address: '127.0.0.1:0',
      maxBatchTexts: 8,
    });
    address = `127.0.0.1:${server.port}`;
    client = new nlu.NluServiceClient(address, credentials.createInsecure());
    healthClient = new health.HealthClient(address, credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    healthClient?.close();
    for (const close of closers.reverse()) await close();
    await server?.shutdown(1000);
    await engine?.close();
    await certs?.[Symbol.asyncDispose]();
    await dir?.[Symbol.asyncDispose]();
  });

  /** A server on `engine` (not closed by its shutdown), shut down in `after`. */
  async function startServer(
    options: Partial<Parameters<typeof startInferenceServer>[0]> = {},
  ): Promise<InferenceServer> {
    const started = await startInferenceServer({
      engine: sharedEngine(engine),
      address: '127.0.0.1:0',
      ...options,
    });
    closers.push(() => started.shutdown(1000));
    return started;
  }

  function rawClient(port: number, channel: ChannelCredentials): nlu.NluServiceClient {
    const raw = new nlu.NluServiceClient(`127.0.0.1:${port}`, channel);
    closers.push(() => raw.close());
    return raw;
  }

  it('server - health Check: SERVING for the server and the NLU service, NOT_FOUND for another', async () => {
    for (const service of ['', 'parley.v1.NluService']) {
      const response = await unaryCall<health.HealthCheckResponse>((callback) =>
        healthClient.check({ service }, new Metadata(), callOptions(), callback),
      );
      assert.equal(response.status, ServingStatus.SERVING, `service '${service}'`);
    }
    await assert.rejects(
      unaryCall<health.HealthCheckResponse>((callback) =>
        healthClient.check({ service: 'parley.v1.Nope' }, new Metadata(), callOptions(), callback),
      ),
      failsWith(status.NOT_FOUND, /unknown service 'parley.v1.Nope'/),
    );
  });

  it('server - Classify answers with the prediction and the version that made it', async () => {
    const version = models.v1.metadata.version;
    const alarm = await classify(client, { text: 'set an alarm for 7' });
    assert.equal(alarm.modelVersion, version);
    assert.equal(alarm.prediction?.intent, 'alarm.set');
    assert.equal(alarm.prediction?.top.length, 1, 'top_k 0 means 1');
    assert.equal(alarm.prediction?.confidence, alarm.prediction?.top[0]?.probability);

    const three = await classify(client, { text: 'play some jazz', topK: 3 });
    assert.equal(three.prediction?.intent, 'music.play');
    assert.equal(three.prediction?.top.length, 3);
    const probabilities = three.prediction?.top.map((score) => score.probability) ?? [];
    assert.deepEqual(
      probabilities,
      [...probabilities].sort((a, b) => b - a),
      'most likely first',
    );

    const empty = await classify(client, { text: '' });
    assert.deepEqual(empty.prediction, { intent: '', confidence: 0, top: [] }, 'out of scope travels as ""');
    assert.equal(empty.modelVersion, version);
  });

  it('server - ClassifyBatch answers every text in order; more than maxBatchTexts is INVALID_ARGUMENT', async () => {
    const texts = [
      'set an alarm for 7',
      'play some jazz',
      'what time is it in paris',
      '',
      'weather in lima today',
      'wake me up at noon',
      'put on the beatles',
      'is it going to rain in cairo',
    ];
    const response = await classifyBatch(client, texts, 2);
    assert.equal(response.modelVersion, models.v1.metadata.version);
    assert.deepEqual(
      response.predictions.map((prediction) => prediction.intent),
      [
        'alarm.set',
        'music.play',
        'time.current',
        '',
        'weather.today',
        'alarm.set',
        'music.play',
        'weather.today',
      ],
    );
    for (const [i, prediction] of response.predictions.entries()) {
      assert.equal(prediction.top.length, texts[i] === '' ? 0 : 2, `text ${i}`);
    }

    const requestsBefore = engine.stats().requests;
    await assert.rejects(
      classifyBatch(client, [...texts, 'one too many']),
      failsWith(status.INVALID_ARGUMENT, /the batch has 9 texts; the limit is 8/),
    );
    await assert.rejects(classifyBatch(client, []), failsWith(status.INVALID_ARGUMENT, /no texts/));
    assert.equal(engine.stats().requests, requestsBefore, 'refused batches reach no model');
  });

  it('server - top_k 11 and a too-long text are INVALID_ARGUMENT', async () => {
    await assert.rejects(
      classify(client, { text: 'hello', topK: 11 }),
      failsWith(status.INVALID_ARGUMENT, /top_k must be 1 to 10, got 11/),
    );
    await assert.rejects(
      classifyBatch(client, ['hello'], 11),
      failsWith(status.INVALID_ARGUMENT, /top_k must be 1 to 10/),
    );
    await assert.rejects(
      classify(client, { text: 'x'.repeat(5000) }),
      failsWith(status.INVALID_ARGUMENT, /5000 characters long; the limit is 4096/),
    );
    const ten = await classify(client, { text: 'hello', topK: 10 });
    assert.equal(ten.prediction?.top.length, models.v1.metadata.labels.length, 'top_k 10 is fine');
  });

  it('server - a request that is not valid protobuf, or whose text is not UTF-8, is INVALID_ARGUMENT saying which', async () => {
    // Requests as raw bytes, the way a client with another protobuf library (or a bug) could send them.
    const raw = new Client(address, credentials.createInsecure());
    closers.push(() => raw.close());
    const send = (method: string, bytes: Buffer): Promise<Buffer | undefined> =>
      unaryCall<Buffer | undefined>((callback) =>
        raw.makeUnaryRequest(
          `/parley.v1.NluService/${method}`,
          (request: Buffer) => request,
          (response: Buffer) => response,
          bytes,
          new Metadata(),
          callOptions(),
          callback,
        ),
      );
    // Field 1 (text / texts), length-delimited: 0x0a, length, bytes.
    const field1 = (bytes: number[]): number[] => [0x0a, bytes.length, ...bytes];
    const notUtf8 = [0x68, 0x69, 0xff, 0xfe, 0xc3, 0x28];
    const hello = [...Buffer.from('hello')];

    await assert.rejects(
      send('Classify', Buffer.from(field1(notUtf8))),
      failsWith(status.INVALID_ARGUMENT, /^the request's text is not valid UTF-8$/),
    );
    await assert.rejects(
      send('ClassifyBatch', Buffer.from([...field1(hello), ...field1(notUtf8)])),
      failsWith(status.INVALID_ARGUMENT, /^the request's texts is not valid UTF-8$/),
    );
    await assert.rejects(
      send('Classify', Buffer.from([0x0a, 0x05, 0x68])),
      failsWith(status.INVALID_ARGUMENT, /^the request is not a valid ClassifyRequest message \(.+\)$/),
    );
    // U+FFFD sent as such is valid UTF-8, and a text like any other.
    const replacement = nlu.ClassifyResponse.decode(
      (await send('Classify', Buffer.from(field1([...Buffer.from('hello \uFFFD')]))))!,
    );
    assert.equal(replacement.modelVersion, models.v1.metadata.version);

    // On a stream the refused request is answered in place, under its id; the others run.
    const stream = raw.makeBidiStreamRequest(
      '/parley.v1.NluService/ClassifyStream',
      (request: Buffer) => request,
      (response: Buffer) => nlu.ClassifyStreamResponse.decode(response),
      new Metadata(),
      callOptions(),
    );
    const done = readAll<nlu.ClassifyStreamResponse>(stream);
    stream.write(
      Buffer.from(
        nlu.ClassifyStreamRequest.encode({ id: 1, text: 'play some jazz', topK: 1, timeoutMs: 0 }).finish(),
      ),
    );
    // id 2 (field 1, varint), then field 2 (text), length-delimited.
    stream.write(Buffer.from([0x08, 0x02, 0x12, notUtf8.length, ...notUtf8]));
    stream.end();
    const { messages, error } = await done;
    assert.equal(error, undefined);
    const byId = new Map(messages.map((message) => [message.id, message]));
    assert.equal(byId.get(1)?.prediction?.intent, 'music.play');
    assert.equal(byId.get(2)?.error?.code, status.INVALID_ARGUMENT);
    assert.equal(byId.get(2)?.error?.message, "the request's text is not valid UTF-8");
  });

  it('server - ClassifyStream echoes ids, answers every request, reports a failure in place, and ends after the client', async () => {
    const stream = client.classifyStream(callOptions());
    const done = readAll<nlu.ClassifyStreamResponse>(stream);
    const sent = new Map<number, string>();
    const texts = [
      'set an alarm for 7',
      'play some jazz',
      'what time is it in paris',
      'weather in lima today',
    ];
    for (let i = 0; i < 40; i++) {
      const id = 1000 + i * 7;
      const text = texts[i % texts.length]!;
      sent.set(id, text);
      stream.write({ id, text, topK: 2, timeoutMs: 0 });
    }
    stream.write({ id: 5, text: 'hello', topK: 11, timeoutMs: 0 });
    stream.end();
    const { messages, error } = await done;
    assert.equal(error, undefined, 'the stream ends with OK');
    assert.equal(messages.length, sent.size + 1, 'one answer per request, then the end');

    const failed = messages.find((message) => message.id === 5);
    assert.equal(failed?.prediction, undefined);
    assert.equal(failed?.error?.code, status.INVALID_ARGUMENT);
    assert.match(failed?.error?.message ?? '', /top_k must be 1 to 10/);

    const answered = messages.filter((message) => message.id !== 5);
    assert.deepEqual(new Set(answered.map((message) => message.id)), new Set(sent.keys()));
    const expected: Record<string, string> = {
      'set an alarm for 7': 'alarm.set',
      'play some jazz': 'music.play',
      'what time is it in paris': 'time.current',
      'weather in lima today': 'weather.today',
    };
    for (const message of answered) {
      assert.equal(message.error, undefined);
      assert.equal(message.modelVersion, models.v1.metadata.version);
      assert.equal(message.prediction?.intent, expected[sent.get(message.id)!], `id ${message.id}`);
      assert.equal(message.prediction?.top.length, 2);
    }
  });

  it('server - GetModel describes the served model', async () => {
    const { model } = await unaryCall<nlu.GetModelResponse>((callback) =>
      client.getModel({}, new Metadata(), callOptions(), callback),
    );
    assert.ok(model);
    assert.equal(model.version, models.v1.metadata.version);
    assert.equal(model.precision, 'int8');
    assert.deepEqual(model.labels, engine.model.labels);
    assert.deepEqual([...model.labels].sort(), [...models.v1.metadata.labels].sort());
    assert.equal(model.threshold, Math.fround(engine.model.threshold), 'the threshold travels as a float');
    assert.ok(model.threshold > 0 && model.threshold < 1);
    assert.equal(model.createdAt?.getTime(), new Date(models.v1.metadata.createdAt).getTime());
    assert.ok(model.servingSince instanceof Date && model.servingSince.getTime() <= Date.now());
  });

  it('server - a deadline that passes while the worker is busy is DEADLINE_EXCEEDED, and not run', async () => {
    const busy = await createInferenceEngine({ model: models.v1, threads: 1, maxBatch: 1 });
    const busyServer = await startInferenceServer({ engine: busy, address: '127.0.0.1:0' });
    const raw = rawClient(busyServer.port, credentials.createInsecure());
    try {
      // 4,000 texts one at a time keep the single worker busy for well over a second.
      const texts = Array.from({ length: 4000 }, (_, i) => `set an alarm for ${i % 12} please`);
      const big = classifyBatch(raw, texts, 1, 60_000);
      await waitFor(() => busy.stats().queued > 1000, 'the big batch is queued');

      await assert.rejects(
        classify(raw, { text: 'set an alarm for 7' }, 1),
        failsWith(status.DEADLINE_EXCEEDED),
      );
      await assert.rejects(
        classify(raw, { text: 'set an alarm for 7' }, 50),
        failsWith(status.DEADLINE_EXCEEDED),
      );
      // On a stream each request carries its own timeout; the stream itself has none.
      const stream = raw.classifyStream();
      const done = readAll<nlu.ClassifyStreamResponse>(stream);
      stream.write({ id: 1, text: 'set an alarm for 7', topK: 1, timeoutMs: 1 });
      stream.write({ id: 2, text: 'wake me up at noon', topK: 1, timeoutMs: 50 });
      stream.end();
      const streamed = await done;
      assert.equal(streamed.error, undefined);
      assert.deepEqual(
        streamed.messages.map(({ id, error }) => ({ id, code: error?.code })).sort((a, b) => a.id - b.id),
        [
          { id: 1, code: status.DEADLINE_EXCEEDED },
          { id: 2, code: status.DEADLINE_EXCEEDED },
        ],
      );
      const answered = await big;
      assert.equal(answered.predictions.length, texts.length, 'the big batch itself is answered');
      await waitFor(() => busy.stats().expired >= 3, 'the server dropped the expired requests');
      assert.equal(busy.stats().batches, texts.length, 'only the big batch ran: the late requests never did');
    } finally {
      await busyServer.shutdown(1000);
    }
  });

  it('server - a flooded queue answers RESOURCE_EXHAUSTED with a clear message, and the rest succeed', async () => {
    const small = await createInferenceEngine({ model: models.v1, threads: 1, maxQueue: 4 });
    const smallServer = await startInferenceServer({ engine: small, address: '127.0.0.1:0' });
    const raw = rawClient(smallServer.port, credentials.createInsecure());
    try {
      const texts = [
        'set an alarm for 7',
        'play some jazz',
        'what time is it in paris',
        'weather in lima today',
      ];
      const { fulfilled, rejected } = await settle(
        Array.from({ length: 60 }, () => classifyBatch(raw, texts)),
      );
      assert.ok(rejected.length > 0, 'some calls found the queue full');
      assert.ok(fulfilled.length > 0, 'some calls were answered');
      for (const error of rejected) {
        failsWith(
          status.RESOURCE_EXHAUSTED,
          /the inference queue is full \(\d+ of 4 waiting\); try again later/,
        )(error);
      }
      for (const response of fulfilled) {
        assert.deepEqual(
          response.predictions.map((prediction) => prediction.intent),
          ['alarm.set', 'music.play', 'time.current', 'weather.today'],
        );
      }
      assert.equal(small.stats().rejected, rejected.length * texts.length);
    } finally {
      await smallServer.shutdown(1000);
    }
  });

  it('server - TLS: a client that trusts the CA is served', async () => {
    const tlsServer = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const raw = rawClient(tlsServer.port, credentials.createSsl(certs.ca));
    const response = await classify(raw, { text: 'set an alarm for 7' });
    assert.equal(response.prediction?.intent, 'alarm.set');

    const inference = createInferenceClient({
      address: `127.0.0.1:${tlsServer.port}`,
      tls: { ca: certs.ca },
    });
    closers.push(() => inference.close());
    assert.equal((await inference.predict('play some jazz')).prediction.intent, 'music.play');

    const plaintext = rawClient(tlsServer.port, credentials.createInsecure());
    await assert.rejects(classify(plaintext, { text: 'hello' }), failsWith(status.UNAVAILABLE));
  });

  it('server - mutual TLS: a client certificate signed by the CA is required', async () => {
    await assert.rejects(
      startInferenceServer({
        engine: sharedEngine(engine),
        address: '127.0.0.1:0',
        tls: { cert: certs.serverCert, key: certs.serverKey, requireClientCert: true },
      }),
      /mutual TLS needs the CA/,
    );
    const mtlsServer = await startServer({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true },
    });

    const withCertificate = rawClient(
      mtlsServer.port,
      credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert),
    );
    const response = await classify(withCertificate, { text: 'set an alarm for 7' });
    assert.equal(response.prediction?.intent, 'alarm.set');

    const inference = createInferenceClient({
      address: `127.0.0.1:${mtlsServer.port}`,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
    closers.push(() => inference.close());
    assert.equal((await inference.predict('play some jazz')).prediction.intent, 'music.play');

    const withoutCertificate = rawClient(mtlsServer.port, credentials.createSsl(certs.ca));
    await assert.rejects(classify(withoutCertificate, { text: 'hello' }), failsWith(status.UNAVAILABLE));
    const plaintext = rawClient(mtlsServer.port, credentials.createInsecure());
    await assert.rejects(classify(plaintext, { text: 'hello' }), failsWith(status.UNAVAILABLE));

    const anonymous = createInferenceClient({
      address: `127.0.0.1:${mtlsServer.port}`,
      tls: { ca: certs.ca },
      maxAttempts: 2,
    });
    closers.push(() => anonymous.close());
    await assert.rejects(
      anonymous.predict('hello'),
      (error: unknown) => error instanceof InferenceError && error.code === InferenceErrorCode.Unavailable,
    );
  });

  describe('lifecycle', () => {
    let own: InferenceEngine;
    let ownServer: InferenceServer;
    let ownClient: nlu.NluServiceClient;
    let ownHealth: health.HealthClient;

    before(async () => {
      own = await createInferenceEngine({ model: models.v1, threads: 1 });
      ownServer = await startInferenceServer({ engine: own, address: '127.0.0.1:0' });
      ownClient = new nlu.NluServiceClient(`127.0.0.1:${ownServer.port}`, credentials.createInsecure());
      ownHealth = new health.HealthClient(`127.0.0.1:${ownServer.port}`, credentials.createInsecure());
    });

    after(async () => {
      ownClient?.close();
      ownHealth?.close();
      await ownServer?.shutdown(1000); // closes `own`; a second shutdown does nothing
    });

    it('server - WatchModel sends the served model, then the new one after a swap', async () => {
      const watch = ownClient.watchModel({});
      const seen: string[] = [];
      watch.on('data', (response: nlu.WatchModelResponse) => seen.push(response.model?.version ?? '?'));
      watch.on('error', () => undefined);
      try {
        await waitFor(() => seen.length === 1, 'the first WatchModel message');
        assert.deepEqual(seen, [models.v1.metadata.version]);
        await own.swap(models.v2);
        await waitFor(() => seen.length === 2, 'the WatchModel message after the swap');
        assert.deepEqual(seen, [models.v1.metadata.version, models.v2.metadata.version]);
        const answer = await classify(ownClient, { text: 'set an alarm for 7' });
        assert.equal(answer.modelVersion, models.v2.metadata.version);
      } finally {
        watch.cancel();
      }
    });

    it('server - shutdown turns health NOT_SERVING on Watch, ends the streams and closes the engine', async () => {
      const watchAll = ownHealth.watch({ service: '' });
      const watchNlu = ownHealth.watch({ service: 'parley.v1.NluService' });
      const watchUnknown = ownHealth.watch({ service: 'parley.v1.Nope' });
      const watchModel = ownClient.watchModel({});
      const [all, nluStatus, unknown, modelDone] = [
        readAll<health.HealthCheckResponse>(watchAll),
        readAll<health.HealthCheckResponse>(watchNlu),
        readAll<health.HealthCheckResponse>(watchUnknown),
        readAll<nlu.WatchModelResponse>(watchModel),
      ];
      const statuses: health.HealthCheckResponse_ServingStatus[] = [];
      watchAll.on('data', (response: health.HealthCheckResponse) => statuses.push(response.status));
      await waitFor(() => statuses.length === 1, 'the first health Watch message');
      assert.deepEqual(statuses, [ServingStatus.SERVING]);

      // A ClassifyStream open at shutdown answers what it was sent, then the server ends it.
      const stream = ownClient.classifyStream();
      const streamDone = readAll<nlu.ClassifyStreamResponse>(stream);
      const texts = ['set an alarm for 7', 'play some jazz', 'weather in lima today'];
      for (const [id, text] of texts.entries()) stream.write({ id, text, topK: 1, timeoutMs: 0 });
      await new Promise((resolve) => setTimeout(resolve, 100));

      const shutdownStarted = Date.now();
      const shutdown = ownServer.shutdown(30_000);
      for (const [i, text] of texts.entries()) stream.write({ id: 10 + i, text, topK: 1, timeoutMs: 0 });
      await shutdown;
      const shutdownMs = Date.now() - shutdownStarted;
      assert.ok(shutdownMs < 10_000, `shutdown took ${shutdownMs} ms: it did not wait out the grace period`);
      const streamed = await streamDone;
      assert.equal(streamed.error, undefined, 'the server ended the stream with OK, the client never did');
      for (const id of [0, 1, 2]) {
        const answer = streamed.messages.find((message) => message.id === id);
        assert.equal(answer?.error, undefined, `request ${id}, sent before shutdown, is answered`);
        assert.ok(answer?.prediction?.intent);
      }
      for (const answer of streamed.messages.filter((message) => message.id >= 10)) {
        assert.equal(answer.error?.code, status.UNAVAILABLE, 'refused while draining, to be sent elsewhere');
        assert.equal(answer.error?.message, 'the inference service is shutting down');
      }

      const ended = await Promise.all([all, nluStatus, unknown, modelDone]);
      for (const stream of ended) assert.equal(stream.error, undefined, 'each stream ends with OK');
      assert.deepEqual(
        ended[0].messages.map((message) => message.status),
        [ServingStatus.SERVING, ServingStatus.NOT_SERVING],
      );
      assert.deepEqual(
        ended[1].messages.map((message) => message.status),
        [ServingStatus.SERVING, ServingStatus.NOT_SERVING],
      );
      assert.equal(ended[2].messages[0]?.status, ServingStatus.SERVICE_UNKNOWN);
      assert.equal(ended[3].messages.length, 1);

      await assert.rejects(
        own.predict('hello'),
        (error: unknown) => error instanceof InferenceError && error.code === InferenceErrorCode.ShuttingDown,
        'shutdown closed the engine',
      );
      await assert.rejects(classify(ownClient, { text: 'hello' }, 2000), failsWith(status.UNAVAILABLE));
    });
  });
});
