/**
 * How text becomes features: the size of the hash space and which n-grams are taken. A model stores the
 * compiled options it was trained with and must featurise queries with exactly the same ones.
 */
import { InvalidFeatureOptionsError } from './errors.js';

/**
 * The version of the feature scheme (normalisation, tokenisation, n-grams, hash). It changes whenever
 * {@link featurize} would give other ids for the same text and options, so a model trained on an older
 * scheme can be told apart and retrained.
 */
export const FEATURE_VERSION = 1;

export interface FeatureOptions {
  /**
   * Size of the hash space: ids fall in [1, buckets] (0 is padding), so the model's embedding table has
   * `buckets + 1` rows. More buckets mean fewer collisions and a bigger model. CLINC150's training set
   * (15,100 texts) has 48,075 distinct features with the default n-grams; they land in 43,882 distinct
   * buckets of 2**18 (46,959 of 2**20, 33,891 of 2**16).
   * An integer in [1, 2**31 - 1].
   * @default 2 ** 18
   */
  readonly buckets?: number;
  /**
   * Longest word n-gram: 1 takes single words only, 2 adds word pairs, and so on. An integer in [1, 5].
   * @default 2
   */
  readonly wordNgrams?: number;
  /**
   * Lengths of the character n-grams taken inside each (non-CJK) word, fastText style: the word is wrapped
   * in `<` `>` markers, so `[2, 4]` on `time` gives `<t ti im me e> <ti tim ime me> <tim time ime>`.
   * They make typos and inflections land near the original. Integers with 1 <= min <= max <= 10, or
   * `[0, 0]` for none.
   * @default [2, 4]
   */
  readonly charNgrams?: readonly [number, number];
}

/** {@link FeatureOptions} with defaults applied and validated; what {@link featurize} takes. */
export interface CompiledFeatureOptions {
  readonly buckets: number;
  readonly wordNgrams: number;
  /** `[0, 0]` when character n-grams are off. */
  readonly charNgrams: readonly [number, number];
  /** {@link FEATURE_VERSION} of the scheme these options are for. */
  readonly version: typeof FEATURE_VERSION;
}

export const DEFAULT_FEATURE_OPTIONS = {
  buckets: 2 ** 18,
  wordNgrams: 2,
  charNgrams: [2, 4],
} as const satisfies Required<FeatureOptions>;

const MAX_WORD_NGRAMS = 5;
const MAX_CHAR_NGRAM = 10;

/**
 * Applies defaults and validates.
 *
 * @throws {InvalidFeatureOptionsError} when a value is out of range.
 * @example
 * ```ts
 * const options = compileFeatureOptions({ buckets: 2 ** 20 });
 * const ids = featurize('what time is it in Tokyo', options);
 * ```
 */
export function compileFeatureOptions(options: FeatureOptions = {}): CompiledFeatureOptions {
  const {
    buckets = DEFAULT_FEATURE_OPTIONS.buckets,
    wordNgrams = DEFAULT_FEATURE_OPTIONS.wordNgrams,
    charNgrams = DEFAULT_FEATURE_OPTIONS.charNgrams,
  } = options;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 2 ** 31 - 1) {
    throw new InvalidFeatureOptionsError('buckets', buckets, 'an integer in [1, 2**31 - 1]');
  }
  if (!Number.isInteger(wordNgrams) || wordNgrams < 1 || wordNgrams > MAX_WORD_NGRAMS) {
    throw new InvalidFeatureOptionsError('wordNgrams', wordNgrams, `an integer in [1, ${MAX_WORD_NGRAMS}]`);
  }
  const [min, max] = charNgrams;
  const off = min === 0 && max === 0;
  const valid =
    Number.isInteger(min) && Number.isInteger(max) && min >= 1 && min <= max && max <= MAX_CHAR_NGRAM;
  if (!off && !valid) {
    throw new InvalidFeatureOptionsError(
      'charNgrams',
      charNgrams,
      `[min, max] with integers 1 <= min <= max <= ${MAX_CHAR_NGRAM}, or [0, 0] for none`,
    );
  }
  return Object.freeze({
    buckets,
    wordNgrams,
    charNgrams: Object.freeze([min, max] as const),
    version: FEATURE_VERSION,
  });
}
