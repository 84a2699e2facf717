/** The rule engine: intent classification from manifest-declared patterns, keywords and examples. */
export { createRuleClassifier } from './rule-classifier.js';
export type { RankedMatch, RuleClassifier } from './rule-classifier.js';
export { NEAR_EXAMPLE_OVERLAP, RuleConfidence } from './confidence.js';
export type { RuleMatchKind } from './confidence.js';
export { InvalidPatternError, RuleErrorCode } from './errors.js';
export { foldText, normaliseText, tokenise } from './normalise.js';
