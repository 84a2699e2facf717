import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidFeatureOptionsError } from './errors.js';
import { compileFeatureOptions, DEFAULT_FEATURE_OPTIONS } from './feature-options.js';
import { explainFeatures, featurize, featurizeBatch } from './featurize.js';
import { FeatureKind, FNV_OFFSET_BASIS, finalise, fnvString, hashFeature } from './hash.js';

const options = compileFeatureOptions();

/** The features of one kind, as text. */
const ofKind = (text: string, kind: FeatureKind, compiled = options): string[] =>
  explainFeatures(text, compiled)
    .filter((feature) => feature.kind === kind)
    .map((feature) => feature.text);

/** Reference hash built the slow, obvious way, to check the streaming one against. */
function referenceHash(input: string): number {
  let h = FNV_OFFSET_BASIS;
  for (const byte of new TextEncoder().encode(input)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return finalise(h);
}

describe('features', () => {
  it('features - ids are fixed: a change of normalisation, n-grams or hash breaks this test', () => {
    assert.deepEqual(
      [...featurize('what time is it', options)],
      [
        2679, 228830, 181155, 213065, 17506, 147224, 100202, 40539, 147263, 253967, 217268, 92778, 35607,
        224708, 25572, 9548, 237007, 79208, 8270, 2433, 165393, 24612, 13531, 38557, 69072, 49817, 20635,
        95471, 248393, 178435, 182410, 169848, 194959, 246662, 217573, 239209, 41995, 178435, 222588, 78493,
        122606, 112818, 35607,
      ],
    );
    assert.deepEqual(
      [...featurize('东京现在几点', options)],
      [
        136250, 88919, 199274, 114819, 2249, 212278, 145212, 243494, 29897, 66470, 130986, 52727, 65081,
        94950, 200249, 5581,
      ],
    );
    const small = compileFeatureOptions({ buckets: 1000, wordNgrams: 1, charNgrams: [3, 3] });
    assert.deepEqual([...featurize('time', small)], [116, 991, 257, 547, 769]);
  });

  it('features - the same text gives the same ids every time, and explainFeatures agrees with featurize', () => {
    const texts = [
      "Don't panic!",
      '东京 现在几点?',
      'what time is it in 東京',
      'ｈｅｌｌｏ 𐌰𐌱𐌲 wörld',
      'x'.repeat(300),
    ];
    for (const compiled of [
      options,
      compileFeatureOptions({ buckets: 1009, wordNgrams: 3, charNgrams: [1, 6] }),
    ]) {
      for (const text of texts) {
        const ids = featurize(text, compiled);
        assert.deepEqual(featurize(text, compiled), ids);
        assert.deepEqual(
          explainFeatures(text, compiled).map((feature) => feature.id),
          [...ids],
          text,
        );
      }
    }
  });

  it('features - the hash is FNV-1a 32 over UTF-8 (published test vectors) with the murmur3 finaliser', () => {
    assert.equal(fnvString(FNV_OFFSET_BASIS, '') >>> 0, 0x811c9dc5);
    assert.equal(fnvString(FNV_OFFSET_BASIS, 'a') >>> 0, 0xe40c292c);
    assert.equal(fnvString(FNV_OFFSET_BASIS, 'foobar') >>> 0, 0xbf9cf968);
    for (const feature of ['time', '东京', 'wörld', '𐌰𐌱', 'lone \ud800 surrogate']) {
      assert.equal(hashFeature(FeatureKind.Word, feature), referenceHash(`w:${feature}`), feature);
      assert.equal(hashFeature(FeatureKind.CharNgram, feature), referenceHash(`c:${feature}`), feature);
    }
    assert.notEqual(hashFeature(FeatureKind.Word, 'ab'), hashFeature(FeatureKind.CharNgram, 'ab'));
  });

  it('features - ids fall in [1, buckets], for power-of-two and other bucket counts', () => {
    for (const buckets of [1, 2, 7, 1000, 2 ** 18, 2 ** 31 - 1]) {
      const ids = featurize(
        'the quick brown fox jumps over the lazy dog 东京现在几点',
        compileFeatureOptions({ buckets }),
      );
      assert.ok(ids.length > 0);
      assert.ok(
        ids.every((id) => id >= 1 && id <= buckets),
        `buckets ${buckets}`,
      );
    }
  });

  it('features - CJK gives each character as a word and adjacent characters as bigrams', () => {
    assert.deepEqual(ofKind('东京现在几点', FeatureKind.Word), ['东', '京', '现', '在', '几', '点']);
    assert.deepEqual(ofKind('东京现在几点', FeatureKind.CjkBigram), ['东京', '京现', '现在', '在几', '几点']);
    assert.deepEqual(ofKind('东京现在几点', FeatureKind.CharNgram), []);
    // No bigram across a space or punctuation; full-width punctuation is folded by NFKC.
    assert.deepEqual(ofKind('东京 现在，几点', FeatureKind.CjkBigram), ['东京', '现在', '几点']);
    // Japanese and Korean too; Latin words next to CJK keep their own features.
    assert.deepEqual(ofKind('こんにちは', FeatureKind.CjkBigram), ['こん', 'んに', 'にち', 'ちは']);
    assert.deepEqual(ofKind('time in 東京', FeatureKind.Word), ['time', 'in', '東', '京']);
    // The CJK bigram stays when word n-grams are off.
    const unigrams = compileFeatureOptions({ wordNgrams: 1 });
    assert.deepEqual(ofKind('现在几点', FeatureKind.CjkBigram, unigrams), ['现在', '在几', '几点']);
    assert.deepEqual(ofKind('现在几点', FeatureKind.WordNgram, unigrams), []);
  });

  it('features - a typo shares most character n-grams with the original word', () => {
    const chars = (word: string): Set<number> =>
      new Set(
        explainFeatures(word, options)
          .filter((feature) => feature.kind === FeatureKind.CharNgram)
          .map((feature) => feature.id),
      );
    const jaccard = (a: Set<number>, b: Set<number>): number =>
      [...a].filter((id) => b.has(id)).length / new Set([...a, ...b]).size;
    const original = chars('tomorrow');
    assert.ok(jaccard(original, chars('tomorow')) >= 0.6, `tomorow: ${jaccard(original, chars('tomorow'))}`);
    assert.ok(jaccard(chars('weather'), chars('wheather')) >= 0.5);
    assert.ok(jaccard(original, chars('weather')) < 0.1);
    assert.deepEqual(ofKind('time', FeatureKind.CharNgram), [
      '<t',
      '<ti',
      '<tim',
      'ti',
      'tim',
      'time',
      'im',
      'ime',
      'ime>',
      'me',
      'me>',
      'e>',
    ]);
  });

  it('features - case, NFKC forms, typographic quotes, punctuation and spacing do not change the ids', () => {
    const plain = [...featurize("don't forget the milk", options)];
    for (const variant of [
      "Don't  FORGET, the milk!!",
      'DON’T forget… the milk?',
      "  don't\tforget the (milk)  ",
      "ｄｏｎ'ｔ ｆｏｒｇｅｔ ｔｈｅ ｍｉｌｋ",
    ]) {
      assert.deepEqual([...featurize(variant, options)], plain, variant);
    }
    assert.deepEqual(ofKind("don't forget", FeatureKind.Word), ["don't", 'forget']);
  });

  it('features - text of printable ASCII (its short cut) gets the ids of the general path', () => {
    // A no-break space is not ASCII, so the text takes the general path, where NFKC makes it a space and
    // the spacing rules drop it: the ids must come out the same as the short cut's.
    const general = (text: string) => [...featurize(`${text}\u00a0`, options)];
    const edges = [
      "don't",
      "'quoted'",
      "rock'n'roll",
      "it's'",
      "a''b",
      "x' y",
      "'",
      '',
      '   ',
      'ABC-def_ghi',
      'a1b2 C3',
      '~!@#$%^&*()',
      'Hello,World.How   are-you?',
    ];
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const alphabet = "abcXYZ019 '-.,!?_~";
    const generated = Array.from({ length: 500 }, () =>
      Array.from({ length: Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * 18)]).join(''),
    );
    for (const text of [...edges, ...generated]) {
      assert.deepEqual([...featurize(text, options)], general(text), JSON.stringify(text));
    }
  });

  it('features - digits are kept as words', () => {
    assert.deepEqual(ofKind('delete note 2', FeatureKind.Word), ['delete', 'note', '2']);
    assert.notDeepEqual([...featurize('delete note 2', options)], [...featurize('delete note 3', options)]);
  });

  it('features - a text without letters or digits has no features', () => {
    for (const text of ['', '   ', '?!…', '👍']) {
      assert.equal(featurize(text, options).length, 0, text);
      assert.deepEqual(explainFeatures(text, options), []);
    }
  });

  it('features - word n-grams follow wordNgrams and character n-grams follow charNgrams', () => {
    const trigrams = compileFeatureOptions({ wordNgrams: 3, charNgrams: [0, 0] });
    assert.deepEqual(ofKind('set an alarm', FeatureKind.WordNgram, trigrams), [
      'set an',
      'set an alarm',
      'an alarm',
    ]);
    assert.deepEqual(ofKind('set an alarm', FeatureKind.CharNgram, trigrams), []);
    const threes = compileFeatureOptions({ charNgrams: [3, 3] });
    assert.deepEqual(ofKind('an', FeatureKind.CharNgram, threes), ['<an', 'an>']);
    const ones = compileFeatureOptions({ charNgrams: [1, 1] });
    assert.deepEqual(ofKind('an', FeatureKind.CharNgram, ones), ['a', 'n']);
    assert.deepEqual(ofKind('𐌰𐌱', FeatureKind.CharNgram, threes), ['<𐌰𐌱', '𐌰𐌱>']);
  });

  it('features - featurizeBatch lays ids out flat with n + 1 offsets', () => {
    const texts = ['what time is it', '', '东京现在几点', 'hi'];
    const { ids, offsets } = featurizeBatch(texts, options);
    assert.ok(ids instanceof Int32Array);
    assert.equal(offsets.length, texts.length + 1);
    assert.equal(offsets[0], 0);
    assert.equal(offsets[texts.length], ids.length);
    texts.forEach((text, index) => {
      assert.deepEqual(
        [...ids.subarray(offsets[index], offsets[index + 1])],
        [...featurize(text, options)],
        text,
      );
    });
    assert.equal(offsets[1], offsets[2]);
    const empty = featurizeBatch([], options);
    assert.deepEqual([...empty.offsets], [0]);
    assert.equal(empty.ids.length, 0);
  });

  it('features - options get defaults and a version; values out of range are refused with the range', () => {
    assert.deepEqual(options, { ...DEFAULT_FEATURE_OPTIONS, version: 1 });
    assert.ok(Object.isFrozen(options));
    const bad: Array<[Parameters<typeof compileFeatureOptions>[0], string]> = [
      [{ buckets: 0 }, 'buckets'],
      [{ buckets: 2 ** 31 }, 'buckets'],
      [{ buckets: 1.5 }, 'buckets'],
      [{ wordNgrams: 0 }, 'wordNgrams'],
      [{ wordNgrams: 6 }, 'wordNgrams'],
      [{ charNgrams: [4, 2] }, 'charNgrams'],
      [{ charNgrams: [0, 3] }, 'charNgrams'],
      [{ charNgrams: [2, 11] }, 'charNgrams'],
    ];
    for (const [given, option] of bad) {
      assert.throws(
        () => compileFeatureOptions(given),
        (error: unknown) =>
          error instanceof InvalidFeatureOptionsError &&
          error.option === option &&
          error.message.startsWith(`feature option ${option} is `) &&
          error.message.includes('it must be'),
        JSON.stringify(given),
      );
    }
  });
});
