import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RUN_IDS, SLICE_PADDING_IDS, sliceByLength } from './worker.js';

/** An id list of `length` ids, each `tag`, so a row of a packed slice tells which text it came from. */
const text = (tag: number, length: number): Int32Array => new Int32Array(length).fill(tag);

/** The texts of a slice, by the tag of their first id (each text's ids are all its tag). */
function rowsOf(slice: ReturnType<typeof sliceByLength>['slices'][number]): number[] {
  return Array.from({ length: slice.batch }, (_, r) => Number(slice.ids[r * slice.length]));
}

describe('worker: slicing a batch by length', () => {
  it('worker - chat-sized texts of mixed lengths run as one slice', () => {
    const lengths = [12, 4, 60, 140, 33, 7, 90, 25];
    const { order, slices } = sliceByLength(lengths.map((length, i) => text(i + 1, length)));
    assert.equal(slices.length, 1);
    assert.equal(slices[0]!.length, 140, 'packed to the longest text');
    assert.deepEqual(
      rowsOf(slices[0]!),
      order.map((index) => index + 1),
      'rows follow `order`',
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      lengths.map((_, i) => i),
      'order is a permutation',
    );
  });

  it('worker - long texts run apart from the short ones; order maps every row back', () => {
    const ids = [text(1, 20), text(2, 5000), text(3, 8), text(4, 40), text(5, 3000), text(6, 15)];
    const { order, slices } = sliceByLength(ids);
    const rows = slices.flatMap(rowsOf);
    assert.deepEqual(
      rows,
      order.map((index) => index + 1),
      'slices taken one after the other follow `order`',
    );
    assert.deepEqual(
      [...rows].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
      'every text runs once',
    );
    const short = slices.find((slice) => rowsOf(slice).includes(1))!;
    assert.deepEqual(rowsOf(short), [3, 6, 1, 4], 'the short texts run together, shortest first');
    assert.equal(short.length, 40, 'not padded to a long text');
    for (const slice of slices) {
      const real = rowsOf(slice).reduce((sum, tag) => sum + ids[tag - 1]!.length, 0);
      const padding = slice.batch * slice.length - real;
      assert.ok(
        slice.batch === 1 || padding <= SLICE_PADDING_IDS,
        `padding ${padding} in a slice of ${slice.batch}`,
      );
    }
    // Within a slice the padding weights are 0 and a text's weights sum to 1 (the mean bag).
    const [first] = slices;
    const weightSum = first!.weights.subarray(0, first!.length).reduce((sum, weight) => sum + weight, 0);
    assert.ok(Math.abs(weightSum - 1) < 1e-5, `weights of the first row sum to ${weightSum}`);
  });

  it('worker - a run holds at most MAX_RUN_IDS id slots, unless one text alone is longer', () => {
    // 40 texts of ~12,000 ids (the 4,096-character limit) would be one run of ~480,000 slots.
    const long = Array.from({ length: 40 }, (_, i) => text(i + 1, 12_000 + i));
    const { slices } = sliceByLength([...long, text(41, MAX_RUN_IDS + 10)]);
    assert.deepEqual(
      slices.flatMap(rowsOf).sort((a, b) => a - b),
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
    for (const slice of slices) {
      const slots = slice.batch * slice.length;
      assert.ok(
        slots <= MAX_RUN_IDS || slice.batch === 1,
        `a run of ${slice.batch} texts x ${slice.length} ids`,
      );
    }
    assert.deepEqual(rowsOf(slices.at(-1)!), [41], 'a text longer than the limit runs alone');
    assert.ok(slices.length >= 9, `${slices.length} runs`);
  });
});
