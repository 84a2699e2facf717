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
