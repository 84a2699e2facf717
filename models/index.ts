/**
 * The understanding step: the classifier seam the conversation actor depends on, and its implementations
 * (today the rule engine; next the local intent model).
 */
export type {
  Classification,
  ClassifyContext,
  IntentClassifier,
  IntentConditions,
  IntentSpec,
} from './classifier.js';
export * from './rules/index.js';
// Intent model inputs: datasets (Parley, CSV, Rasa NLU, CLINC150) and hashed n-gram features.
export * from './data/index.js';
export * from './features/index.js';
// The trained intent model: registry of versions, build pipeline, evaluation, and its classifier.
export * from './registry/index.js';
export { createLayeredClassifier } from './layered-classifier.js';
// Training (TypeScript network, seeded, early stopping, out-of-scope calibration) and ONNX export/runtime.
export * from './model/index.js';
export * from './onnx/index.js';
