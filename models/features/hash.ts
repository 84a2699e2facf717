/**
 * The feature hash: 32-bit FNV-1a over the UTF-8 bytes of `<kind>:<feature>`, then MurmurHash3's `fmix32`
 * finaliser so that the low bits (all that `% buckets` keeps for power-of-two bucket counts) depend on
 * every input byte. Fixed for feature scheme version 1 (`FEATURE_VERSION`): changing it changes every
 * model's input.
 *
 * The kind prefix (`w:` word, `n:` word n-gram, `c:` character n-gram, `k:` CJK bigram) keeps kinds apart:
 * the word `ab` and the character n-gram `ab` hash differently instead of colliding systematically.
 *
 * Hashing streams over code units and encodes UTF-8 on the fly (a lone surrogate as U+FFFD, as
 * `TextEncoder` does), so no feature string is ever built on the hot path.
 */

/** The kinds of feature, each with the tag its hash input starts with. */
export const FeatureKind = {
  /** A word (or a single CJK character). */
  Word: 'w',
  /** 2..wordNgrams consecutive words, joined by single spaces. */
  WordNgram: 'n',
  /** A character n-gram of a `<word>`. */
  CharNgram: 'c',
  /** Two adjacent CJK characters. */
  CjkBigram: 'k',
} as const;
export type FeatureKind = (typeof FeatureKind)[keyof typeof FeatureKind];

export const FNV_OFFSET_BASIS = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** Feeds one byte. States are int32 between calls; {@link finalise} reads them as unsigned. */
function byte(state: number, value: number): number {
  return Math.imul(state ^ value, FNV_PRIME);
}

/** Feeds one code point as its UTF-8 bytes. */
export function fnvCodePoint(state: number, codePoint: number): number {
  if (codePoint < 0x80) return byte(state, codePoint);
  if (codePoint < 0x800) {
    return byte(byte(state, 0xc0 | (codePoint >> 6)), 0x80 | (codePoint & 0x3f));
  }
  if (codePoint < 0x10000) {
    const first = byte(state, 0xe0 | (codePoint >> 12));
    return byte(byte(first, 0x80 | ((codePoint >> 6) & 0x3f)), 0x80 | (codePoint & 0x3f));
  }
  const first = byte(byte(state, 0xf0 | (codePoint >> 18)), 0x80 | ((codePoint >> 12) & 0x3f));
  return byte(byte(first, 0x80 | ((codePoint >> 6) & 0x3f)), 0x80 | (codePoint & 0x3f));
}

/** Feeds a string as its UTF-8 bytes. */
export function fnvString(state: number, text: string): number {
  let h = state;
  const length = text.length;
  for (let index = 0; index < length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) {
      h = byte(h, unit);
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = index + 1 < length ? text.charCodeAt(index + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        h = fnvCodePoint(h, 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00));
        index += 1;
      } else {
        h = fnvCodePoint(h, 0xfffd);
      }
    } else {
      h = fnvCodePoint(h, unit);
    }
  }
  return h;
}

/** The state after feeding a kind's `<tag>:` prefix. */
export function kindState(kind: FeatureKind): number {
  return fnvString(FNV_OFFSET_BASIS, `${kind}:`);
}

/** MurmurHash3's 32-bit finaliser over an FNV state; an unsigned 32-bit hash. */
export function finalise(state: number): number {
  let h = state >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The unsigned 32-bit hash of one feature: `fmix32(fnv1a32(utf8("<kind>:<feature>")))`. */
export function hashFeature(kind: FeatureKind, feature: string): number {
  return finalise(fnvString(kindState(kind), feature));
}

/** A hash's bucket id in [1, buckets]; 0 stays free for padding. */
export function bucketOf(hash: number, buckets: number): number {
  return 1 + (hash % buckets);
}

/**
 * A function from an FNV state to its bucket id, {@link bucketOf} of {@link finalise}. For a power-of-two
 * bucket count it masks in int32 arithmetic (the same result, without `%` on a double).
 */
export function bucketMapper(buckets: number): (state: number) => number {
  if ((buckets & (buckets - 1)) === 0 && buckets <= 2 ** 30) {
    const mask = buckets - 1;
    return (state) => {
      let h = state ^ (state >>> 16);
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      return ((h ^ (h >>> 16)) & mask) + 1;
    };
  }
  return (state) => bucketOf(finalise(state), buckets);
}
