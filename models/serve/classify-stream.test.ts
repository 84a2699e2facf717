import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status, type ClientDuplexStream } from '@grpc/grpc-js';
import type { nlu } from '../../proto/index.js';
import { createStreamedClassifier } from './classify-stream.js';
import { InferenceErrorCode } from './errors.js';
import { FAKE_MODEL, wirePrediction } from './fixtures.js';

type Stream = ClientDuplexStream<nlu.ClassifyStreamRequest, nlu.ClassifyStreamResponse>;

/** A client stream whose server is this test: it records what the client does and answers on demand. */
class FakeStream extends EventEmitter {
  readonly written: nlu.ClassifyStreamRequest[] = [];
  ended = false;
  cancels = 0;
  write(request: nlu.ClassifyStreamRequest): boolean {
    this.written.push(request);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  cancel(): void {
    this.cancels += 1;
    this.emit(
      'error',
      Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: status.CANCELLED }),
    );
  }
  answer(request: nlu.ClassifyStreamRequest, error?: { code: status; message: string }): void {
    const prediction = error ? undefined : wirePrediction('music.play');
    this.emit('data', { id: request.id, prediction, modelVersion: FAKE_MODEL.version, error });
  }
}

const GRACE_MS = 50;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function classifierOnFakes(): {
  streams: FakeStream[];
  classify: (text: string, ms: number) => Promise<unknown>;
} {
  const streams: FakeStream[] = [];
  const classifier = createStreamedClassifier({
    open: () => {
      const stream = new FakeStream();
      streams.push(stream);
      return stream as unknown as Stream;
    },
    address: 'fake',
    maxAttempts: 1,
    retiredStreamGraceMs: GRACE_MS,
  });
  return { streams, classify: (text, ms) => classifier.classify(text, 1, Date.now() + ms) };
}

const deadlineExceeded = (error: unknown): boolean =>
  (error as { code?: string }).code === InferenceErrorCode.DeadlineExceeded;

describe('streamed classifier', () => {
  it('stream - a silent stream is retired on a timeout and cancelled once, after the grace period', async () => {
    const { streams, classify } = classifierOnFakes();
    await assert.rejects(classify('set an alarm', 30), deadlineExceeded);
    assert.equal(streams[0]!.ended, true, 'no more texts on it');
    assert.equal(streams[0]!.cancels, 0, 'left to the server for the grace period');
    await sleep(GRACE_MS * 3);
    assert.equal(streams[0]!.cancels, 1);
    const next = classify('play some jazz', 1000);
    streams[1]!.answer(streams[1]!.written[0]!);
    await next;
    assert.equal(streams.length, 2);
  });

  it('stream - a timeout while other answers arrive keeps the stream', async () => {
    const { streams, classify } = classifierOnFakes();
    const slow = classify('a slow one', 40);
    const fast = classify('play some jazz', 1000);
    streams[0]!.answer(streams[0]!.written[1]!);
    await fast;
    await assert.rejects(slow, deadlineExceeded);
    assert.equal(streams[0]!.ended, false);
    const again = classify('play some blues', 1000);
    streams[0]!.answer(streams[0]!.written[2]!);
    await again;
    assert.equal(streams.length, 1);
  });

  it('stream - a stream the server ends or fails is not cancelled', async () => {
    const { streams, classify } = classifierOnFakes();
    // A draining server answers UNAVAILABLE, the client half-closes, the server ends the stream.
    const drained = classify('set an alarm', 1000);
    streams[0]!.answer(streams[0]!.written[0]!, { code: status.UNAVAILABLE, message: 'shutting down' });
    await assert.rejects(drained);
    assert.equal(streams[0]!.ended, true);
    streams[0]!.emit('end');
    // A stream that fails with two texts on it.
    const both = [classify('one', 1000), classify('two', 1000)];
    streams[1]!.emit('error', Object.assign(new Error('14 UNAVAILABLE'), { code: status.UNAVAILABLE }));
    for (const text of both) await assert.rejects(text);
    await sleep(GRACE_MS * 3);
    assert.deepEqual(
      streams.map((stream) => stream.cancels),
      [0, 0],
    );
  });
});
