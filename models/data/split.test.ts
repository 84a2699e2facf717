import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Example } from './dataset.js';
import { splitDataset } from './split.js';

function examples(counts: Record<string, number>): Example[] {
  return Object.entries(counts).flatMap(([label, count]) =>
    Array.from({ length: count }, (_, index) => ({ text: `${label} ${index}`, label })),
  );
}

const countBy = (list: readonly Example[]): Record<string, number> =>
  list.reduce<Record<string, number>>(
    (counts, { label }) => ({ ...counts, [label]: (counts[label] ?? 0) + 1 }),
    {},
  );

describe('splitDataset', () => {
  const data = examples({ a: 10, b: 20, c: 1, d: 2 });

  it('split - holds out round(count * fraction) of each label, keeping at least one for training', () => {
    const { train, validation } = splitDataset(data, { validationFraction: 0.2, seed: 7 });
    assert.deepEqual(countBy(validation), { a: 2, b: 4 });
    assert.deepEqual(countBy(train), { a: 8, b: 16, c: 1, d: 2 });
    assert.equal(train.length + validation.length, data.length);
  });

  it('split - the same seed gives the same split; another seed another', () => {
    const first = splitDataset(data, { validationFraction: 0.3, seed: 42 });
    const again = splitDataset(data, { validationFraction: 0.3, seed: 42 });
    const other = splitDataset(data, { validationFraction: 0.3, seed: 43 });
    assert.deepEqual(again, first);
    assert.notDeepEqual(other.validation, first.validation);
    // Fixed expectation: a change of PRNG or shuffle would silently change every trained model.
    assert.deepEqual(
      first.validation.map((example) => example.text),
      ['a 5', 'a 6', 'a 8', 'b 0', 'b 4', 'b 7', 'b 11', 'b 13', 'b 17', 'd 0'],
    );
  });

  it('split - both parts keep the input order and together are the input', () => {
    const { train, validation } = splitDataset(data, { validationFraction: 0.5, seed: 1 });
    const position = (example: Example): number => data.indexOf(example);
    for (const part of [train, validation]) {
      const positions = part.map(position);
      assert.deepEqual(
        positions,
        [...positions].sort((x, y) => x - y),
      );
    }
    assert.deepEqual(new Set([...train, ...validation]), new Set(data));
  });

  it('split - a fraction of 0 holds nothing out', () => {
    const { train, validation } = splitDataset(data, { validationFraction: 0, seed: 1 });
    assert.deepEqual(train, data);
    assert.deepEqual(validation, []);
  });

  it('split - a fraction outside [0, 1) or a non-integer seed is refused', () => {
    for (const validationFraction of [-0.1, 1, Number.NaN]) {
      assert.throws(() => splitDataset(data, { validationFraction, seed: 1 }), RangeError);
    }
    assert.throws(
      () => splitDataset(data, { validationFraction: 0.1, seed: 1.5 }),
      /seed must be an integer/,
    );
  });
});
