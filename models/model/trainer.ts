/**
 * `trainIntentModel`: examples in, a calibrated {@link TrainedModel} out.
 */
import { performance } from 'node:perf_hooks';
import { type Example, splitDataset } from '../data/index.js';
import { type CompiledFeatureOptions, featurize } from '../features/index.js';
import { type Calibration, calibrateThreshold } from './calibration.js';
import { type EncodedExamples, encodeExamples, exampleCount } from './encoded.js';
import { TrainingDataError } from './errors.js';
import { evaluate, fitNetwork } from './fit.js';
import type { TrainedModel } from './intent-model.js';
import { createForwardScratch, forwardInto, type NetworkShape, type NetworkWeights } from './network.js';
import {
  compileTrainOptions,
  type CompiledTrainOptions,
  type TrainOptions,
  trainingSchedule,
} from './train-options.js';

/** Training data: `validation` drives early stopping and threshold calibration (split off `train` when absent). */
export interface TrainingData {
  readonly train: readonly Example[];
  readonly validation?: readonly Example[] | undefined;
}

/**
 * Trains an intent model: labels are the distinct training labels (the out-of-scope label included, as a
 * class of its own, when present), the network is fitted with early stopping on the validation examples,
 * and the out-of-scope threshold is calibrated on them (see `calibration.ts`). Single-threaded and
 * deterministic: the same data, options and seed give a byte-identical `serialiseModel` output.
 *
 * @throws {TrainingDataError} when the data cannot train a model (fewer than two labels, an empty text).
 * @throws {RangeError} when an option is out of range.
 * @example
 * ```ts
 * const model = await trainIntentModel({ train: dataset.train, validation: dataset.validation }, { seed: 7 });
 * const [prediction] = predict(model, ['set an alarm for 7']);
 * ```
 */
export async function trainIntentModel(
  data: TrainingData,
  options: TrainOptions = {},
): Promise<TrainedModel> {
  const started = performance.now();
  const compiled = compileTrainOptions(options);
  const outOfScopeLabel = compiled.outOfScope.label;
  checkExamples('train', data.train);
  if (data.validation !== undefined) checkExamples('validation', data.validation);

  let train = data.train;
  let validation = data.validation ?? [];
  if (data.validation === undefined && compiled.validationFraction > 0) {
    const split = splitDataset(train, {
      validationFraction: compiled.validationFraction,
      seed: compiled.seed,
    });
    train = split.train;
    validation = split.validation;
  }

  const labels = [...new Set(train.map((example) => example.label))].sort(compareCodeUnits);
  if (labels.length < 2) {
    throw new TrainingDataError('train', `has ${labels.length} label(s); an intent model needs at least two`);
  }
  const labelIndex = new Map(labels.map((label, index) => [label, index]));
  for (const example of validation) {
    if (!labelIndex.has(example.label) && example.label !== outOfScopeLabel) {
      throw new TrainingDataError(
        'validation',
        `has label '${example.label}', which no training example has`,
      );
    }
  }

  const encode = (examples: readonly Example[]): EncodedExamples =>
    encodeExamples(
      examples.map((example) => featurize(example.text, compiled.features)),
      examples.map((example) => labelIndex.get(example.label) ?? -1),
    );
  const encodedTrain = encode(train);
  const encodedValidation = validation.length > 0 ? encode(validation) : undefined;
  const shape: NetworkShape = {
    buckets: compiled.features.buckets,
    dim: compiled.dim,
    hidden: compiled.hidden,
    classes: labels.length,
  };

  const schedule = trainingSchedule(compiled, exampleCount(encodedTrain));
  const fit = await fitNetwork(shape, encodedTrain, encodedValidation, { ...compiled, ...schedule });
  const outOfScopeIndex = labelIndex.get(outOfScopeLabel);
  const calibration = calibrate(shape, fit.weights, encodedValidation, outOfScopeIndex, compiled);
  const trainAccuracy = evaluate(shape, fit.weights, encodedTrain).accuracy;
  return {
    labels,
    features: compiled.features,
    shape,
    weights: fit.weights,
    threshold: calibration.threshold,
    outOfScopeLabel: outOfScopeIndex === undefined ? undefined : outOfScopeLabel,
    calibration,
    metrics: {
      trainExamples: train.length,
      validationExamples: validation.length,
      epochs: fit.epochs,
      bestEpoch: fit.bestEpoch,
      stoppedBy: fit.stoppedBy,
      trainAccuracy,
      validationAccuracy: fit.validationAccuracy,
      durationMs: performance.now() - started,
    },
  };
}

function calibrate(
  shape: NetworkShape,
  weights: NetworkWeights,
  heldOut: EncodedExamples | undefined,
  outOfScopeIndex: number | undefined,
  options: CompiledTrainOptions,
): Calibration {
  const count = heldOut === undefined ? 0 : exampleCount(heldOut);
  const confidences = new Float64Array(count);
  const predicted = new Int32Array(count);
  if (heldOut !== undefined) {
    const scratch = createForwardScratch(shape);
    for (let i = 0; i < count; i++) {
      const top = forwardInto(
        shape,
        weights,
        heldOut.ids,
        heldOut.offsets[i]!,
        heldOut.offsets[i + 1]!,
        scratch,
      );
      predicted[i] = top;
      confidences[i] = scratch.probabilities[top]!;
    }
  }
  return calibrateThreshold(
    { confidences, predicted, gold: heldOut?.labels ?? new Int32Array(0) },
    { outOfScopeIndex, ...options.outOfScope },
  );
}

function checkExamples(split: 'train' | 'validation', examples: readonly Example[]): void {
  if (split === 'train' && examples.length === 0) throw new TrainingDataError(split, 'has no examples');
  examples.forEach((example, index) => {
    if (typeof example.text !== 'string' || typeof example.label !== 'string' || example.label.length === 0) {
      throw new TrainingDataError(split, `example ${index} needs a string text and a non-empty label`);
    }
  });
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The feature options of a compiled training run (re-exported for callers that featurise themselves). */
export type { CompiledFeatureOptions };
