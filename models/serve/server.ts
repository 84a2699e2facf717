/**
 * The inference service over gRPC (`parley.v1.NluService` and `grpc.health.v1.Health`), wrapping an
 * {@link InferenceEngine}. `parley serve inference` runs it.
 *
 * Shutdown: health turns NOT_SERVING, watch streams end, calls in flight finish (up to a grace period),
 * then the engine closes; calls that arrive meanwhile get UNAVAILABLE. An open `ClassifyStream` answers
 * the requests it holds, answers later ones UNAVAILABLE, and ends once none is left.
 */
import { Metadata, Server, type sendUnaryData, type ServiceError, status } from '@grpc/grpc-js';
import { health, type nlu } from '../../proto/index.js';
import type { InferenceEngine } from './engine.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import { checkedNluService, refusalOf } from './request-check.js';
import { serverCredentials, type ServerTls } from './tls.js';
import type { PredictOptions } from './types.js';
import { modelToWire, predictionToWire } from './wire.js';

/** The parts of a grpc-js call used here (grpc-js does not export the surface-call type). */
interface CallWithDeadline {
  getDeadline(): Date | number;
}

/** A server-streaming call that stays open until the server ends it. */
interface OpenStream {
  end(): void;
  on(event: 'cancelled' | 'close', listener: () => void): unknown;
}

const ServingStatus = health.HealthCheckResponse_ServingStatus;
/** The names the health service answers for: the server as a whole, and the NLU service. */
const HEALTH_SERVICES = new Set(['', 'parley.v1.NluService']);

export interface InferenceServerLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface InferenceServerOptions {
  readonly engine: InferenceEngine;
  /** `host:port`; port 0 picks a free one (see {@link InferenceServer.port}). */
  readonly address: string;
  /** Most texts in one `ClassifyBatch`. @default 4096 */
  readonly maxBatchTexts?: number;
  /**
   * Largest request taken, in bytes; a larger one is refused before it is read (RESOURCE_EXHAUSTED,
   * which the client reports as `invalid_argument`). @default room for `maxBatchTexts` texts of the
   * engine's `maxTextChars` (3 UTF-8 bytes a UTF-16 unit at most, a few of framing), at least 4 MiB
   * (grpc-js's own default, which would refuse such a batch long before those limits)
   */
  readonly maxMessageBytes?: number;
  readonly tls?: ServerTls;
  readonly logger?: InferenceServerLogger;
}

export interface InferenceServer {
  /** The port bound. */
  readonly port: number;
  /**
   * Stops taking calls and closes the engine. Calls in flight get `graceMs` to finish, then are
   * cancelled. @param graceMs @default 10_000
   */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startInferenceServer(options: InferenceServerOptions): Promise<InferenceServer> {
  const { engine } = options;
  const maxBatchTexts = options.maxBatchTexts ?? 4096;
  const log = options.logger;
  let serving = true;
  const streams = new Set<OpenStream>();
  /** Each open `ClassifyStream`'s reaction to the server beginning to drain. */
  const draining = new Set<() => void>();
  const healthWatchers = new Set<(status: health.HealthCheckResponse_ServingStatus) => void>();

  const fail = (callback: sendUnaryData<never>, error: unknown): void =>
    callback(toServiceError(error, log), null);
  /** A request that could not be read whole (see `request-check.ts`), as the error it is answered with. */
  const refused = (request: object): InferenceError | undefined => {
    const refusal = refusalOf(request);
    return refusal === undefined
      ? undefined
      : new InferenceError(InferenceErrorCode.InvalidArgument, refusal);
  };
  /** The call's deadline, or `timeoutMs` from now (a stream's request) when that comes first. */
  const optionsOf = (call: CallWithDeadline, topK: number, timeoutMs = 0): PredictOptions => {
    const deadline = call.getDeadline();
    const callAt = deadline instanceof Date ? deadline.getTime() : deadline;
    const at = timeoutMs > 0 ? Math.min(callAt, Date.now() + timeoutMs) : callAt;
    return { topK: topK === 0 ? 1 : topK, ...(Number.isFinite(at) && { deadline: at }) };
  };
  const keep = (call: OpenStream): void => {
    streams.add(call);
    const forget = (): void => void streams.delete(call);
    call.on('cancelled', forget);
    call.on('close', forget);
  };

  const service: nlu.NluServiceServer = {
    classify(call, callback) {
      const refusal = refused(call.request);
      if (refusal) return fail(callback, refusal);
      engine.predict(call.request.text, optionsOf(call, call.request.topK)).then(
        ({ prediction, version }) =>
          callback(null, { prediction: predictionToWire(prediction), modelVersion: version }),
        (error: unknown) => fail(callback, error),
      );
    },
    classifyBatch(call, callback) {
      const refusal = refused(call.request);
      if (refusal) return fail(callback, refusal);
      const { texts, topK } = call.request;
      if (texts.length > maxBatchTexts) {
        const message = `the batch has ${texts.length} texts; the limit is ${maxBatchTexts}`;
        fail(callback, new InferenceError(InferenceErrorCode.InvalidArgument, message));
        return;
      }
      engine.predictBatch(texts, optionsOf(call, topK)).then(
        ({ predictions, version }) =>
          callback(null, { predictions: predictions.map(predictionToWire), modelVersion: version }),
        (error: unknown) => fail(callback, error),
      );
    },
    classifyStream(call) {
      let pending = 0;
      let ended = false; // by the client
      let finished = false; // by the server
      const finishIfDone = (): void => {
        if (finished || pending > 0 || (serving && !ended)) return;
        finished = true;
        call.end();
      };
      // While the server drains: answer what is in flight, refuse what comes, then end the call.
      draining.add(finishIfDone);
      call.on('close', () => void draining.delete(finishIfDone));
      const answer = (response: nlu.ClassifyStreamResponse): void => {
        pending -= 1;
        call.write(response);
        finishIfDone();
      };
      call.on('data', (request: nlu.ClassifyStreamRequest) => {
        if (finished) return; // came after the server ended the call: the client sees the end
        pending += 1;
        const refusal = serving
          ? refused(request)
          : new InferenceError(InferenceErrorCode.ShuttingDown, 'the inference service is shutting down');
        const options = optionsOf(call, request.topK, request.timeoutMs);
        (refusal ? Promise.reject(refusal) : engine.predict(request.text, options)).then(
          ({ prediction, version }) =>
            answer({
              id: request.id,
              prediction: predictionToWire(prediction),
              modelVersion: version,
              error: undefined,
            }),
          (error: unknown) => {
            const { code, details } = toServiceError(error, log);
            answer({
              id: request.id,
              prediction: undefined,
              modelVersion: '',
              error: { code, message: details },
            });
          },
        );
      });
      call.on('end', () => {
        ended = true;
        finishIfDone();
      });
      call.on('error', () => undefined); // a client that goes away mid-stream is not an error here
    },
    getModel(_call, callback) {
      callback(null, { model: modelToWire(engine.model) });
    },
    watchModel(call) {
      keep(call);
      call.write({ model: modelToWire(engine.model) });
      const unsubscribe = engine.onModelChange((model) => call.write({ model: modelToWire(model) }));
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
    },
  };

  const currentStatus = (service: string): health.HealthCheckResponse_ServingStatus | undefined => {
    if (!HEALTH_SERVICES.has(service)) return undefined;
    return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };
  const healthService: health.HealthServer = {
    check(call, callback) {
      const state = currentStatus(call.request.service);
      if (state === undefined) {
        callback({ code: status.NOT_FOUND, details: `unknown service '${call.request.service}'` }, null);
        return;
      }
      callback(null, { status: state });
    },
    watch(call) {
      keep(call);
      const send = (): void => {
        call.write({ status: currentStatus(call.request.service) ?? ServingStatus.SERVICE_UNKNOWN });
      };
      send();
      healthWatchers.add(send);
      const forget = (): void => void healthWatchers.delete(send);
      call.on('cancelled', forget);
      call.on('close', forget);
    },
  };

  const server = new Server({
    'grpc.max_receive_message_length':
      options.maxMessageBytes ??
      Math.min(2 ** 31 - 1, Math.max(4 * 1024 * 1024, maxBatchTexts * (engine.maxTextChars * 3 + 8))),
    // Let clients keep idle connections alive with pings every 10 s or more.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(checkedNluService, service);
  server.addService(health.HealthService, healthService);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, serverCredentials(options.tls), (error, bound) =>
      error
        ? reject(
            new InferenceError(
              InferenceErrorCode.Unavailable,
              `cannot listen on ${options.address} (in use by another process?): ${error.message}`,
              { cause: error },
            ),
          )
        : resolve(bound),
    );
  });
  log?.info(
    { port, tls: options.tls !== undefined, mutualTls: options.tls?.requireClientCert ?? false },
    'inference service listening',
  );

  return {
    port,
    async shutdown(graceMs = 10_000) {
      if (!serving) return;
      serving = false;
      for (const watcher of healthWatchers) watcher(ServingStatus.NOT_SERVING);
      for (const stream of streams) stream.end();
      streams.clear();
      for (const drain of draining) drain();
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const grace = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), graceMs).unref(),
      );
      if ((await Promise.race([drained, grace])) === 'timeout') {
        log?.error({ graceMs }, 'inference calls did not finish in time; cancelling them');
        server.forceShutdown();
      }
      await engine.close();
      log?.info({}, 'inference service stopped');
    },
  };
}

/** The status a failure travels as; unexpected errors are logged here and sent without their details. */
function toServiceError(error: unknown, log: InferenceServerLogger | undefined): ServiceError {
  if (error instanceof InferenceError) {
    if (error.code === InferenceErrorCode.ModelFailed) log?.error({ err: error }, 'the model failed');
    return Object.assign(new Error(error.message), {
      code: error.grpcStatus,
      details: error.message,
      metadata: new Metadata(),
    });
  }
  log?.error({ err: error }, 'inference call failed');
  return Object.assign(new Error('internal error'), {
    code: status.INTERNAL,
    details: 'internal error',
    metadata: new Metadata(),
  });
}
