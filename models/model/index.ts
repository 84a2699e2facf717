/**
 * The intent model: a hashed n-gram embedding bag -> hidden ReLU layer -> softmax, trained in TypeScript
 * (seeded, deterministic), with an out-of-scope threshold calibrated on held-out data.
 *
 * @example
 * ```ts
 * const model = await trainIntentModel({ train, validation }, { seed: 1 });
 * const [prediction] = predict(model, ['wake me up at 7']);
 * await writeFile('model.bin', serialiseModel(model));
 * ```
 */
export { trainIntentModel } from './trainer.js';
export type { TrainingData } from './trainer.js';
export { forward, isOutOfScope, predict } from './intent-model.js';
export type { Prediction, TrainedModel, TrainingMetrics } from './intent-model.js';
export { compileTrainOptions, trainingSchedule } from './train-options.js';
export type {
  CompiledTrainOptions,
  OutOfScopeOptions,
  TrainingSchedule,
  TrainOptions,
} from './train-options.js';
export type { TrainingProgress } from './progress.js';
export { createProgressBar } from './progress-bar.js';
export type { ProgressBar, ProgressBarOptions } from './progress-bar.js';
export type { Calibration } from './calibration.js';
export type { NetworkShape, NetworkWeights } from './network.js';
export { deserialiseModel, MODEL_FORMAT_VERSION, serialiseModel } from './serialise.js';
export { FeatureIdError, ModelErrorCode, ModelFileError, TrainingDataError } from './errors.js';
