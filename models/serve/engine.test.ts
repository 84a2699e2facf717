import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInferenceEngine, type InferenceEngine } from './engine.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import { syntheticDataset } from '../model/fixtures/synthetic-intents.js';
import { buildTestModels, tempDir, waitFor, type TestModels } from './fixtures.js';
import type { Prediction, ServedModel, VersionedPrediction } from './types.js';

/**
 * INT8 layers quantize their activations per tensor at run time, so a text's probabilities move slightly
 * with the rest of its batch (about 1e-3 at most here); FP32 answers do not depend on the batch.
 */
const INT8_TOLERANCE = 0.01;
const FP32_TOLERANCE = 1e-6;

/** Texts whose answers the model is sure of, then an empty one and one that is out of scope. */
const KNOWN: readonly (readonly [string, string])[] = [
  ['set an alarm for 7', 'alarm.set'],
  ['play some jazz', 'music.play'],
  ['what time is it in paris', 'time.current'],
  ['weather in lima today', 'weather.today'],
];
const OUT_OF_SCOPE = 'blah blah purple';

function isInferenceError(code: InferenceErrorCode): (error: unknown) => boolean {
  return (error) => error instanceof InferenceError && error.code === code;
}

/** Same best intent and the same probability for every label listed, within `tolerance`. */
function assertSameAnswer(actual: Prediction, expected: Prediction, tolerance: number, what: string): void {
  assert.equal(actual.intent, expected.intent, `${what}: intent`);
  assert.equal(actual.top.length, expected.top.length, `${what}: top length`);
  assert.ok(Math.abs(actual.confidence - expected.confidence) <= tolerance, `${what}: confidence`);
  const expectedOf = new Map(expected.top.map((score) => [score.intent, score.probability]));
  for (const score of actual.top) {
    const probability = expectedOf.get(score.intent);
    assert.ok(probability !== undefined, `${what}: ${score.intent} is not in the single-call top`);
    assert.ok(
      Math.abs(score.probability - probability) <= tolerance,
      `${what}: ${score.intent} ${score.probability} vs ${probability}`,
    );
  }
}

describe('inference engine', () => {
  let models: TestModels;
  let dir: AsyncDisposable & { readonly path: string };
  let engine: InferenceEngine;
  const texts = [
    ...new Set([
      ...KNOWN.map(([text]) => text),
      ...(syntheticDataset().test ?? []).map((example) => example.text),
    ]),
  ]
    .slice(0, 30)
    .concat(['', OUT_OF_SCOPE]);

  before(async () => {
    dir = await tempDir('parley-engine-');
    models = await buildTestModels(dir.path);
    engine = await createInferenceEngine({ model: models.v1, threads: 2 });
  });

  after(async () => {
    await engine?.close();
    await dir?.[Symbol.asyncDispose]();
  });

  /** One `predict` at a time, so every text runs in a batch of its own. */
  async function singleAnswers(on: InferenceEngine, topK: number): Promise<VersionedPrediction[]> {
    const answers: VersionedPrediction[] = [];
    for (const text of texts) answers.push(await on.predict(text, { topK }));
    return answers;
  }

  it('engine - 2,000 concurrent predictions on 2 worker threads answer like single calls, in batches', async () => {
    const single = await singleAnswers(engine, 4);
    for (const [text, intent] of KNOWN) {
      assert.equal(single[texts.indexOf(text)]?.prediction.intent, intent, text);
    }
    const start = engine.stats();

    const count = 2000;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => engine.predict(texts[i % texts.length]!, { topK: 4 })),
    );

    answers.forEach((answer, i) => {
      const expected = single[i % texts.length]!;
      assert.equal(answer.version, models.v1.metadata.version);
      assertSameAnswer(answer.prediction, expected.prediction, INT8_TOLERANCE, `answer ${i}`);
    });
    const end = engine.stats();
    assert.equal(end.requests - start.requests, count);
    assert.equal(end.threads, 2);
    // Both workers ran batches of these 2,000 texts.
    const ran = Object.entries(end.batchesPerWorker).map(
      ([thread, batches]) => batches - (start.batchesPerWorker[Number(thread)] ?? 0),
    );
    assert.equal(ran.length, 2, `workers: ${JSON.stringify(end.batchesPerWorker)}`);
    assert.ok(
      ran.every((batches) => batches > 0),
      `batches per worker during the load: ${ran.join(', ')}`,
    );
    const batches = end.batches - start.batches;
    assert.ok(batches < count / 2, `2,000 concurrent texts ran in ${batches} batches: batching happens`);
    assert.ok(end.meanBatch > 1, `mean batch ${end.meanBatch}`);
    assert.equal(end.rejected, 0);
    assert.equal(end.expired, 0);
  });

  it('engine - FP32 answers in batches on 2 worker threads equal the single-call answers', async () => {
    const fp32 = await createInferenceEngine({ model: models.v1, threads: 2, precision: 'fp32' });
    try {
      assert.equal(fp32.model.precision, 'fp32');
      const single = await singleAnswers(fp32, 4);
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) => fp32.predict(texts[i % texts.length]!, { topK: 4 })),
      );
      answers.forEach((answer, i) => {
        const expected = single[i % texts.length]!.prediction;
        assertSameAnswer(answer.prediction, expected, FP32_TOLERANCE, `answer ${i}`);
        assert.deepEqual(
          answer.prediction.top.map((score) => score.intent),
          expected.top.map((score) => score.intent),
          `answer ${i}: top order`,
        );
      });
      assert.ok(fp32.stats().meanBatch > 1);
    } finally {
      await fp32.close();
    }
  });

  it('engine - top-k lists k labels, most likely first, led by the intent', async () => {
    const labels = engine.model.labels;
    assert.deepEqual(labels, models.v1.metadata.labels);
    for (const topK of [1, 2, 3, labels.length, 10]) {
      const { prediction } = await engine.predict('set an alarm for 7', { topK });
      assert.equal(prediction.top.length, Math.min(topK, labels.length), `topK ${topK}`);
      assert.equal(prediction.intent, 'alarm.set');
      assert.equal(prediction.top[0]?.intent, 'alarm.set');
      assert.equal(prediction.confidence, prediction.top[0]?.probability);
      for (let i = 1; i < prediction.top.length; i++) {
        assert.ok(prediction.top[i - 1]!.probability >= prediction.top[i]!.probability, `topK ${topK} order`);
      }
      assert.equal(new Set(prediction.top.map((score) => score.intent)).size, prediction.top.length);
      for (const score of prediction.top) assert.ok(labels.includes(score.intent), score.intent);
    }
    const all = await engine.predict('play some jazz', { topK: labels.length });
    const sum = all.prediction.top.reduce((total, score) => total + score.probability, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `the probabilities of every label sum to 1, got ${sum}`);
    const defaultTop = await engine.predict('play some jazz');
    assert.equal(defaultTop.prediction.top.length, 1, 'top-k defaults to 1');
  });

  it('engine - an empty text and a text below the threshold are out of scope', async () => {
    const empty = await engine.predict('');
    assert.deepEqual(empty.prediction, { intent: undefined, confidence: 0, top: [] });
    assert.equal(empty.version, models.v1.metadata.version);

    const vague = await engine.predict(OUT_OF_SCOPE, { topK: 2 });
    assert.equal(vague.prediction.intent, undefined);
    assert.ok(vague.prediction.confidence < engine.model.threshold);
    assert.equal(vague.prediction.top.length, 2, 'an out-of-scope answer still lists the best labels');
    assert.equal(vague.prediction.confidence, vague.prediction.top[0]?.probability);
  });

  it('engine - a too-long text, a bad top-k and an empty batch are invalid_argument', async () => {
    const limit = await createInferenceEngine({ model: models.v1, threads: 1, maxTextChars: 20 });
    try {
      assert.equal((await limit.predict('x'.repeat(20))).version, models.v1.metadata.version);
      await assert.rejects(limit.predict('x'.repeat(21)), (error: unknown) => {
        assert.ok(isInferenceError(InferenceErrorCode.InvalidArgument)(error), String(error));
        assert.match((error as Error).message, /21 characters long; the limit is 20/);
        return true;
      });
      await assert.rejects(
        limit.predictBatch(['ok', 'fine', 'y'.repeat(40)]),
        /text 2 is 40 characters long/,
      );
      assert.equal(limit.stats().requests, 1, 'a refused batch queues nothing');
    } finally {
      await limit.close();
    }
    await assert.rejects(
      engine.predict('x'.repeat(4097)),
      isInferenceError(InferenceErrorCode.InvalidArgument),
    );
    for (const topK of [0, 11, 1.5, -1]) {
      await assert.rejects(engine.predict('hello', { topK }), (error: unknown) => {
        assert.ok(isInferenceError(InferenceErrorCode.InvalidArgument)(error), `topK ${topK}`);
        assert.match((error as Error).message, /top_k must be 1 to 10/);
        return true;
      });
    }
    await assert.rejects(engine.predictBatch([]), /the batch has no texts/);
  });

  it('engine - predictBatch answers in the order of its texts, by one version', async () => {
    const single = await singleAnswers(engine, 3);
    const reversed = [...texts].reverse();
    const { predictions, version } = await engine.predictBatch(reversed, { topK: 3 });
    assert.equal(version, models.v1.metadata.version);
    assert.equal(predictions.length, reversed.length);
    predictions.forEach((prediction, i) => {
      const expected = single[texts.length - 1 - i]!.prediction;
      assertSameAnswer(prediction, expected, INT8_TOLERANCE, `text ${i} (${reversed[i]})`);
    });
  });

  it('engine - a request whose deadline has passed is not run: deadline_exceeded', async () => {
    const start = engine.stats();
    await assert.rejects(
      engine.predict('set an alarm for 7', { deadline: Date.now() - 1 }),
      isInferenceError(InferenceErrorCode.DeadlineExceeded),
    );
    await assert.rejects(
      engine.predictBatch(['a', 'b'], { deadline: Date.now() - 1 }),
      isInferenceError(InferenceErrorCode.DeadlineExceeded),
    );
    const end = engine.stats();
    assert.equal(end.expired - start.expired, 3);
    assert.equal(end.batches, start.batches, 'nothing ran');
    const inTime = await engine.predict('set an alarm for 7', { deadline: Date.now() + 10_000 });
    assert.equal(inTime.prediction.intent, 'alarm.set');
  });

  it('engine - a request whose deadline passes while its batch waits at a busy worker is not run', async () => {
    // One worker, busy with a long batch; the next request is handed to it at once (a hand-off) and waits
    // there past its deadline: a quarter of the time the long batch takes.
    const busyEngine = await createInferenceEngine({ model: models.v1, threads: 1, maxBatch: 256 });
    try {
      const long = Array.from({ length: 256 }, (_, i) => `set alarm ${i} `.repeat(300).slice(0, 3000));
      await busyEngine.predictBatch(long); // the first run of long texts is several times slower
      let started = Date.now();
      await busyEngine.predictBatch(long);
      const deadlineMs = Math.max(20, (Date.now() - started) / 4);
      started = Date.now();
      const busy = busyEngine.predictBatch(long);
      const late = busyEngine.predict('set an alarm for 7', { deadline: Date.now() + deadlineMs });
      await assert.rejects(late, (error: unknown) => {
        assert.ok(error instanceof InferenceError && error.code === InferenceErrorCode.DeadlineExceeded);
        assert.match(error.message, /waited for a worker/);
        return true;
      });
      assert.equal((await busy).predictions.length, 256, 'the batch in the way still answers');
      assert.ok(Date.now() - started > deadlineMs, 'the busy batch outlasted the deadline');
      assert.equal(busyEngine.stats().expired, 1);
    } finally {
      await busyEngine.close();
    }
  });

  it('engine - a model file missing or not ONNX is refused naming it; a swap to one keeps the old model serving', async () => {
    const garbage = join(dir.path, 'garbage.onnx');
    await writeFile(garbage, 'not an onnx model');
    const missing = join(dir.path, 'missing.onnx');
    const v2 = models.v2.metadata.version;
    const refused = (path: string, cause: RegExp) => (error: unknown) => {
      assert.ok(error instanceof InferenceError, String(error));
      assert.equal(error.code, InferenceErrorCode.ModelFailed);
      assert.ok(error.message.startsWith(`cannot load model ${v2} from ${path}: `), error.message);
      assert.match(error.message, cause);
      return true;
    };
    await assert.rejects(
      createInferenceEngine({ model: { ...models.v2, int8Path: garbage }, threads: 1 }),
      refused(garbage, /not an ONNX model/),
    );
    await assert.rejects(
      createInferenceEngine({ model: { ...models.v2, int8Path: missing }, threads: 1 }),
      refused(missing, /ENOENT/),
    );

    const v1 = models.v1.metadata.version;
    assert.equal(engine.model.version, v1);
    await assert.rejects(
      engine.swap({ ...models.v2, int8Path: garbage }),
      refused(garbage, /not an ONNX model/),
    );
    assert.equal(engine.model.version, v1, 'still serving the model it had');
    assert.equal((await engine.predict('set an alarm for 7')).version, v1);
  });

  it('engine - swaps the model under load without failing a call, then refuses work once closed', async () => {
    // FP32, whose answers do not depend on the batch, so each answer can be traced to the weights of the
    // version it names. Small batches keep requests queued across the swap.
    const swapping = await createInferenceEngine({
      model: models.v1,
      threads: 2,
      maxBatch: 5,
      precision: 'fp32',
    });
    let closed = false;
    let stop = false;
    try {
      const v1 = models.v1.metadata.version;
      const v2 = models.v2.metadata.version;
      const labels = swapping.model.labels;
      const topK = labels.length;
      /** Every label's probability, in the model's label order. */
      const vectorOf = (prediction: Prediction): number[] =>
        labels.map((label) => prediction.top.find((score) => score.intent === label)?.probability ?? NaN);
      const loopTexts = texts.filter((text) => text !== '');
      const reference = new Map<string, number[]>();
      for (const text of loopTexts) {
        reference.set(`${v1} ${text}`, vectorOf((await swapping.predict(text, { topK })).prediction));
      }

      const changes: ServedModel[] = [];
      const unsubscribe = swapping.onModelChange((model) => changes.push(model));
      interface Answer {
        readonly text: string;
        readonly version: string;
        readonly probabilities: number[];
        readonly phase: 'before' | 'during' | 'after';
      }
      const answers: Answer[][] = [];
      const failures: unknown[] = [];
      let phase: Answer['phase'] = 'before';
      const loop = async (index: number): Promise<void> => {
        const mine: Answer[] = [];
        answers.push(mine);
        for (let i = index; !stop; i++) {
          const text = loopTexts[i % loopTexts.length]!;
          const startedIn = phase;
          try {
            const { prediction, version } = await swapping.predict(text, { topK });
            mine.push({ text, version, probabilities: vectorOf(prediction), phase: startedIn });
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const loops = Array.from({ length: 8 }, (_, index) => loop(index));
      const answered = (): number => answers.reduce((total, mine) => total + mine.length, 0);
      await waitFor(() => answered() >= 400 || failures.length > 0, '400 answers before the swap');

      phase = 'during';
      assert.equal(swapping.model.version, v1);
      const swapped = swapping.swap(models.v2);
      // Requests admitted under v1 are still queued when v2 takes over, and v2's join them in the queue.
      const burst = (text: string): Promise<VersionedPrediction[]> =>
        Promise.all(Array.from({ length: 203 }, () => swapping.predict(text, { topK })));
      const oldBurst = burst(loopTexts[0]!);
      await swapped;
      phase = 'after';
      assert.equal(swapping.model.version, v2, 'engine.model is the new version once swap resolves');
      const newBurst = burst(loopTexts[0]!);
      const swappedAt = answered();
      await waitFor(() => answered() >= swappedAt + 400 || failures.length > 0, '400 answers after the swap');
      stop = true;
      await Promise.all(loops);
      const bursts = { [v1]: await oldBurst, [v2]: await newBurst };
      unsubscribe();

      assert.deepEqual(failures, [], 'no call failed during the swap');
      assert.deepEqual(
        changes.map((model) => model.version),
        [v2],
        'onModelChange fired once, with the new model',
      );
      assert.equal(swapping.stats().version, v2);
      for (const text of loopTexts) {
        reference.set(`${v2} ${text}`, vectorOf((await swapping.predict(text, { topK })).prediction));
      }
      const distance = (a: readonly number[], b: readonly number[]): number =>
        Math.max(...a.map((value, i) => Math.abs(value - b[i]!)));
      for (const text of loopTexts) {
        const apart = distance(reference.get(`${v1} ${text}`)!, reference.get(`${v2} ${text}`)!);
        assert.ok(apart > 100 * FP32_TOLERANCE, `v1 and v2 answer '${text}' alike (${apart} apart)`);
      }

      const all = answers.flat();
      assert.ok(
        all.filter((answer) => answer.phase === 'before').every((answer) => answer.version === v1),
        'calls made before the swap are answered by v1',
      );
      const afterSwap = all.filter((answer) => answer.phase === 'after');
      assert.ok(afterSwap.length >= 400);
      assert.ok(
        afterSwap.every((answer) => answer.version === v2),
        'calls made after the swap are answered by v2',
      );
      for (const answer of all) {
        assert.ok(answer.version === v1 || answer.version === v2, answer.version);
        const expected = reference.get(`${answer.version} ${answer.text}`)!;
        assert.ok(
          distance(answer.probabilities, expected) <= FP32_TOLERANCE,
          `'${answer.text}' answered as ${answer.version} with [${answer.probabilities.join(', ')}]; ` +
            `that model says [${expected.join(', ')}]`,
        );
      }
      for (const [version, answersOfBurst] of Object.entries(bursts)) {
        const expected = reference.get(`${version} ${loopTexts[0]!}`)!;
        for (const answer of answersOfBurst) {
          assert.equal(answer.version, version, 'a request keeps the version it was admitted with');
          assert.ok(
            distance(vectorOf(answer.prediction), expected) <= FP32_TOLERANCE,
            `a request admitted under ${version} ran on ${version}'s weights`,
          );
        }
      }
      for (const mine of answers) {
        const firstV2 = mine.findIndex((answer) => answer.version === v2);
        assert.ok(firstV2 >= 0, 'every loop saw v2');
        assert.ok(
          mine.slice(firstV2).every((answer) => answer.version === v2),
          'once a loop got v2, it never got v1 again',
        );
      }

      await swapping.close();
      closed = true;
      await assert.rejects(swapping.predict('hello'), isInferenceError(InferenceErrorCode.ShuttingDown));
    } finally {
      stop = true;
      if (!closed) await swapping.close();
    }
  });
});
