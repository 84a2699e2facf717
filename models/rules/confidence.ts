/**
 * The confidence the rule engine reports for each kind of match. Rules are hand-written, so these are fixed
 * levels rather than probabilities; they order the kinds and let the conversation actor compare rule
 * results with the model's softmax probability on one scale.
 */
export const RuleConfidence = {
  /** A manifest regex matched: the author said exactly what this phrasing means. */
  pattern: 0.95,
  /** A keyword occurs in the text (whole word in Latin script, substring in CJK). */
  keyword: 0.85,
  /** The text equals an example once case, punctuation and spacing are ignored. */
  example: 0.8,
  /**
   * Ceiling for a near match of an example; the reported confidence is this times the token overlap
   * (Jaccard), so between 0.525 and 0.7 given {@link NEAR_EXAMPLE_OVERLAP}.
   */
  nearExample: 0.7,
} as const;

/** The kinds of rule match, strongest first. */
export type RuleMatchKind = keyof typeof RuleConfidence;

/** Minimum token overlap (Jaccard index of the token sets) for a near match of an example. */
export const NEAR_EXAMPLE_OVERLAP = 0.75;
