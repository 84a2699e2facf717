/** Features: text to hashed word, character and CJK n-gram ids for the intent model. */
export { compileFeatureOptions, DEFAULT_FEATURE_OPTIONS, FEATURE_VERSION } from './feature-options.js';
export type { CompiledFeatureOptions, FeatureOptions } from './feature-options.js';
export { explainFeatures, featurize, featurizeBatch } from './featurize.js';
export type { ExplainedFeature, FeatureBatch } from './featurize.js';
export { FeatureKind, hashFeature } from './hash.js';
export { FeatureErrorCode, InvalidFeatureOptionsError } from './errors.js';
