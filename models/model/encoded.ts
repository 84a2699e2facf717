/**
 * Examples as the network sees them: every text's feature ids in one flat array (compressed sparse rows),
 * and every label as its index in the model's sorted label list.
 */

export interface EncodedExamples {
  /** Feature ids of all examples, back to back; each in 1..buckets. */
  readonly ids: Int32Array;
  /** `offsets[i]..offsets[i + 1]` are example `i`'s ids; `offsets.length === count + 1`. */
  readonly offsets: Int32Array;
  /** Label index of each example. */
  readonly labels: Int32Array;
}

export function exampleCount(examples: EncodedExamples): number {
  return examples.labels.length;
}

/** Packs per-example id arrays and label indexes into {@link EncodedExamples}. */
export function encodeExamples(
  ids: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
): EncodedExamples {
  const offsets = new Int32Array(ids.length + 1);
  let total = 0;
  for (let i = 0; i < ids.length; i++) {
    total += ids[i]!.length;
    offsets[i + 1] = total;
  }
  const flat = new Int32Array(total);
  for (let i = 0; i < ids.length; i++) flat.set(ids[i]!, offsets[i]);
  return { ids: flat, offsets, labels: Int32Array.from(labels) };
}

/** The examples at `indexes`, in that order. */
export function selectExamples(examples: EncodedExamples, indexes: ArrayLike<number>): EncodedExamples {
  const parts: Int32Array[] = [];
  const labels = new Int32Array(indexes.length);
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i]!;
    parts.push(examples.ids.subarray(examples.offsets[index], examples.offsets[index + 1]));
    labels[i] = examples.labels[index]!;
  }
  return encodeExamples(parts, labels);
}
