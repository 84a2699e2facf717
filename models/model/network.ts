/**
 * The intent network: a mean embedding bag over hashed feature ids, one hidden ReLU layer and a softmax.
 *
 *   ids -> EmbeddingBag(mean) [buckets + 1, dim] -> Dense(dim -> hidden) + ReLU -> Dense(hidden -> classes)
 *       -> softmax
 *
 * Row 0 of the embedding is padding and stays zero. Dense weights are stored row-major as `[in, out]` (the
 * layout of ONNX `MatMul`'s second input), so the exporter writes them as they are.
 */
import type { Prng } from './prng.js';

/** The sizes of the network. */
export interface NetworkShape {
  /** Hashed feature buckets; ids are 1..buckets, 0 is padding (the embedding has `buckets + 1` rows). */
  readonly buckets: number;
  /** Embedding width. */
  readonly dim: number;
  /** Hidden layer width. */
  readonly hidden: number;
  /** Number of labels. */
  readonly classes: number;
}

/** The parameters of the network, as flat little typed arrays (row-major). */
export interface NetworkWeights {
  /** `[buckets + 1, dim]`; row 0 is all zeros. */
  readonly embedding: Float32Array;
  /** `[dim, hidden]`. */
  readonly hiddenWeight: Float32Array;
  /** `[hidden]`. */
  readonly hiddenBias: Float32Array;
  /** `[hidden, classes]`. */
  readonly outputWeight: Float32Array;
  /** `[classes]`. */
  readonly outputBias: Float32Array;
}

/** How many floats each tensor of a network of this shape holds, in serialisation order. */
export function weightSizes(shape: NetworkShape): Readonly<Record<keyof NetworkWeights, number>> {
  return {
    embedding: (shape.buckets + 1) * shape.dim,
    hiddenWeight: shape.dim * shape.hidden,
    hiddenBias: shape.hidden,
    outputWeight: shape.hidden * shape.classes,
    outputBias: shape.classes,
  };
}

/** The tensors of {@link NetworkWeights} in their canonical (serialisation and export) order. */
export const WEIGHT_ORDER = [
  'embedding',
  'hiddenWeight',
  'hiddenBias',
  'outputWeight',
  'outputBias',
] as const;

/**
 * Fresh weights: embedding rows uniform in `[-embeddingScale, embeddingScale]` (row 0 zero), dense layers
 * He-uniform (ReLU) and Glorot-uniform (softmax), biases zero. Draws in a fixed order from `rng`.
 */
export function initialiseWeights(shape: NetworkShape, rng: Prng, embeddingScale: number): NetworkWeights {
  const sizes = weightSizes(shape);
  const embedding = new Float32Array(sizes.embedding);
  if (embeddingScale > 0) fillUniform(embedding, shape.dim, embedding.length, embeddingScale, rng);
  const hiddenWeight = new Float32Array(sizes.hiddenWeight);
  fillUniform(hiddenWeight, 0, hiddenWeight.length, Math.sqrt(6 / shape.dim), rng);
  const outputWeight = new Float32Array(sizes.outputWeight);
  fillUniform(outputWeight, 0, outputWeight.length, Math.sqrt(6 / (shape.hidden + shape.classes)), rng);
  return {
    embedding,
    hiddenWeight,
    hiddenBias: new Float32Array(sizes.hiddenBias),
    outputWeight,
    outputBias: new Float32Array(sizes.outputBias),
  };
}

function fillUniform(target: Float32Array, from: number, to: number, limit: number, rng: Prng): void {
  for (let i = from; i < to; i++) target[i] = (rng.nextFloat() * 2 - 1) * limit;
}

/**
 * Scratch buffers of one forward pass (float64: the arithmetic of JavaScript itself, so no rounding between
 * steps; only the weights are float32).
 */
export interface ForwardScratch {
  readonly bag: Float64Array;
  readonly hidden: Float64Array;
  readonly probabilities: Float64Array;
}

export function createForwardScratch(shape: NetworkShape): ForwardScratch {
  return {
    bag: new Float64Array(shape.dim),
    hidden: new Float64Array(shape.hidden),
    probabilities: new Float64Array(shape.classes),
  };
}

/** `bag = mean(embedding[ids[from..to)])`; an empty range gives the zero vector. */
export function embeddingBag(
  dim: number,
  embedding: Float32Array,
  ids: ArrayLike<number>,
  from: number,
  to: number,
  bag: Float64Array,
): void {
  bag.fill(0);
  if (to <= from) return;
  for (let i = from; i < to; i++) {
    const offset = ids[i]! * dim;
    for (let k = 0; k < dim; k++) bag[k]! += embedding[offset + k]!;
  }
  const inverse = 1 / (to - from);
  for (let k = 0; k < dim; k++) bag[k]! *= inverse;
}

/** `out = input · weight + bias` for a `[inputs, outputs]` weight; zero inputs are skipped (ReLU sparsity). */
export function dense(
  input: Float64Array,
  weight: Float32Array,
  bias: Float32Array,
  out: Float64Array,
  relu: boolean,
): void {
  const inputs = input.length;
  const outputs = out.length;
  for (let j = 0; j < outputs; j++) out[j] = bias[j]!;
  for (let k = 0; k < inputs; k++) {
    const x = input[k]!;
    if (x === 0) continue;
    const offset = k * outputs;
    for (let j = 0; j < outputs; j++) out[j]! += x * weight[offset + j]!;
  }
  if (relu) for (let j = 0; j < outputs; j++) if (out[j]! < 0) out[j] = 0;
}

/** Numerically stable softmax in place; returns the index of the largest value. */
export function softmaxInPlace(values: Float64Array): number {
  let best = 0;
  let max = values[0]!;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! > max) {
      max = values[i]!;
      best = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const e = Math.exp(values[i]! - max);
    values[i] = e;
    sum += e;
  }
  const inverse = 1 / sum;
  for (let i = 0; i < values.length; i++) values[i]! *= inverse;
  return best;
}

/**
 * The whole forward pass for the ids `ids[from..to)` into `scratch` (bag, hidden and probabilities).
 * Returns the index of the most probable class.
 */
export function forwardInto(
  shape: NetworkShape,
  weights: NetworkWeights,
  ids: ArrayLike<number>,
  from: number,
  to: number,
  scratch: ForwardScratch,
): number {
  embeddingBag(shape.dim, weights.embedding, ids, from, to, scratch.bag);
  dense(scratch.bag, weights.hiddenWeight, weights.hiddenBias, scratch.hidden, true);
  dense(scratch.hidden, weights.outputWeight, weights.outputBias, scratch.probabilities, false);
  return softmaxInPlace(scratch.probabilities);
}
