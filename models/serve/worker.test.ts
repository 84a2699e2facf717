import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PackedBatch } from '../onnx/index.js';
import { MAX_RUN_IDS, SLICE_PADDING_IDS, sliceByLength } from './worker.js';

/** The tests hold FP32's padding limit (INT8's differs only in its value). */
const PADDING = SLICE_PADDING_IDS.fp32;

/** An id list of `length` ids, each `tag`, so a row of a packed slice tells which text it came from. */
const text = (tag: number, length: number): Int32Array => new Int32Array(length).fill(tag);

/** The texts of a slice, by the tag of their first id (each text's ids are all its tag). */
function rowsOf(slice: PackedBatch): number[] {
  return Array.from({ length: slice.batch }, (_, r) => Number(slice.ids[r * slice.length]));
}

/**
 * Checks the slicing rule on `ids` cut into `slices`: every slice of several texts keeps within the padding
 * and run-size limits, and every cut was needed (the next slice's first text could not have joined).
 */
function assertCuts(ids: readonly Int32Array[], slices: readonly PackedBatch[]): void {
  const lengthOf = (tag: number): number => ids[tag - 1]!.length;
  const realIds = (slice: PackedBatch): number => rowsOf(slice).reduce((sum, tag) => sum + lengthOf(tag), 0);
  slices.forEach((slice, i) => {
    const slots = slice.batch * slice.length;
    if (slice.batch > 1) {
      const padding = slots - realIds(slice);
      assert.ok(padding <= PADDING, `slice ${i}: padding ${padding}`);
      assert.ok(slots <= MAX_RUN_IDS, `slice ${i}: ${slots} slots`);
    }
    const next = slices[i + 1];
    if (next === undefined) return;
    const joining = lengthOf(rowsOf(next)[0]!);
    const joinedSlots = (slice.batch + 1) * joining;
    const joinedPadding = joinedSlots - realIds(slice) - joining;
    assert.ok(
      joinedPadding > PADDING || joinedSlots > MAX_RUN_IDS,
      `slice ${i + 1}'s first text could have joined slice ${i}`,
    );
  });
}

describe('worker: slicing a batch by length', () => {
  it('worker - chat-sized texts of mixed lengths run as one slice', () => {
    const lengths = [12, 4, 60, 140, 33, 7, 90, 25];
    const { order, slices } = sliceByLength(
      lengths.map((length, i) => text(i + 1, length)),
      PADDING,
    );
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
    const { order, slices } = sliceByLength(ids, PADDING);
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
    assertCuts(ids, slices);
    // Within a slice the padding weights are 0 and a text's weights sum to 1 (the mean bag).
    const [first] = slices;
    const weightSum = first!.weights.subarray(0, first!.length).reduce((sum, weight) => sum + weight, 0);
    assert.ok(Math.abs(weightSum - 1) < 1e-5, `weights of the first row sum to ${weightSum}`);
  });

  it('worker - a run holds at most MAX_RUN_IDS id slots, unless one text alone is longer', () => {
    // 40 texts of ~12,000 ids would be one run of ~480,000 slots; 5 of them fit in a run.
    const ids = [
      ...Array.from({ length: 40 }, (_, i) => text(i + 1, 12_000 + i)),
      text(41, MAX_RUN_IDS + 10),
    ];
    const { slices } = sliceByLength(ids, PADDING);
    assert.deepEqual(
      slices.flatMap(rowsOf).sort((a, b) => a - b),
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
    assert.equal(slices.length, 9, 'eight runs of five, and the longest text alone');
    assert.deepEqual(rowsOf(slices.at(-1)!), [41], 'a text longer than the limit runs alone');
    assertCuts(ids, slices);
  });

  it('worker - each slice is judged on its own texts after a cut', () => {
    // Cut for size after the short texts, then for padding before the 8,000-id text: the second slice's
    // padding counts only its own two texts.
    const ids = [
      ...Array.from({ length: 20 }, (_, i) => text(i + 1, 300)),
      text(21, 5000),
      text(22, 5000),
      text(23, 8000),
    ];
    const { slices } = sliceByLength(ids, PADDING);
    assert.deepEqual(
      slices.map(rowsOf).map((rows) => rows.length),
      [20, 2, 1],
    );
    assert.deepEqual(rowsOf(slices[1]!), [21, 22]);
    assertCuts(ids, slices);
    // INT8's dearer runs are worth more padding: the 8,000-id text joins the two of 5,000.
    const int8 = sliceByLength(ids, SLICE_PADDING_IDS.int8).slices;
    assert.deepEqual(
      int8.map(rowsOf).map((rows) => rows.length),
      [20, 3],
    );
  });
});
