/**
 * Held-out data for data that has none of its own: a stratified, seeded split.
 */
import type { Example } from './dataset.js';
import { compareCodeUnits } from './dataset.js';

export interface SplitOptions {
  /** Share of each label's examples to hold out, in [0, 1). */
  readonly validationFraction: number;
  /** Any integer; the same seed and the same examples give the same split on every machine. */
  readonly seed: number;
}

export interface Split {
  readonly train: readonly Example[];
  readonly validation: readonly Example[];
}

/**
 * Splits examples into train and validation, label by label so that both keep the label mix: each label
 * holds out `round(count * validationFraction)` of its examples, but always keeps at least one for training
 * (a label with a single example is never held out). Which ones is a seeded shuffle; both parts keep the
 * input order.
 *
 * @example
 * ```ts
 * const { train, validation } = splitDataset(dataset.train, { validationFraction: 0.1, seed: 42 });
 * ```
 */
export function splitDataset(examples: readonly Example[], options: SplitOptions): Split {
  const { validationFraction, seed } = options;
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const byLabel = new Map<string, number[]>();
  examples.forEach((example, index) => {
    const indices = byLabel.get(example.label);
    if (indices === undefined) byLabel.set(example.label, [index]);
    else indices.push(index);
  });

  const random = mulberry32(seed);
  const heldOut = new Uint8Array(examples.length);
  for (const label of [...byLabel.keys()].sort(compareCodeUnits)) {
    const indices = byLabel.get(label) ?? [];
    const count = Math.min(Math.round(indices.length * validationFraction), indices.length - 1);
    // A partial Fisher-Yates shuffle: the first `count` positions end up a uniform random sample.
    for (let position = 0; position < count; position += 1) {
      const pick = position + Math.floor(random() * (indices.length - position));
      const chosen = indices[pick] ?? 0;
      indices[pick] = indices[position] ?? 0;
      indices[position] = chosen;
      heldOut[chosen] = 1;
    }
  }
  return {
    train: examples.filter((_, index) => heldOut[index] === 0),
    validation: examples.filter((_, index) => heldOut[index] === 1),
  };
}

/** Mulberry32: a tiny, fast 32-bit PRNG with a full period, giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
