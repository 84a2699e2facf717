/** Errors of the rule engine. */

export const RuleErrorCode = {
  /** A pattern is not a valid JavaScript regular expression (with the `iu` flags). */
  InvalidPattern: 'RULES_INVALID_PATTERN',
} as const;
export type RuleErrorCode = (typeof RuleErrorCode)[keyof typeof RuleErrorCode];

/** An intent's pattern cannot be compiled; the classifier is not created. */
export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
  readonly code = RuleErrorCode.InvalidPattern;
  constructor(
    readonly intent: string,
    readonly pattern: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    super(
      `intent '${intent}' has an invalid pattern /${pattern}/: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}; fix it in the plugin's manifest`,
      options,
    );
  }
}
