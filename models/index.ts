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
