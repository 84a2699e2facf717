/** Errors of intent-model training, inference and model files. */

export const ModelErrorCode = {
  /** The training data cannot train a model (no examples, a single label, an empty text or label). */
  InvalidTrainingData: 'MODEL_INVALID_TRAINING_DATA',
  /** A model file is not one this code reads (wrong magic, unsupported version, truncated, inconsistent). */
  InvalidModelFile: 'MODEL_INVALID_FILE',
  /** A feature id passed to the forward pass is outside the model's embedding table. */
  InvalidFeatureId: 'MODEL_INVALID_FEATURE_ID',
} as const;
export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

/** The examples given to `trainIntentModel` cannot train a model; nothing was trained. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
  readonly code = ModelErrorCode.InvalidTrainingData;
  constructor(
    /** Which split is at fault. */
    readonly split: 'train' | 'validation',
    reason: string,
  ) {
    super(`cannot train an intent model: ${split} data ${reason}`);
  }
}

/** Bytes given to `deserialiseModel` are not a model file this version reads. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  readonly code = ModelErrorCode.InvalidModelFile;
  constructor(reason: string, options?: ErrorOptions) {
    super(`not a readable Parley intent model: ${reason}; retrain it with \`parley model train\``, options);
  }
}

/** A feature id is not in [0, buckets]: the ids were made with other feature options than the model's. */
export class FeatureIdError extends RangeError {
  override readonly name = 'FeatureIdError';
  readonly code = ModelErrorCode.InvalidFeatureId;
  constructor(
    readonly id: number,
    readonly buckets: number,
  ) {
    super(
      `feature id ${id} is outside [0, ${buckets}]: featurise with the model's own feature options (model.features)`,
    );
  }
}
