/**
 * Text to hashed feature ids: the input of the intent model's embedding bag.
 *
 * 1. Normalise and tokenise exactly as the rule engine does (`models/rules/normalise.ts`): NFKC,
 *    typographic quotes to ASCII, lower case; tokens are runs of letters and digits (`don't` stays one
 *    word, other punctuation goes), and each CJK character (Han, Hiragana, Katakana, Hangul) is a token of
 *    its own, since those scripts put no spaces between words.
 * 2. For each token, in order: the word; its character n-grams (non-CJK words only, wrapped in `<` `>`);
 *    the word n-grams starting at it (2..wordNgrams tokens); and, when it is a CJK character directly
 *    followed by another, the CJK bigram of the two. So `东京现在几点` gives 东 京 现 在 几 点 and
 *    东京 京现 现在 在几 几点: unigrams for recall, bigrams for the words the characters form. (With
 *    `wordNgrams >= 2` a CJK pair is a word bigram as well; the CJK bigram keeps it when `wordNgrams` is 1.)
 * 3. Hash each feature with its kind (see `hash.ts`) into [1, buckets].
 */
import { foldText, tokenise } from '../rules/index.js';
import type { CompiledFeatureOptions } from './feature-options.js';
import type { FeatureKind } from './hash.js';
import {
  bucketMapper,
  bucketOf,
  FNV_PRIME,
  fnvCodePoint,
  fnvString,
  hashFeature,
  kindState,
  FeatureKind as Kind,
} from './hash.js';

const CJK_CHARACTER = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u;
const LEFT_MARKER = 0x3c; // '<'
const RIGHT_MARKER = 0x3e; // '>'
const SPACE = 0x20;

const WORD_STATE = kindState(Kind.Word);
const NGRAM_STATE = kindState(Kind.WordNgram);
const CHAR_STATE = kindState(Kind.CharNgram);
const CJK_STATE = kindState(Kind.CjkBigram);

/** The tokens of a text, whether each is a CJK character, and whether it touches the token before it. */
interface Tokens {
  readonly words: readonly string[];
  /** `cjk[i]`: token i is a CJK character. Empty (none is) for text of printable ASCII. */
  readonly cjk: readonly boolean[];
  /** `joined[i]`: token i starts right where token i - 1 ends (no space or punctuation between). */
  readonly joined: readonly boolean[];
}

const NO_CJK: Tokens['cjk'] = [];
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const APOSTROPHE = 0x27;

function tokens(text: string): Tokens {
  if (PRINTABLE_ASCII.test(text)) return { words: asciiWords(text), cjk: NO_CJK, joined: NO_CJK };
  const folded = foldText(text);
  const words = tokenise(folded);
  const cjk: boolean[] = [];
  const joined: boolean[] = [];
  // Tokens come in order and none starts with a character the tokeniser skips, so `indexOf` from the end
  // of the previous token finds each one where the tokeniser did.
  let end = -1;
  for (const word of words) {
    const start = folded.indexOf(word, Math.max(end, 0));
    joined.push(start === end);
    cjk.push(CJK_CHARACTER.test(word));
    end = start + word.length;
  }
  return { words, cjk, joined };
}

/**
 * `tokenise(foldText(text))` for text of printable ASCII alone, in one pass: NFKC and the quote folding
 * leave such text as it is, white space only separates, and the letters and digits are the only
 * characters outside `\s`, `\p{P}` and `\p{S}`, so a token is `[a-z0-9]+('[a-z0-9]+)*` of the lower-cased
 * text. Most chat is such text; on the benchmark's texts (72% of them ASCII) featurising takes about a
 * third less time (the tests hold the two paths to the same ids).
 */
function asciiWords(text: string): string[] {
  const lower = text.toLowerCase();
  const words: string[] = [];
  const length = lower.length;
  let at = 0;
  while (at < length) {
    if (!isAsciiWordChar(lower.charCodeAt(at))) {
      at += 1;
      continue;
    }
    const start = at;
    while (at < length && isAsciiWordChar(lower.charCodeAt(at))) at += 1;
    while (lower.charCodeAt(at) === APOSTROPHE && isAsciiWordChar(lower.charCodeAt(at + 1))) {
      at += 1;
      while (at < length && isAsciiWordChar(lower.charCodeAt(at))) at += 1;
    }
    words.push(lower.slice(start, at));
  }
  return words;
}

/** A lower-case ASCII letter or a digit. */
function isAsciiWordChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}

/** A growable list of int32 ids. */
class IdList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(capacity);
  }
  push(id: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length] = id;
    this.length += 1;
  }
}

let bytes = new Uint8Array(256);
let charStarts = new Int32Array(64);

/**
 * Writes `<word>` as UTF-8 into `bytes` and the byte offset of each code point into `charStarts` (one
 * more at the end); returns the code point count. Encoding once per word, rather than per n-gram as
 * `fnvString` would, is what keeps character n-grams cheap; the bytes are the same (see the tests).
 */
function encodeMarked(word: string): number {
  if (bytes.length < word.length * 3 + 2) bytes = new Uint8Array(word.length * 6 + 2);
  if (charStarts.length < word.length + 3) charStarts = new Int32Array(word.length * 2 + 3);
  let at = 0;
  let chars = 0;
  charStarts[chars++] = at;
  bytes[at++] = LEFT_MARKER;
  for (let index = 0; index < word.length; index += 1) {
    charStarts[chars++] = at;
    let code = word.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < word.length) {
      const low = word.charCodeAt(index + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        index += 1;
      } else {
        code = 0xfffd;
      }
    } else if (code >= 0xd800 && code <= 0xdfff) {
      code = 0xfffd;
    }
    if (code < 0x80) {
      bytes[at++] = code;
    } else if (code < 0x800) {
      bytes[at++] = 0xc0 | (code >> 6);
      bytes[at++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      bytes[at++] = 0xe0 | (code >> 12);
      bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[at++] = 0x80 | (code & 0x3f);
    } else {
      bytes[at++] = 0xf0 | (code >> 18);
      bytes[at++] = 0x80 | ((code >> 12) & 0x3f);
      bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[at++] = 0x80 | (code & 0x3f);
    }
  }
  charStarts[chars++] = at;
  bytes[at++] = RIGHT_MARKER;
  charStarts[chars] = at;
  return chars;
}

/** Appends the ids of one text's features to `out`, in the documented order. */
function collect(text: string, options: CompiledFeatureOptions, out: IdList): void {
  const { buckets, wordNgrams } = options;
  const toId = bucketMapper(buckets);
  const [minChars, maxChars] = options.charNgrams;
  const { words, cjk, joined } = tokens(text);
  const count = words.length;
  for (let index = 0; index < count; index += 1) {
    const word = words[index] ?? '';
    out.push(toId(fnvString(WORD_STATE, word)));

    if (maxChars > 0 && !cjk[index]) {
      // Every n-gram of minChars..maxChars code points of `<word>`, hashed incrementally from each start.
      const chars = encodeMarked(word);
      for (let start = 0; start < chars; start += 1) {
        let state = CHAR_STATE;
        const stop = Math.min(start + maxChars, chars);
        for (let end = start; end < stop; end += 1) {
          for (let at = charStarts[end] ?? 0, last = charStarts[end + 1] ?? 0; at < last; at += 1) {
            state = Math.imul(state ^ (bytes[at] ?? 0), FNV_PRIME);
          }
          const size = end - start + 1;
          // A lone marker says nothing about the word.
          if (size >= minChars && !(size === 1 && (start === 0 || start === chars - 1)))
            out.push(toId(state));
        }
      }
    }

    let state = fnvString(NGRAM_STATE, word);
    for (let next = index + 1; next < count && next - index < wordNgrams; next += 1) {
      state = fnvString(fnvCodePoint(state, SPACE), words[next] ?? '');
      out.push(toId(state));
    }

    if (cjk[index] && cjk[index + 1] && joined[index + 1]) {
      out.push(toId(fnvString(fnvString(CJK_STATE, word), words[index + 1] ?? '')));
    }
  }
}

let scratch = new IdList(256);

/**
 * The feature ids of one text: bucket ids in [1, buckets] (0 is reserved for padding), duplicates kept,
 * in a fixed order. The same text and options give the same ids on every run and machine. Empty for a
 * text with no letters or digits.
 *
 * @example
 * ```ts
 * featurize('What time is it?', compileFeatureOptions()); // Uint32Array [ ...ids ]
 * ```
 */
export function featurize(text: string, options: CompiledFeatureOptions): Uint32Array {
  scratch.length = 0;
  collect(text, options, scratch);
  const ids = new Uint32Array(scratch.length);
  ids.set(scratch.data.subarray(0, scratch.length));
  if (scratch.data.length > 65_536) scratch = new IdList(256);
  return ids;
}

/** Many texts' ids, flat: text `i` has `ids.subarray(offsets[i], offsets[i + 1])`. */
export interface FeatureBatch {
  readonly ids: Int32Array;
  /** Length `texts.length + 1`; `offsets[0]` is 0 and the last is `ids.length`. */
  readonly offsets: Int32Array;
}

/**
 * {@link featurize} over many texts at once, in the layout an embedding bag takes (ONNX `Gather` +
 * `offsets`, PyTorch `EmbeddingBag`).
 */
export function featurizeBatch(texts: readonly string[], options: CompiledFeatureOptions): FeatureBatch {
  const out = new IdList(Math.max(16, texts.length * 48));
  const offsets = new Int32Array(texts.length + 1);
  texts.forEach((text, index) => {
    collect(text, options, out);
    offsets[index + 1] = out.length;
  });
  // A view, not a copy: one buffer fewer for the young generation to sweep (the list is this call's own).
  return { ids: out.data.subarray(0, out.length), offsets };
}

/** One feature as {@link explainFeatures} shows it. */
export interface ExplainedFeature {
  readonly kind: FeatureKind;
  /** The feature as hashed, without its kind prefix: `time`, `what time`, `<ti`, `东京`. */
  readonly text: string;
  readonly id: number;
}

/**
 * The features of a text as readable strings with their ids, in {@link featurize}'s order (and with its
 * ids): for debugging and for seeing why a model decided as it did. Slower than `featurize`.
 */
export function explainFeatures(text: string, options: CompiledFeatureOptions): ExplainedFeature[] {
  const { buckets, wordNgrams } = options;
  const [minChars, maxChars] = options.charNgrams;
  const { words, cjk, joined } = tokens(text);
  const features: ExplainedFeature[] = [];
  const add = (kind: FeatureKind, feature: string): void => {
    features.push({ kind, text: feature, id: bucketOf(hashFeature(kind, feature), buckets) });
  };
  words.forEach((word, index) => {
    add(Kind.Word, word);
    if (maxChars > 0 && !cjk[index]) {
      const chars = ['<', ...word, '>'];
      chars.forEach((_, start) => {
        for (let size = 1; size <= maxChars && start + size <= chars.length; size += 1) {
          const marker = size === 1 && (start === 0 || start === chars.length - 1);
          if (size >= minChars && !marker) add(Kind.CharNgram, chars.slice(start, start + size).join(''));
        }
      });
    }
    for (let size = 2; size <= wordNgrams && index + size <= words.length; size += 1) {
      add(Kind.WordNgram, words.slice(index, index + size).join(' '));
    }
    if (cjk[index] && cjk[index + 1] && joined[index + 1])
      add(Kind.CjkBigram, `${word}${words[index + 1] ?? ''}`);
  });
  return features;
}
