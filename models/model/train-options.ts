/** Options of intent-model training, compiled once by {@link compileTrainOptions}. */
import {
  compileFeatureOptions,
  type CompiledFeatureOptions,
  type FeatureOptions,
} from '../features/index.js';
import type { TrainingProgress } from './progress.js';

export interface TrainOptions {
  /**
   * Feature extraction: hash buckets and n-grams.
   * @default the featurizer's defaults, but `buckets: 2 ** 17`: a 33.5 MB float table at `dim` 64 (8.9 MB as
   * INT8). CLINC150's 48,060 distinct training features land in 40,142 buckets (43,882 of 2 ** 18); 2 ** 16,
   * 2 ** 17 and 2 ** 18 gave the same accuracy within run-to-run noise.
   */
  features?: FeatureOptions;
  /** Seed of initialisation, shuffling, dropout and the validation hold-out. Same seed, same data: same bytes. @default 1 */
  seed?: number;
  /** Embedding width. @default 64 */
  dim?: number;
  /** Hidden layer width. @default 128 */
  hidden?: number;
  /**
   * Examples per optimiser step.
   * @default 64, but at most a tenth of the training examples (so small data still takes 10 steps an epoch)
   */
  batchSize?: number;
  /**
   * Most passes over the training data; the learning rates decay linearly over them.
   * @default 12, raised for small data so that training takes at least 1,500 optimiser steps (at most 300 epochs)
   */
  maxEpochs?: number;
  /**
   * Epochs without a better validation accuracy before training stops (the best epoch is restored).
   * @default 3, or a tenth of `maxEpochs` when that is more
   */
  patience?: number;
  /** Adam learning rate of the dense layers (decayed linearly to `finalLearningRateFraction` of it). @default 0.004 */
  learningRate?: number;
  /** Adam learning rate of the embedding table (lazy Adam), decayed the same way. @default 0.04 */
  embeddingLearningRate?: number;
  /** The learning rates end at this fraction of their start after `maxEpochs`. @default 0.1 */
  finalLearningRateFraction?: number;
  /** Label smoothing of the cross-entropy target, in [0, 1): softer, better calibrated confidences. @default 0.1 */
  labelSmoothing?: number;
  /**
   * Probability of dropping each feature id of an example in training (never all of them): the strongest
   * regulariser here, as an utterance must be recognised from any part of its n-grams. @default 0.6
   */
  tokenDropout?: number;
  /** Dropout on the hidden layer in training. @default 0.2 */
  hiddenDropout?: number;
  /** Initial embedding values are uniform in [-scale, scale] (0: all zero, so unseen buckets stay zero). @default 0.01 */
  embeddingInitScale?: number;
  /**
   * Share of each label's training examples held out for early stopping and threshold calibration when no
   * validation split is given (a label's last example is never held out). 0: no hold-out, train
   * `maxEpochs` and use `outOfScope.fallbackThreshold`. @default 0.1
   */
  validationFraction?: number;
  /** Out-of-scope handling. */
  outOfScope?: OutOfScopeOptions;
  /** Called after every batch and every epoch (e.g. `createProgressBar().onProgress`); must not throw. */
  onProgress?: (progress: TrainingProgress) => void;
  /** Aborts training between batches; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface OutOfScopeOptions {
  /** The label of out-of-scope examples; when the data has it, it is trained as a class of its own. @default 'oos' */
  label?: string;
  /**
   * Weight `w` of out-of-scope recall against in-scope accuracy when the threshold is calibrated on
   * held-out data that has out-of-scope examples: the threshold maximises
   * `(1 - w) * inScopeAccuracy + w * outOfScopeRecall`.
   * @default the out-of-scope share of the held-out examples: every held-out example counts once, i.e. the
   * threshold maximises held-out accuracy with out-of-scope as a class
   */
  recallWeight?: number;
  /**
   * Without out-of-scope examples to calibrate on, the threshold is the confidence below which this share of
   * the held-out examples the model gets right fall (the in-scope examples it may turn away). @default 0.05
   */
  inScopeRejectRate?: number;
  /** The threshold when there is no held-out data at all. @default 0.3 */
  fallbackThreshold?: number;
}

export interface CompiledTrainOptions {
  readonly features: CompiledFeatureOptions;
  readonly seed: number;
  readonly dim: number;
  readonly hidden: number;
  /** `undefined`: chosen from the data size (see {@link TrainOptions.maxEpochs}). */
  readonly maxEpochs: number | undefined;
  /** `undefined`: chosen from `maxEpochs`. */
  readonly patience: number | undefined;
  /** `undefined`: chosen from the data size. */
  readonly batchSize: number | undefined;
  readonly learningRate: number;
  readonly embeddingLearningRate: number;
  readonly finalLearningRateFraction: number;
  readonly labelSmoothing: number;
  readonly tokenDropout: number;
  readonly hiddenDropout: number;
  readonly embeddingInitScale: number;
  readonly validationFraction: number;
  readonly outOfScope: {
    readonly label: string;
    /** `undefined`: the out-of-scope share of the held-out examples. */
    readonly recallWeight: number | undefined;
    readonly inScopeRejectRate: number;
    readonly fallbackThreshold: number;
  };
  readonly adam: { readonly beta1: number; readonly beta2: number; readonly epsilon: number };
  readonly onProgress: ((progress: TrainingProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const DEFAULT_BUCKETS = 2 ** 17;

/** The batch size, epoch budget and patience of a run on `trainExamples` examples. */
export interface TrainingSchedule {
  readonly batchSize: number;
  readonly maxEpochs: number;
  readonly patience: number;
}

/** Resolves the data-dependent defaults of {@link TrainOptions.batchSize}, `maxEpochs` and `patience`. */
export function trainingSchedule(options: CompiledTrainOptions, trainExamples: number): TrainingSchedule {
  const batchSize = options.batchSize ?? Math.max(1, Math.min(64, Math.floor(trainExamples / 10)));
  const stepsPerEpoch = Math.max(1, Math.ceil(trainExamples / batchSize));
  const maxEpochs = options.maxEpochs ?? Math.min(300, Math.max(12, Math.ceil(1500 / stepsPerEpoch)));
  const patience = options.patience ?? Math.max(3, Math.ceil(maxEpochs / 10));
  return { batchSize, maxEpochs, patience };
}

/** Applies the defaults and validates; throws a `RangeError` naming the option at fault. */
export function compileTrainOptions(options: TrainOptions = {}): CompiledTrainOptions {
  const compiled: CompiledTrainOptions = {
    features: compileFeatureOptions({ buckets: DEFAULT_BUCKETS, ...options.features }),
    seed: options.seed ?? 1,
    dim: options.dim ?? 64,
    hidden: options.hidden ?? 128,
    maxEpochs: options.maxEpochs,
    patience: options.patience,
    batchSize: options.batchSize,
    learningRate: options.learningRate ?? 0.004,
    embeddingLearningRate: options.embeddingLearningRate ?? 0.04,
    finalLearningRateFraction: options.finalLearningRateFraction ?? 0.1,
    labelSmoothing: options.labelSmoothing ?? 0.1,
    tokenDropout: options.tokenDropout ?? 0.6,
    hiddenDropout: options.hiddenDropout ?? 0.2,
    embeddingInitScale: options.embeddingInitScale ?? 0.01,
    validationFraction: options.validationFraction ?? 0.1,
    outOfScope: {
      label: options.outOfScope?.label ?? 'oos',
      recallWeight: options.outOfScope?.recallWeight,
      inScopeRejectRate: options.outOfScope?.inScopeRejectRate ?? 0.05,
      fallbackThreshold: options.outOfScope?.fallbackThreshold ?? 0.3,
    },
    adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    onProgress: options.onProgress,
    signal: options.signal,
  };
  integer('seed', compiled.seed, -(2 ** 31), 2 ** 32 - 1);
  integer('dim', compiled.dim, 1, 4096);
  integer('hidden', compiled.hidden, 1, 65536);
  if (compiled.maxEpochs !== undefined) integer('maxEpochs', compiled.maxEpochs, 1, 10000);
  if (compiled.patience !== undefined) integer('patience', compiled.patience, 1, 10000);
  if (compiled.batchSize !== undefined) integer('batchSize', compiled.batchSize, 1, 1 << 20);
  positive('learningRate', compiled.learningRate);
  positive('embeddingLearningRate', compiled.embeddingLearningRate);
  fraction('finalLearningRateFraction', compiled.finalLearningRateFraction, true);
  fraction('labelSmoothing', compiled.labelSmoothing, false);
  fraction('tokenDropout', compiled.tokenDropout, false);
  fraction('hiddenDropout', compiled.hiddenDropout, false);
  if (!Number.isFinite(compiled.embeddingInitScale) || compiled.embeddingInitScale < 0) {
    throw new RangeError(
      `embeddingInitScale must be a finite number >= 0, got ${compiled.embeddingInitScale}`,
    );
  }
  fraction('validationFraction', compiled.validationFraction, false);
  if (compiled.outOfScope.label.length === 0) throw new RangeError('outOfScope.label must not be empty');
  if (compiled.outOfScope.recallWeight !== undefined) {
    fraction('outOfScope.recallWeight', compiled.outOfScope.recallWeight, true);
  }
  fraction('outOfScope.inScopeRejectRate', compiled.outOfScope.inScopeRejectRate, false);
  fraction('outOfScope.fallbackThreshold', compiled.outOfScope.fallbackThreshold, true);
  return compiled;
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be > 0, got ${value}`);
}

/** In [0, 1) or, when `closed`, [0, 1]. */
function fraction(name: string, value: number, closed: boolean): void {
  const ok = Number.isFinite(value) && value >= 0 && (closed ? value <= 1 : value < 1);
  if (!ok) throw new RangeError(`${name} must be in [0, 1${closed ? ']' : ')'}, got ${value}`);
}
