import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { featurize } from '../features/index.js';
import { GIBBERISH, OUT_OF_SCOPE_EXAMPLES, syntheticIntents } from './fixtures/synthetic-intents.js';
import {
  compileTrainOptions,
  createProgressBar,
  deserialiseModel,
  forward,
  isOutOfScope,
  ModelFileError,
  predict,
  serialiseModel,
  trainIntentModel,
  TrainingDataError,
  trainingSchedule,
  type TrainOptions,
  type TrainingProgress,
} from './index.js';
import { calibrateThreshold, createPrng } from './internal.js';

/** Small and fast: a 2^12-bucket table, narrow layers. */
const SMALL: TrainOptions = {
  features: { buckets: 2 ** 12 },
  dim: 16,
  hidden: 32,
  maxEpochs: 40,
  patience: 8,
  batchSize: 8,
  learningRate: 0.01,
  embeddingLearningRate: 0.05,
  tokenDropout: 0.2,
  hiddenDropout: 0.1,
};

const data = syntheticIntents();

function accuracy(predictions: { label: string }[], gold: { label: string }[]): number {
  return predictions.filter((p, i) => p.label === gold[i]!.label).length / gold.length;
}

describe('intent model', () => {
  it('training - learns a small separable task', async () => {
    const model = await trainIntentModel(data, { ...SMALL, seed: 3 });
    assert.deepEqual(model.labels, ['alarm.set', 'music.play', 'time.current', 'weather.today']);
    assert.ok(model.metrics.trainAccuracy >= 0.97, `train accuracy ${model.metrics.trainAccuracy}`);
    const predictions = predict(
      model,
      data.test.map((e) => e.text),
    );
    assert.ok(accuracy(predictions, data.test) >= 0.9, `test accuracy ${accuracy(predictions, data.test)}`);
    assert.ok(model.metrics.bestEpoch >= 1 && model.metrics.bestEpoch <= model.metrics.epochs);
    assert.equal(model.metrics.validationExamples, data.validation.length);
    assert.ok((model.metrics.durationMs ?? -1) >= 0);
  });

  it('determinism - the same seed and data give a byte-identical model file', async () => {
    const a = serialiseModel(await trainIntentModel(data, { ...SMALL, seed: 11 }));
    const b = serialiseModel(await trainIntentModel(data, { ...SMALL, seed: 11 }));
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), 'two trainings with seed 11 differ');
  });

  it('determinism - another seed gives another model', async () => {
    const a = serialiseModel(await trainIntentModel(data, { ...SMALL, seed: 11, maxEpochs: 3 }));
    const b = serialiseModel(await trainIntentModel(data, { ...SMALL, seed: 12, maxEpochs: 3 }));
    assert.ok(!Buffer.from(a).equals(Buffer.from(b)));
  });

  it('threshold - gibberish falls below the calibrated threshold and is out of scope', async () => {
    const model = await trainIntentModel(data, { ...SMALL, seed: 5 });
    assert.equal(model.calibration.method, 'inScopeQuantile');
    assert.equal(model.outOfScopeLabel, undefined);
    for (const prediction of predict(model, GIBBERISH)) {
      assert.ok(
        prediction.outOfScope,
        `'${prediction.label}' at ${prediction.confidence} >= ${model.threshold}`,
      );
      assert.ok(prediction.confidence < model.threshold);
    }
    const inScope = predict(model, ['what time is it in paris', 'set an alarm for 7']);
    assert.deepEqual(
      inScope.map((p) => [p.label, p.outOfScope]),
      [
        ['time.current', false],
        ['alarm.set', false],
      ],
    );
  });

  it('threshold - an explicit oos class is trained and wins over the threshold', async () => {
    const oos = OUT_OF_SCOPE_EXAMPLES.map((text) => ({ text, label: 'oos' }));
    const model = await trainIntentModel(
      { train: [...data.train, ...oos.slice(0, 9)], validation: [...data.validation, ...oos.slice(9)] },
      { ...SMALL, seed: 5 },
    );
    assert.equal(model.outOfScopeLabel, 'oos');
    assert.ok(model.labels.includes('oos'));
    assert.equal(model.calibration.method, 'outOfScopeExamples');
    const [known] = predict(model, ['how do i bake bread']);
    assert.equal(known!.label, 'oos');
    assert.equal(known!.outOfScope, true);
    // Even a confident oos prediction is out of scope.
    assert.equal(isOutOfScope(model, 'oos', 0.999), true);
    assert.equal(isOutOfScope(model, 'alarm.set', Math.max(model.threshold, 0.999)), false);
  });

  it('serialisation - a round trip keeps every weight, the threshold and the predictions', async () => {
    const model = await trainIntentModel(data, { ...SMALL, seed: 9, maxEpochs: 5 });
    const bytes = serialiseModel(model);
    // An unaligned copy, as a file read may give.
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    const back = deserialiseModel(unaligned);
    assert.deepEqual(back.labels, model.labels);
    assert.deepEqual(back.features, model.features);
    assert.deepEqual(back.shape, model.shape);
    assert.equal(back.threshold, model.threshold);
    assert.deepEqual(back.weights.embedding, model.weights.embedding);
    assert.deepEqual(back.weights.outputBias, model.weights.outputBias);
    assert.equal(back.metrics.durationMs, undefined);
    assert.deepEqual(back.calibration, model.calibration);
    assert.ok(Buffer.from(serialiseModel(back)).equals(Buffer.from(bytes)));
    const texts = data.test.map((e) => e.text);
    assert.deepEqual(predict(back, texts), predict(model, texts));
  });

  it('serialisation - refuses bytes that are not a model file', () => {
    assert.throws(
      () => deserialiseModel(new TextEncoder().encode('hello world, not a model')),
      ModelFileError,
    );
    assert.throws(() => deserialiseModel(new Uint8Array(0)), ModelFileError);
  });

  it('serialisation - refuses a truncated model file', async () => {
    const bytes = serialiseModel(await trainIntentModel(data, { ...SMALL, seed: 9, maxEpochs: 1 }));
    assert.throws(() => deserialiseModel(bytes.subarray(0, bytes.length - 4)), /needs/);
  });

  it('forward - gives a probability distribution and rejects ids outside the table', async () => {
    const model = await trainIntentModel(data, { ...SMALL, seed: 2, maxEpochs: 2 });
    const probabilities = forward(model, featurize('play some jazz', model.features));
    assert.equal(probabilities.length, model.labels.length);
    assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.throws(() => forward(model, [model.features.buckets + 1]), RangeError);
  });

  it('training - refuses data with a single label or an unknown validation label', async () => {
    await assert.rejects(trainIntentModel({ train: [{ text: 'hi', label: 'a' }] }, SMALL), TrainingDataError);
    await assert.rejects(
      trainIntentModel({ train: data.train, validation: [{ text: 'hi', label: 'nope' }] }, SMALL),
      /label 'nope'/,
    );
  });

  it('training - splits a validation set off when none is given', async () => {
    const model = await trainIntentModel(
      { train: data.train },
      { ...SMALL, seed: 4, validationFraction: 0.2 },
    );
    assert.ok(model.metrics.validationExamples > 0);
    assert.equal(model.metrics.trainExamples + model.metrics.validationExamples, data.train.length);
  });

  it('training - stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(trainIntentModel(data, { ...SMALL, signal: controller.signal }), /stop/);
  });

  it('options - out-of-range values are refused with the option named', () => {
    assert.throws(() => compileTrainOptions({ dim: 0 }), /dim/);
    assert.throws(() => compileTrainOptions({ tokenDropout: 1 }), /tokenDropout/);
    assert.throws(() => compileTrainOptions({ outOfScope: { recallWeight: 2 } }), /recallWeight/);
    assert.equal(compileTrainOptions().seed, 1);
  });

  it('options - batch size, epochs and patience adapt to the data size unless given', () => {
    const defaults = compileTrainOptions();
    assert.deepEqual(trainingSchedule(defaults, 15_100), { batchSize: 64, maxEpochs: 12, patience: 3 });
    assert.deepEqual(trainingSchedule(defaults, 100), { batchSize: 10, maxEpochs: 150, patience: 15 });
    assert.deepEqual(
      trainingSchedule(compileTrainOptions({ batchSize: 4, maxEpochs: 2, patience: 1 }), 100),
      {
        batchSize: 4,
        maxEpochs: 2,
        patience: 1,
      },
    );
  });

  it('progress bar - prints one line per epoch when not a terminal', async () => {
    const lines: string[] = [];
    const bar = createProgressBar({ output: { write: (chunk: string) => lines.push(chunk), isTTY: false } });
    const events: TrainingProgress['type'][] = [];
    await trainIntentModel(data, {
      ...SMALL,
      maxEpochs: 3,
      onProgress: (p) => {
        events.push(p.type);
        bar.onProgress(p);
      },
    });
    assert.equal(lines.filter((l) => l.startsWith('epoch ')).length, 3);
    assert.match(lines.at(-1)!, /^trained 3 epochs/);
    assert.equal(events.at(-1), 'done');
    assert.ok(events.includes('batch'));
  });

  it('progress bar - redraws in place on a terminal', () => {
    let written = '';
    const bar = createProgressBar({
      output: { write: (c: string) => (written += c), isTTY: true, columns: 80 },
    });
    bar.onProgress({ type: 'batch', epoch: 1, maxEpochs: 2, batch: 1, batches: 1, loss: 0.5 });
    assert.match(written, /^\repoch 1\/2 \[#{12}-{12}\] loss 0\.500/);
  });
});

describe('threshold calibration', () => {
  const held = (confidences: number[], predicted: number[], gold: number[]) => ({
    confidences: Float64Array.from(confidences),
    predicted: Int32Array.from(predicted),
    gold: Int32Array.from(gold),
  });
  const settings = { outOfScopeIndex: 2, recallWeight: 0.5, inScopeRejectRate: 0.25, fallbackThreshold: 0.3 };

  it('calibration - with out-of-scope examples it separates them from the in-scope ones', () => {
    // In-scope right at 0.9 and 0.8, out-of-scope predicted in-scope at 0.4 and 0.3.
    const calibration = calibrateThreshold(held([0.9, 0.8, 0.4, 0.3], [0, 1, 0, 1], [0, 1, 2, 2]), settings);
    assert.equal(calibration.method, 'outOfScopeExamples');
    assert.ok(calibration.threshold > 0.4 && calibration.threshold <= 0.8, String(calibration.threshold));
    assert.equal(calibration.inScopeAccuracy, 1);
    assert.equal(calibration.outOfScopeRecall, 1);
  });

  it('calibration - without out-of-scope examples it takes the quantile of right predictions', () => {
    const calibration = calibrateThreshold(held([0.9, 0.8, 0.7, 0.6], [0, 1, 0, 1], [0, 1, 0, 1]), settings);
    assert.equal(calibration.method, 'inScopeQuantile');
    assert.equal(calibration.threshold, 0.7);
  });

  it('calibration - without held-out data it falls back', () => {
    const calibration = calibrateThreshold(held([], [], []), settings);
    assert.deepEqual(calibration, {
      threshold: 0.3,
      method: 'fallback',
      inScopeAccuracy: undefined,
      outOfScopeRecall: undefined,
    });
  });
});

describe('prng', () => {
  it('prng - the same seed repeats its sequence, another seed does not', () => {
    const draw = (seed: number) => {
      const rng = createPrng(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    assert.deepEqual(draw(1), draw(1));
    assert.notDeepEqual(draw(1), draw(2));
    const rng = createPrng(7);
    for (let i = 0; i < 1000; i++) {
      const x = rng.nextFloat();
      assert.ok(x >= 0 && x < 1);
    }
  });
});
