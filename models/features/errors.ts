/** Errors of feature extraction. */

export const FeatureErrorCode = {
  /** A {@link FeatureOptions} value is out of range. */
  InvalidOptions: 'FEATURES_INVALID_OPTIONS',
} as const;
export type FeatureErrorCode = (typeof FeatureErrorCode)[keyof typeof FeatureErrorCode];

/** A feature option is out of range; the message names it, its value and the range allowed. */
export class InvalidFeatureOptionsError extends Error {
  override readonly name = 'InvalidFeatureOptionsError';
  readonly code = FeatureErrorCode.InvalidOptions;
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`feature option ${option} is ${JSON.stringify(value)}; it must be ${expected}`);
  }
}
