/**
 * Single texts on one long-lived `ClassifyStream` call, for the client (`client.ts`): each text is a
 * message with an id, answered by id.
 *
 * Why not a unary `Classify` per text: grpc-js makes each unary call a new HTTP/2 stream on both sides,
 * and Node keeps those streams (and everything their listeners reach) alive through young-generation
 * collections, so they are promoted and scavenges take milliseconds. A message on an open stream costs
 * neither: measured here at concurrency 1 against the same server, p50 0.24 ms / p99 0.6 ms on the stream
 * against 0.61 ms / 2.9-3.8 ms unary (docs/benchmarks.md, "Single texts on one stream").
 *
 * - The stream opens on the first text and again after it ends or fails.
 * - Each text carries the time left to its deadline (`timeout_ms`), so the server does not run a text
 *   whose caller gave up; the client gives up at the deadline itself too, whatever the server does.
 * - When the stream fails, every text in flight on it fails with the stream's status. Texts failing with
 *   UNAVAILABLE (stream lost, server draining) are sent again, up to `maxAttempts` in all, with
 *   exponential backoff and jitter, while their deadline allows.
 * - A stream on which a text went unanswered past its deadline, with no answer at all arriving on it
 *   meanwhile, is retired like a draining one: the next text opens a new stream, so a stream the server
 *   stopped answering costs one text, not all later ones (a slow server that still answers keeps its
 *   stream). The server ends a retired stream once it has answered what it holds; one it has not ended
 *   {@link RETIRED_STREAM_GRACE_MS} after its last text settled is cancelled.
 */
import { Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { nlu } from '../../proto/index.js';
import {
  codeOfGrpcStatus,
  fromServiceError,
  InferenceError,
  InferenceErrorCode,
  notAnsweredInTime,
} from './errors.js';
import { settleWithin } from './settle-within.js';
import type { VersionedPrediction } from './types.js';
import { predictionFromWire } from './wire.js';

type Stream = ClientDuplexStream<nlu.ClassifyStreamRequest, nlu.ClassifyStreamResponse>;

export interface StreamedClassifier {
  /** The best `topK` intents of `text`, or an {@link InferenceError}; gives up at `deadline` (epoch ms). */
  classify(text: string, topK: number, deadline: number): Promise<VersionedPrediction>;
  /** Texts sent so far, retries included. */
  readonly sent: number;
  /** Ends the stream; texts still waiting fail with `unavailable`. */
  close(): void;
}

interface Waiting {
  readonly stream: Stream;
  resolve(answer: VersionedPrediction): void;
  reject(error: InferenceError): void;
}

/** Backoff before the second attempt; doubled for each one after, up to {@link MAX_BACKOFF_MS}. */
const INITIAL_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;
const MAX_UINT32 = 2 ** 32 - 1;
/** How long a retired stream with no text waiting is left for the server to end before it is cancelled. */
export const RETIRED_STREAM_GRACE_MS = 1000;

/** Failures that mean the text was not run and may be sent again: the stream was lost, or UNAVAILABLE. */
const retryable = new WeakSet<InferenceError>();
const unavailable = (error: InferenceError): InferenceError => {
  retryable.add(error);
  return error;
};

export function createStreamedClassifier(options: {
  readonly open: () => Stream;
  /** Where the stream goes, for error messages. */
  readonly address: string;
  readonly maxAttempts: number;
  /** @default {@link RETIRED_STREAM_GRACE_MS} */
  readonly retiredStreamGraceMs?: number;
}): StreamedClassifier {
  const { address } = options;
  const retiredStreamGraceMs = options.retiredStreamGraceMs ?? RETIRED_STREAM_GRACE_MS;
  let stream: Stream | undefined;
  /** Streams neither ended nor failed yet, with the answers each has brought. */
  const live = new Map<Stream, { answers: number; cancelling: boolean }>();
  const waiting = new Map<number, Waiting>();
  let lastId = 0;
  let sent = 0;
  let closed = false;

  /** Backoff sleeps in progress, woken early by `close()`. */
  const sleepers = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  const closedError = (): InferenceError =>
    new InferenceError(InferenceErrorCode.Unavailable, 'the inference client was closed');

  const open = (): Stream => {
    const opened = options.open();
    const state = { answers: 0, cancelling: false };
    live.set(opened, state);
    opened.on('data', (response: nlu.ClassifyStreamResponse) => {
      state.answers += 1;
      const waiter = waiting.get(response.id);
      if (!waiter) return; // its caller gave up
      waiting.delete(response.id);
      if (response.error) {
        const { message } = response.error;
        const code: status = response.error.code;
        const error = new InferenceError(codeOfGrpcStatus(code), message);
        if (code === status.UNAVAILABLE) {
          // The server is draining: it ends this stream once it has answered the rest, and the next
          // text (this one again, too) goes on a new one.
          retire(opened);
          unavailable(error);
        }
        waiter.reject(error);
        return;
      }
      try {
        waiter.resolve({
          prediction: predictionFromWire(response.prediction),
          version: response.modelVersion,
        });
      } catch (error) {
        waiter.reject(
          new InferenceError(
            InferenceErrorCode.Unavailable,
            `the inference service at ${address} answered ${String(error)}`,
          ),
        );
      }
    });
    // The server ends the stream when it drains (after answering what it held), or it fails: either way
    // the texts still waiting on it are lost with it, and the next text opens another.
    const lost = (error: InferenceError): void => {
      live.delete(opened);
      retire(opened);
      for (const [id, waiter] of waiting) {
        if (waiter.stream !== opened) continue;
        waiting.delete(id);
        waiter.reject(error);
      }
    };
    opened.on('error', (error: ServiceError) => {
      const failure = fromServiceError(error, address);
      lost(error.code === status.UNAVAILABLE ? unavailable(failure) : failure);
    });
    opened.on('end', () =>
      lost(
        unavailable(
          new InferenceError(
            InferenceErrorCode.Unavailable,
            `the inference service at ${address} ended the stream`,
          ),
        ),
      ),
    );
    return opened;
  };

  /** No new texts on `retired`; those on it still get their answers. */
  const retire = (retired: Stream): void => {
    if (stream !== retired) return;
    stream = undefined;
    retired.end();
  };

  /** Cancels a retired stream the server has not ended by the grace period after its last text settled. */
  const cancelWhenQuiet = (retired: Stream): void => {
    const state = live.get(retired);
    if (!state || state.cancelling || [...waiting.values()].some((waiter) => waiter.stream === retired))
      return;
    state.cancelling = true;
    setTimeout(() => {
      if (live.has(retired)) retired.cancel();
    }, retiredStreamGraceMs).unref();
  };

  /** One try: the text on the current stream (opened if need be), answered or failed by its deadline. */
  const attempt = async (text: string, topK: number, deadline: number): Promise<VersionedPrediction> => {
    if (closed) throw closedError();
    const timeoutMs = Math.ceil(deadline - Date.now());
    if (timeoutMs <= 0) throw notAnsweredInTime();
    const on = (stream ??= open());
    const answersBefore = live.get(on)!.answers;
    const id = ++lastId;
    const answered = new Promise<VersionedPrediction>((resolve, reject) => {
      waiting.set(id, { stream: on, resolve, reject });
    });
    sent += 1;
    // Beyond uint32 the field cannot carry it (and the message would not encode, failing the stream for
    // every text on it): 0, the stream's own deadline.
    on.write({ id, text, topK, timeoutMs: timeoutMs <= MAX_UINT32 ? timeoutMs : 0 });
    try {
      return await settleWithin(answered, timeoutMs, notAnsweredInTime);
    } catch (error) {
      // Unanswered by its deadline, and nothing else answered on the stream meanwhile: the server may
      // have stopped answering it, so the next text goes on a new one rather than timing out here too.
      if (waiting.has(id) && live.get(on)?.answers === answersBefore) retire(on);
      throw error;
    } finally {
      waiting.delete(id); // a late answer finds no one
      if (on !== stream && !closed) cancelWhenQuiet(on);
    }
  };

  return {
    async classify(text, topK, deadline) {
      for (let attempts = 1; ; attempts++) {
        try {
          return await attempt(text, topK, deadline);
        } catch (error) {
          const again = error instanceof InferenceError && retryable.has(error);
          if (!again || closed || attempts >= options.maxAttempts) throw error;
          const backoff = Math.random() * Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** (attempts - 1));
          if (Date.now() + backoff >= deadline) throw error;
          await sleep(backoff);
        }
      }
    },
    get sent() {
      return sent;
    },
    close() {
      closed = true;
      stream = undefined;
      for (const waiter of waiting.values()) waiter.reject(closedError());
      waiting.clear();
      for (const wake of [...sleepers]) wake(); // their next attempt finds the client closed
      // The current stream, and any retired one the server has not ended yet.
      for (const open of [...live.keys()]) open.cancel();
    },
  };
}

/** The stream a {@link createStreamedClassifier} opens on a generated client. */
export const classifyStreamOf =
  (stub: { classifyStream(metadata: Metadata, options: { deadline: number }): Stream }) => (): Stream =>
    stub.classifyStream(new Metadata(), { deadline: Infinity });
