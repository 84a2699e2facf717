/**
 * Shared helpers of the inference service's tests: small real models in a temp registry, free ports,
 * polling, and promise wrappers around grpc-js callbacks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { nlu } from '../../proto/index.js';
import { syntheticDataset } from '../model/fixtures/synthetic-intents.js';
import { buildModel, openModelRegistry, type ModelEntry } from '../registry/index.js';
import type { InferenceEngine } from './engine.js';

/** Two versions of a small intent model (seeds 3 and 4), published in one registry. */
export interface TestModels {
  readonly v1: ModelEntry;
  readonly v2: ModelEntry;
}

/**
 * Trains two small models on the synthetic intents (4096 feature buckets, seeds 3 and 4) and publishes
 * both in a registry under `dir`; their versions differ.
 */
export async function buildTestModels(dir: string): Promise<TestModels> {
  const dataset = syntheticDataset();
  const registry = openModelRegistry(join(dir, 'registry'));
  const first = await buildModel(dataset, { seed: 3, features: { buckets: 2 ** 12 } });
  const v1 = await registry.publish(first.toPublish);
  const second = await buildModel(dataset, { seed: 4, features: { buckets: 2 ** 12 } });
  const v2 = await registry.publish(second.toPublish);
  if (v1.metadata.version === v2.metadata.version) {
    throw new Error(`the test models share version ${v1.metadata.version}`);
  }
  return { v1, v2 };
}

/** A fresh temp dir, removed on dispose. */
export async function tempDir(prefix: string): Promise<{ readonly path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** A loopback port nothing listens on: bound by the OS, then released. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no port was bound');
  return address.port;
}

/** Polls `condition` every 10 ms until it holds; throws `message` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, message: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A grpc-js unary call as a promise: `invoke` gets the callback to pass on. */
export function unaryCall<Res>(
  invoke: (callback: (error: ServiceError | null, response: Res) => void) => unknown,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Whether `error` is a grpc-js failure with status `code`. */
export function isServiceError(error: unknown, code: number): error is ServiceError {
  return error instanceof Error && 'code' in error && error.code === code;
}

/** Settles every promise and splits the results into answers and failures. */
export async function settle<T>(
  promises: readonly Promise<T>[],
): Promise<{ fulfilled: T[]; rejected: unknown[] }> {
  const results = await Promise.allSettled(promises);
  const fulfilled: T[] = [];
  const rejected: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') fulfilled.push(result.value);
    else rejected.push(result.reason);
  }
  return { fulfilled, rejected };
}

/**
 * `engine` with a `close()` that does nothing, so several servers can serve one engine: a server's
 * `shutdown()` closes its engine, and the test closes the real one once, in `after`.
 */
export function sharedEngine(engine: InferenceEngine): InferenceEngine {
  return {
    get model() {
      return engine.model;
    },
    maxTextChars: engine.maxTextChars,
    predict: (text, options) => engine.predict(text, options),
    predictBatch: (texts, options) => engine.predictBatch(texts, options),
    swap: (entry) => engine.swap(entry),
    onModelChange: (listener) => engine.onModelChange(listener),
    stats: () => engine.stats(),
    close: () => Promise.resolve(),
  };
}

/** What a fake server's `WatchModel` and `GetModel` say it serves. */
export const FAKE_MODEL: nlu.ModelInfo = {
  version: 'v1-fake0000',
  precision: 'int8',
  labels: ['alarm.set', 'music.play'],
  threshold: 0.5,
  createdAt: new Date(0),
  servingSince: new Date(0),
};

/** A fake `parley.v1.NluService` on a free loopback port (plaintext). */
export interface FakeNluServer {
  readonly port: number;
  readonly address: string;
  /** Cancels whatever is in flight and stops. */
  stop(): void;
}

/**
 * Starts a real grpc-js server with `handlers`; the methods not given answer UNIMPLEMENTED, except
 * `GetModel` and `WatchModel`, which describe {@link FAKE_MODEL} (the watch stays open).
 */
export async function startFakeNluServer(handlers: Partial<nlu.NluServiceServer>): Promise<FakeNluServer> {
  const unimplemented = (callback: (error: Partial<ServiceError>) => void): void =>
    callback({ code: status.UNIMPLEMENTED, details: 'not in this fake' });
  const service: nlu.NluServiceServer = {
    classify: (_call, callback) => unimplemented(callback),
    classifyBatch: (_call, callback) => unimplemented(callback),
    classifyStream: (call) => call.emit('error', { code: status.UNIMPLEMENTED, details: 'not in this fake' }),
    getModel: (_call, callback) => callback(null, { model: FAKE_MODEL }),
    watchModel: (call) => void call.write({ model: FAKE_MODEL }),
    ...handlers,
  };
  const server = new Server();
  server.addService(nlu.NluServiceService, service);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return { port, address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

/** A wire prediction of `intent` with probability `confidence`, for fake servers. */
export function wirePrediction(intent: string, confidence = 0.9): nlu.Prediction {
  return { intent, confidence, top: [{ intent, probability: confidence }] };
}
