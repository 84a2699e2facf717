export { openModelRegistry, modelMetadataSchema, ModelFiles } from './model-registry.js';
export type { ModelEntry, ModelMetadata, ModelRegistry, ModelToPublish } from './model-registry.js';
export { buildModel, trainingDataHash } from './build-model.js';
export type { BuiltModel } from './build-model.js';
export { evaluate } from './evaluate.js';
export type { Evaluation, ScoredPrediction } from './evaluate.js';
export { ModelRegistryError } from './errors.js';
