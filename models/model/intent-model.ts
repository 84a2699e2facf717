/**
 * A trained intent model and its TypeScript inference: the reference every ONNX export is checked against.
 */
import { type CompiledFeatureOptions, featurize } from '../features/index.js';
import type { Calibration } from './calibration.js';
import { FeatureIdError } from './errors.js';
import { createForwardScratch, forwardInto, type NetworkShape, type NetworkWeights } from './network.js';

/** Everything needed to classify text, and how the model came to be. */
export interface TrainedModel {
  /** Class labels, sorted by code unit; index `i` is output `i` of the network. */
  readonly labels: readonly string[];
  /** The feature options the model was trained with; queries must be featurised with exactly these. */
  readonly features: CompiledFeatureOptions;
  readonly shape: NetworkShape;
  readonly weights: NetworkWeights;
  /** A prediction whose confidence is below this is out of scope. */
  readonly threshold: number;
  /** The label of the explicit out-of-scope class, when the training data had one (CLINC150's `oos`). */
  readonly outOfScopeLabel: string | undefined;
  /** How the threshold was calibrated and what it gave on the held-out data. */
  readonly calibration: Calibration;
  readonly metrics: TrainingMetrics;
}

/** Figures of a training run. */
export interface TrainingMetrics {
  readonly trainExamples: number;
  /** Held-out examples used for early stopping and calibration (given or split off); 0 when none. */
  readonly validationExamples: number;
  /** Epochs run. */
  readonly epochs: number;
  /** The epoch whose weights were kept. */
  readonly bestEpoch: number;
  readonly stoppedBy: 'patience' | 'maxEpochs';
  /** Accuracy (top label) on the training examples with the kept weights. */
  readonly trainAccuracy: number;
  /** Accuracy (top label) on the held-out examples with the kept weights; `undefined` without any. */
  readonly validationAccuracy: number | undefined;
  /**
   * Wall-clock training time. Not stored in model files (a model file depends only on data, options and
   * seed), so `undefined` on a deserialised model.
   */
  readonly durationMs?: number;
}

/** What the model made of one text. */
export interface Prediction {
  /** The most probable label (may be the explicit out-of-scope label). */
  readonly label: string;
  /** Its probability, 0..1. */
  readonly confidence: number;
  /** The top label is the out-of-scope class, or the confidence is below the model's threshold. */
  readonly outOfScope: boolean;
}

/**
 * Class probabilities for one text's feature ids (as `featurize` gives them with `model.features`):
 * a mean embedding bag, the hidden layer and a softmax.
 *
 * @throws {FeatureIdError} when an id is outside [0, buckets].
 */
export function forward(model: TrainedModel, ids: ArrayLike<number>): Float32Array {
  checkIds(model.shape, ids);
  const scratch = createForwardScratch(model.shape);
  forwardInto(model.shape, model.weights, ids, 0, ids.length, scratch);
  return Float32Array.from(scratch.probabilities);
}

/**
 * Classifies texts.
 *
 * @example
 * ```ts
 * const [result] = predict(model, ['what time is it in Tokyo']);
 * if (!result.outOfScope) console.log(result.label, result.confidence);
 * ```
 */
export function predict(model: TrainedModel, texts: readonly string[]): Prediction[] {
  const scratch = createForwardScratch(model.shape);
  return texts.map((text) => {
    const ids = featurize(text, model.features);
    const top = forwardInto(model.shape, model.weights, ids, 0, ids.length, scratch);
    const label = model.labels[top]!;
    const confidence = scratch.probabilities[top]!;
    return { label, confidence, outOfScope: isOutOfScope(model, label, confidence) };
  });
}

/** The model's out-of-scope rule, for callers that run inference elsewhere (e.g. in ONNX Runtime). */
export function isOutOfScope(
  model: Pick<TrainedModel, 'threshold' | 'outOfScopeLabel'>,
  label: string,
  confidence: number,
): boolean {
  return label === model.outOfScopeLabel || confidence < model.threshold;
}

function checkIds(shape: NetworkShape, ids: ArrayLike<number>): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id <= shape.buckets))
      throw new FeatureIdError(id, shape.buckets);
  }
}
