/**
 * The inference service's client, as the conversation actors use it (it is an {@link IntentClassifier}).
 *
 * - Concurrent single-text calls are coalesced into `ClassifyBatch` calls (one gRPC call costs far more
 *   than one more text in it): at most `maxInFlight` calls at a time, the texts that arrive meanwhile go
 *   together in the next one. `coalesce: false` sends each text alone. When the service refuses a
 *   coalesced call for one text (too long), each text is asked alone, so only that text's caller fails.
 * - A text that goes alone is a message on one long-lived `ClassifyStream` (`classify-stream.ts`: a
 *   fraction of a unary call's cost and tail latency); one over {@link STREAM_MAX_CHARS} characters is a
 *   unary `Classify` instead, so that a message the server refuses as too large fails only its own caller.
 * - Every call has a deadline; calls failing with UNAVAILABLE are retried with exponential backoff (unary
 *   calls by grpc-js's retry policy); idle connections are kept alive with pings. A coalesced call runs
 *   to the latest deadline of its callers, and each caller gives up at its own.
 * - An optional {@link PredictionCache} answers repeated texts. Its keys hold the model version, and the
 *   client follows the served version through `WatchModel`, which the server pushes as it swaps: once
 *   that arrives, answers of the old model are never served. While the watch is down the cache is bypassed.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { nlu } from '../../proto/index.js';
import type { IntentClassifier } from '../classifier.js';
import { createBatcher, type Batcher, type BatcherStats } from './batcher.js';
import type { CacheStats, PredictionCache } from './cache.js';
import { classificationOf } from './classification.js';
import { classifyStreamOf, createStreamedClassifier } from './classify-stream.js';
import { fromServiceError, InferenceError, InferenceErrorCode, notAnsweredInTime } from './errors.js';
import { settleWithin } from './settle-within.js';
import { channelCredentials, type ClientTls } from './tls.js';
import type { Prediction, PredictOptions, ServedModel, VersionedPrediction } from './types.js';
import { modelFromWire, predictionFromWire } from './wire.js';

export interface CoalesceOptions {
  /** Most texts in one `ClassifyBatch`. @default 256 */
  readonly maxBatch?: number;
  /** Most `ClassifyBatch` calls in flight. @default 2 */
  readonly maxInFlight?: number;
}

export interface InferenceClientOptions {
  /** `host:port` of `parley serve inference`. */
  readonly address: string;
  /** TLS (and a client certificate for mutual TLS); plaintext when absent. */
  readonly tls?: ClientTls;
  /** Deadline of each call. @default 2000 */
  readonly deadlineMs?: number;
  /** Attempts of a call failing with UNAVAILABLE, the first included (grpc-js retry policy). @default 3 */
  readonly maxAttempts?: number;
  /** Keepalive ping interval on the connection. @default 30_000 */
  readonly keepaliveMs?: number;
  /** Coalescing of concurrent calls into batches. @default on */
  readonly coalesce?: boolean | CoalesceOptions;
  readonly cache?: PredictionCache;
  /** Told when the model watch fails (the client retries it). */
  readonly onError?: (error: unknown) => void;
}

export interface InferenceClientStats {
  /** Requests sent: gRPC calls, and texts on the stream (a batch counts once, a retry again). */
  readonly calls: number;
  readonly cache: CacheStats | undefined;
  /** The coalescing queue, when on. */
  readonly coalescing: BatcherStats | undefined;
}

export interface InferenceClient extends IntentClassifier {
  predict(text: string, options?: PredictOptions): Promise<VersionedPrediction>;
  predictBatch(
    texts: readonly string[],
    options?: PredictOptions,
  ): Promise<{ predictions: Prediction[]; version: string }>;
  getModel(): Promise<ServedModel>;
  /** The served model as `WatchModel` last told, `undefined` while the watch is down. */
  readonly model: ServedModel | undefined;
  /** Resolves with the served model once the watch has it (rejects after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<ServedModel>;
  stats(): InferenceClientStats;
  close(): void;
}

interface Queued {
  readonly text: string;
  readonly topK: number;
  readonly deadline: number;
}

const WATCH_RETRY_MS = 500;
/**
 * Longest text sent on the stream, in UTF-16 units (at most 12 KiB of UTF-8): far below any size limit a
 * server sets (grpc-js's default is 4 MiB), which would fail the whole stream and every text on it.
 */
export const STREAM_MAX_CHARS = 4096;

export function createInferenceClient(options: InferenceClientOptions): InferenceClient {
  const deadlineMs = options.deadlineMs ?? 2000;
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`inference client option 'maxAttempts' must be an integer >= 1, got ${maxAttempts}`);
  }
  const keepaliveMs = options.keepaliveMs ?? 30_000;
  const { cache } = options;
  const stub = new nlu.NluServiceClient(options.address, channelCredentials(options.tls), {
    'grpc.keepalive_time_ms': keepaliveMs,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_retries': 1,
    'grpc.service_config': JSON.stringify({
      methodConfig: [
        {
          // The unary methods; texts on the stream are retried by `classify-stream.ts`, one by one.
          name: ['Classify', 'ClassifyBatch', 'GetModel'].map((method) => ({
            service: 'parley.v1.NluService',
            method,
          })),
          // grpc-js refuses a retry policy of fewer than 2 attempts: one attempt is no policy at all.
          ...(maxAttempts > 1 && {
            retryPolicy: {
              maxAttempts,
              initialBackoff: '0.05s',
              maxBackoff: '1s',
              backoffMultiplier: 2,
              retryableStatusCodes: ['UNAVAILABLE'],
            },
          }),
        },
      ],
    }),
  });
  let calls = 0;
  let closed = false;
  let model: ServedModel | undefined;
  let modelWaiters: ((model: ServedModel) => void)[] = [];

  const deadlineOf = (predictOptions: PredictOptions): number =>
    predictOptions.deadline ?? Date.now() + deadlineMs;

  const unary = <Res>(
    invoke: (
      metadata: Metadata,
      options: { deadline: number },
      callback: (error: ServiceError | null, response: Res) => void,
    ) => unknown,
    deadline: number,
  ): Promise<Res> => {
    calls += 1;
    return new Promise((resolve, reject) => {
      invoke(new Metadata(), { deadline }, (error, response) =>
        error ? reject(fromServiceError(error, options.address)) : resolve(response),
      );
    });
  };

  const classifyBatch = async (
    texts: readonly string[],
    topK: number,
    deadline: number,
  ): Promise<{ predictions: Prediction[]; version: string }> => {
    const response = await unary<nlu.ClassifyBatchResponse>(
      (metadata, callOptions, callback) =>
        stub.classifyBatch({ texts: [...texts], topK }, metadata, callOptions, callback),
      deadline,
    );
    if (response.predictions.length !== texts.length) {
      throw new InferenceError(
        InferenceErrorCode.Unavailable,
        `the inference service answered ${response.predictions.length} of ${texts.length} texts`,
      );
    }
    return { predictions: response.predictions.map(predictionFromWire), version: response.modelVersion };
  };

  const streamed = createStreamedClassifier({
    open: classifyStreamOf(stub),
    address: options.address,
    maxAttempts,
  });

  const classifyOne = async (text: string, topK: number, deadline: number): Promise<VersionedPrediction> => {
    if (text.length <= STREAM_MAX_CHARS) return streamed.classify(text, topK, deadline);
    const response = await unary<nlu.ClassifyResponse>(
      (metadata, callOptions, callback) => stub.classify({ text, topK }, metadata, callOptions, callback),
      deadline,
    );
    return { prediction: predictionFromWire(response.prediction), version: response.modelVersion };
  };

  /**
   * Texts of several callers in one `ClassifyBatch`. When the service refuses it, the callers whose texts
   * only shared the call are not failed with it: a batch over the service's size limit goes again in
   * batches of that size, and otherwise (one text too long, say) each text is asked alone, so each caller
   * gets its own answer.
   */
  const classifyCoalesced = async (
    items: readonly Queued[],
  ): Promise<Array<VersionedPrediction | InferenceError>> => {
    // The latest of the callers' deadlines: each caller gives up at its own (see `fetch`), and one in a
    // hurry must not cut the call short for the others.
    const deadline = Math.max(...items.map((item) => item.deadline));
    if (items.length === 1) return [await classifyOne(items[0]!.text, items[0]!.topK, deadline)];
    try {
      const { predictions, version } = await classifyBatch(
        items.map((item) => item.text),
        items[0]!.topK,
        deadline,
      );
      return predictions.map((prediction) => ({ prediction, version }));
    } catch (error) {
      if (!isRefusal(error) || items.length === 1) throw error;
      const limit = /the batch has \d+ texts; the limit is (\d+)/.exec((error as Error).message)?.[1];
      if (limit !== undefined && Number(limit) >= 1 && Number(limit) < items.length) {
        const size = Number(limit);
        const chunks = Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
          items.slice(i * size, (i + 1) * size),
        );
        return (await Promise.all(chunks.map(classifyCoalesced))).flat();
      }
      return Promise.all(
        items.map((item) =>
          classifyOne(item.text, item.topK, item.deadline).catch((alone: unknown) => {
            if (alone instanceof InferenceError) return alone;
            throw alone;
          }),
        ),
      );
    }
  };

  const coalesce = options.coalesce ?? true;
  // A coalesced call answers each caller with its prediction, or with the error of its own text.
  const batcher: Batcher<Queued, VersionedPrediction | InferenceError> | undefined =
    coalesce === false
      ? undefined
      : createBatcher<Queued, VersionedPrediction | InferenceError>({
          concurrency: (coalesce === true ? undefined : coalesce.maxInFlight) ?? 2,
          maxBatch: (coalesce === true ? undefined : coalesce.maxBatch) ?? 256,
          handoff: 0,
          // Callers answered by one ClassifyBatch ask again in the same microtasks: one batch, not 1 + the rest.
          deferDispatch: true,
          maxQueue: 65_536,
          compatible: (a, b) => a.topK === b.topK,
          run: (items) => classifyCoalesced(items),
        });

  const fetch = async (text: string, predictOptions: PredictOptions): Promise<VersionedPrediction> => {
    const topK = predictOptions.topK ?? 1;
    const deadline = deadlineOf(predictOptions);
    if (!batcher) return classifyOne(text, topK, deadline);
    // Not sent at all once its deadline passed in the queue (the batcher's clock is monotonic).
    const queued = batcher.submit(
      { text, topK, deadline },
      { deadline: performance.now() + deadline - Date.now() },
    );
    const answer = await settleWithin(queued, Math.max(0, deadline - Date.now()), notAnsweredInTime);
    if (answer instanceof InferenceError) throw answer;
    return answer;
  };

  // Follow the served model: the cache is only consulted under a version the watch confirmed.
  const watch = (): void => {
    if (closed) return;
    const call = stub.watchModel({}, { deadline: Infinity });
    call.on('data', (response: nlu.WatchModelResponse) => {
      try {
        model = modelFromWire(response.model);
      } catch (error) {
        options.onError?.(error);
        return;
      }
      const waiters = modelWaiters;
      modelWaiters = [];
      for (const wake of waiters) wake(model);
    });
    const retry = (error?: unknown): void => {
      call.removeAllListeners();
      call.on('error', () => undefined);
      model = undefined;
      if (closed) return;
      if (error) options.onError?.(error);
      setTimeout(watch, WATCH_RETRY_MS).unref();
    };
    call.on('error', (error) => retry(error));
    call.on('end', () => retry());
    watchCall = call;
  };
  let watchCall: ReturnType<typeof stub.watchModel> | undefined;
  watch();

  const client: InferenceClient = {
    get model() {
      return model;
    },
    async predict(text, predictOptions = {}) {
      const cacheable = cache !== undefined && (predictOptions.topK ?? 1) === 1;
      const version = model?.version;
      if (cacheable && version !== undefined) {
        const cached = await cache.get(version, text);
        if (cached) return { prediction: cached, version };
      }
      const answer = await fetch(text, predictOptions);
      if (cacheable) await cache.set(answer.version, text, answer.prediction);
      return answer;
    },
    predictBatch(texts, predictOptions = {}) {
      return classifyBatch(texts, predictOptions.topK ?? 1, deadlineOf(predictOptions));
    },
    async getModel() {
      const response = await unary<nlu.GetModelResponse>(
        (metadata, callOptions, callback) => stub.getModel({}, metadata, callOptions, callback),
        Date.now() + deadlineMs,
      );
      return modelFromWire(response.model);
    },
    async classify(text) {
      return classificationOf((await client.predict(text)).prediction);
    },
    ready(timeoutMs = 10_000) {
      if (model) return Promise.resolve(model);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          modelWaiters = modelWaiters.filter((waiter) => waiter !== wake);
          reject(
            new InferenceError(
              InferenceErrorCode.Unavailable,
              `the inference service at ${options.address} did not answer within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const wake = (served: ServedModel): void => {
          clearTimeout(timer);
          resolve(served);
        };
        modelWaiters.push(wake);
      });
    },
    stats() {
      return { calls: calls + streamed.sent, cache: cache?.stats(), coalescing: batcher?.stats() };
    },
    close() {
      closed = true;
      watchCall?.cancel();
      void batcher?.close();
      streamed.close();
      stub.close();
    },
  };
  return client;
}

const isRefusal = (error: unknown): boolean =>
  error instanceof InferenceError && error.code === InferenceErrorCode.InvalidArgument;
