/**
 * The training loop: mini-batch Adam with linear learning-rate decay, token and hidden dropout, label
 * smoothing, early stopping on validation accuracy (the best epoch's weights are restored).
 *
 * Determinism: every random draw comes from one seeded generator in a fixed order, iteration orders are
 * fixed, and the arithmetic is plain float64 JavaScript on one thread, so the same inputs give the same
 * bits. Wall-clock time is only ever reported, never used.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type EncodedExamples, exampleCount } from './encoded.js';
import {
  createForwardScratch,
  dense,
  embeddingBag,
  forwardInto,
  initialiseWeights,
  type NetworkShape,
  type NetworkWeights,
  softmaxInPlace,
  WEIGHT_ORDER,
} from './network.js';
import { AdamState } from './optimiser.js';
import { createPrng, type Prng, shuffleInPlace } from './prng.js';
import type { CompiledTrainOptions, TrainingSchedule } from './train-options.js';

/** The settings the loop uses (a subset of the compiled train options). */
export type FitSettings = TrainingSchedule &
  Pick<
    CompiledTrainOptions,
    | 'seed'
    | 'learningRate'
    | 'embeddingLearningRate'
    | 'finalLearningRateFraction'
    | 'labelSmoothing'
    | 'tokenDropout'
    | 'hiddenDropout'
    | 'embeddingInitScale'
    | 'adam'
    | 'onProgress'
    | 'signal'
  >;

export interface FitResult {
  readonly weights: NetworkWeights;
  /** Epochs run. */
  readonly epochs: number;
  /** The epoch whose weights were kept (1-based). */
  readonly bestEpoch: number;
  /** Validation accuracy of the best epoch; `undefined` without validation data. */
  readonly validationAccuracy: number | undefined;
  readonly stoppedBy: 'patience' | 'maxEpochs';
}

export async function fitNetwork(
  shape: NetworkShape,
  train: EncodedExamples,
  validation: EncodedExamples | undefined,
  settings: FitSettings,
): Promise<FitResult> {
  const started = performance.now();
  const rng = createPrng(settings.seed);
  const weights = initialiseWeights(shape, rng, settings.embeddingInitScale);
  const step = new TrainingStep(shape, weights, settings, rng);
  const count = exampleCount(train);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const batches = Math.ceil(count / settings.batchSize);
  const totalSteps = Math.max(1, batches * settings.maxEpochs);
  const heldOut = validation !== undefined && exampleCount(validation) > 0 ? validation : undefined;

  // With validation data the best epoch is kept (accuracy, then loss); without, the last one.
  // `snapshot` undefined stands for the live weights.
  let best: { epoch: number; accuracy: number; loss: number; snapshot: NetworkWeights | undefined } = {
    epoch: 0,
    accuracy: -1,
    loss: Number.POSITIVE_INFINITY,
    snapshot: undefined,
  };
  let epoch = 0;
  let stoppedBy: FitResult['stoppedBy'] = 'maxEpochs';
  while (epoch < settings.maxEpochs) {
    epoch++;
    shuffleInPlace(order, rng);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b < batches; b++) {
      settings.signal?.throwIfAborted();
      const progress = ((epoch - 1) * batches + b) / totalSteps;
      const decay = 1 - (1 - settings.finalLearningRateFraction) * progress;
      const from = b * settings.batchSize;
      const to = Math.min(count, from + settings.batchSize);
      const result = step.run(train, order, from, to, decay);
      lossSum += result.loss;
      correct += result.correct;
      settings.onProgress?.({
        type: 'batch',
        epoch,
        maxEpochs: settings.maxEpochs,
        batch: b + 1,
        batches,
        loss: lossSum / to,
      });
    }

    let improved = true;
    let validationAccuracy: number | undefined;
    if (heldOut === undefined) {
      best = { epoch, accuracy: Number.NaN, loss: Number.NaN, snapshot: undefined };
    } else {
      const { accuracy, loss } = evaluate(shape, weights, heldOut);
      validationAccuracy = accuracy;
      improved = accuracy > best.accuracy || (accuracy === best.accuracy && loss < best.loss);
      if (improved) best = { epoch, accuracy, loss, snapshot: copyWeights(weights, best.snapshot) };
    }
    settings.onProgress?.({
      type: 'epoch',
      epoch,
      maxEpochs: settings.maxEpochs,
      trainLoss: lossSum / count,
      trainAccuracy: correct / count,
      validationAccuracy,
      best: improved,
      elapsedMs: performance.now() - started,
    });
    if (heldOut !== undefined && epoch - best.epoch >= settings.patience) {
      stoppedBy = 'patience';
      break;
    }
    // Let timers, signals and the progress bar run between epochs.
    await yieldToEventLoop();
  }
  settings.onProgress?.({
    type: 'done',
    reason: stoppedBy,
    epochs: epoch,
    bestEpoch: best.epoch,
    elapsedMs: performance.now() - started,
  });
  return {
    weights: best.snapshot ?? weights,
    epochs: epoch,
    bestEpoch: best.epoch,
    validationAccuracy: heldOut === undefined ? undefined : best.accuracy,
    stoppedBy,
  };
}

function copyWeights(source: NetworkWeights, reuse: NetworkWeights | undefined): NetworkWeights {
  if (reuse === undefined) {
    return {
      embedding: source.embedding.slice(),
      hiddenWeight: source.hiddenWeight.slice(),
      hiddenBias: source.hiddenBias.slice(),
      outputWeight: source.outputWeight.slice(),
      outputBias: source.outputBias.slice(),
    };
  }
  for (const name of WEIGHT_ORDER) reuse[name].set(source[name]);
  return reuse;
}

/** Accuracy (argmax) and mean cross-entropy of the network on `examples`. */
export function evaluate(
  shape: NetworkShape,
  weights: NetworkWeights,
  examples: EncodedExamples,
): { accuracy: number; loss: number } {
  const scratch = createForwardScratch(shape);
  const count = exampleCount(examples);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const label = examples.labels[i]!;
    const top = forwardInto(
      shape,
      weights,
      examples.ids,
      examples.offsets[i]!,
      examples.offsets[i + 1]!,
      scratch,
    );
    if (top === label) correct++;
    loss -= Math.log(Math.max(scratch.probabilities[label]!, 1e-12));
  }
  return { accuracy: count === 0 ? 0 : correct / count, loss: count === 0 ? 0 : loss / count };
}

/** Forward and backward passes of one mini-batch, then the optimiser step; owns every scratch buffer. */
class TrainingStep {
  private readonly dim: number;
  private readonly hiddenSize: number;
  private readonly classes: number;
  private readonly bag: Float64Array;
  private readonly hidden: Float64Array;
  private readonly logits: Float64Array;
  private readonly dHidden: Float64Array;
  private readonly dBag: Float64Array;
  private readonly gHiddenWeight: Float64Array;
  private readonly gHiddenBias: Float64Array;
  private readonly gOutputWeight: Float64Array;
  private readonly gOutputBias: Float64Array;
  /** Row -> slot in `rowGradients` for the current batch, -1 when untouched. */
  private readonly rowSlot: Int32Array;
  private touchedRows: Int32Array;
  private rowGradients: Float64Array;
  private touched = 0;
  private kept: Int32Array;
  private readonly adam: Readonly<Record<keyof NetworkWeights, AdamState>>;
  private steps = 0;

  constructor(
    shape: NetworkShape,
    private readonly weights: NetworkWeights,
    private readonly settings: FitSettings,
    private readonly rng: Prng,
  ) {
    this.dim = shape.dim;
    this.hiddenSize = shape.hidden;
    this.classes = shape.classes;
    this.bag = new Float64Array(shape.dim);
    this.hidden = new Float64Array(shape.hidden);
    this.logits = new Float64Array(shape.classes);
    this.dHidden = new Float64Array(shape.hidden);
    this.dBag = new Float64Array(shape.dim);
    this.gHiddenWeight = new Float64Array(weights.hiddenWeight.length);
    this.gHiddenBias = new Float64Array(weights.hiddenBias.length);
    this.gOutputWeight = new Float64Array(weights.outputWeight.length);
    this.gOutputBias = new Float64Array(weights.outputBias.length);
    this.rowSlot = new Int32Array(shape.buckets + 1).fill(-1);
    this.touchedRows = new Int32Array(1024);
    this.rowGradients = new Float64Array(1024 * shape.dim);
    this.kept = new Int32Array(256);
    const adam = (size: number): AdamState => new AdamState(size, settings.adam);
    this.adam = {
      embedding: adam(weights.embedding.length),
      hiddenWeight: adam(weights.hiddenWeight.length),
      hiddenBias: adam(weights.hiddenBias.length),
      outputWeight: adam(weights.outputWeight.length),
      outputBias: adam(weights.outputBias.length),
    };
  }

  /** Trains on examples `order[from..to)`; returns their summed loss and correct count (with dropout). */
  run(
    examples: EncodedExamples,
    order: Int32Array,
    from: number,
    to: number,
    decay: number,
  ): { loss: number; correct: number } {
    this.gHiddenWeight.fill(0);
    this.gHiddenBias.fill(0);
    this.gOutputWeight.fill(0);
    this.gOutputBias.fill(0);
    let loss = 0;
    let correct = 0;
    for (let i = from; i < to; i++) {
      const index = order[i]!;
      const label = examples.labels[index]!;
      const probability = this.example(examples, index, label);
      if (probability.top === label) correct++;
      loss -= Math.log(Math.max(probability.p, 1e-12));
    }
    this.apply(1 / (to - from), decay);
    return { loss, correct };
  }

  /** Forward and backward pass of one example, accumulating gradients. */
  private example(examples: EncodedExamples, index: number, label: number): { top: number; p: number } {
    const { dim, hiddenSize, classes, settings, rng, weights } = this;
    const start = examples.offsets[index]!;
    const end = examples.offsets[index + 1]!;
    const kept = this.keepIds(examples.ids, start, end);

    const bag = this.bag;
    embeddingBag(dim, weights.embedding, this.kept, 0, kept, bag);
    const hidden = this.hidden;
    dense(bag, weights.hiddenWeight, weights.hiddenBias, hidden, true);
    if (settings.hiddenDropout > 0) {
      const keepScale = 1 / (1 - settings.hiddenDropout);
      for (let j = 0; j < hiddenSize; j++) {
        hidden[j] = rng.nextFloat() < settings.hiddenDropout ? 0 : hidden[j]! * keepScale;
      }
    }
    const logits = this.logits;
    dense(hidden, weights.outputWeight, weights.outputBias, logits, false);
    const top = softmaxInPlace(logits);
    const p = logits[label]!;

    // dLoss/dlogits = p - target, target = (1 - smoothing) * onehot + smoothing / classes.
    const smoothing = settings.labelSmoothing;
    const uniform = smoothing / classes;
    for (let c = 0; c < classes; c++) logits[c]! -= uniform;
    logits[label]! -= 1 - smoothing;
    const g = logits;
    for (let c = 0; c < classes; c++) this.gOutputBias[c]! += g[c]!;

    const dHidden = this.dHidden;
    const backScale = 1 / (1 - settings.hiddenDropout);
    const outputWeight = weights.outputWeight;
    const gOutputWeight = this.gOutputWeight;
    for (let k = 0; k < hiddenSize; k++) {
      const h = hidden[k]!;
      if (h === 0) {
        dHidden[k] = 0;
        continue;
      }
      const offset = k * classes;
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const gc = g[c]!;
        gOutputWeight[offset + c]! += h * gc;
        sum += outputWeight[offset + c]! * gc;
      }
      // Dropout scaled the units it kept; the same factor flows back through them.
      dHidden[k] = sum * backScale;
    }
    for (let j = 0; j < hiddenSize; j++) this.gHiddenBias[j]! += dHidden[j]!;

    const dBag = this.dBag;
    const hiddenWeight = weights.hiddenWeight;
    const gHiddenWeight = this.gHiddenWeight;
    for (let k = 0; k < dim; k++) {
      const x = bag[k]!;
      const offset = k * hiddenSize;
      let sum = 0;
      for (let j = 0; j < hiddenSize; j++) {
        const d = dHidden[j]!;
        gHiddenWeight[offset + j]! += x * d;
        sum += hiddenWeight[offset + j]! * d;
      }
      dBag[k] = sum;
    }

    if (kept > 0) {
      const share = 1 / kept;
      for (let k = 0; k < dim; k++) dBag[k]! *= share;
      for (let i = 0; i < kept; i++) {
        const slot = this.slotOf(this.kept[i]!);
        const offset = slot * dim;
        const rowGradients = this.rowGradients;
        for (let k = 0; k < dim; k++) rowGradients[offset + k]! += dBag[k]!;
      }
    }
    return { top, p };
  }

  /** Copies the ids of `ids[start..end)` that survive token dropout into `this.kept`; returns how many. */
  private keepIds(ids: Int32Array, start: number, end: number): number {
    const length = end - start;
    if (this.kept.length < length) this.kept = new Int32Array(Math.max(length, this.kept.length * 2));
    const kept = this.kept;
    const rate = this.settings.tokenDropout;
    let count = 0;
    if (rate > 0 && length > 1) {
      for (let i = start; i < end; i++) if (this.rng.nextFloat() >= rate) kept[count++] = ids[i]!;
    }
    if (count === 0) {
      kept.set(ids.subarray(start, end));
      count = length;
    }
    return count;
  }

  /** The gradient slot of embedding row `row` in this batch, claimed (and zeroed) on first use. */
  private slotOf(row: number): number {
    const existing = this.rowSlot[row]!;
    if (existing >= 0) return existing;
    const slot = this.touched++;
    if (slot >= this.touchedRows.length) {
      const rows = new Int32Array(this.touchedRows.length * 2);
      rows.set(this.touchedRows);
      this.touchedRows = rows;
      const gradients = new Float64Array(rows.length * this.dim);
      gradients.set(this.rowGradients);
      this.rowGradients = gradients;
    }
    this.touchedRows[slot] = row;
    this.rowSlot[row] = slot;
    this.rowGradients.fill(0, slot * this.dim, (slot + 1) * this.dim);
    return slot;
  }

  private apply(scale: number, decay: number): void {
    const { weights, adam, settings } = this;
    this.steps++;
    for (const gradient of [this.gHiddenWeight, this.gHiddenBias, this.gOutputWeight, this.gOutputBias]) {
      for (let i = 0; i < gradient.length; i++) gradient[i]! *= scale;
    }
    const rate = settings.learningRate * decay;
    adam.hiddenWeight.stepDense(weights.hiddenWeight, this.gHiddenWeight, rate, this.steps);
    adam.hiddenBias.stepDense(weights.hiddenBias, this.gHiddenBias, rate, this.steps);
    adam.outputWeight.stepDense(weights.outputWeight, this.gOutputWeight, rate, this.steps);
    adam.outputBias.stepDense(weights.outputBias, this.gOutputBias, rate, this.steps);

    const rowGradients = this.rowGradients;
    const used = this.touched * this.dim;
    for (let i = 0; i < used; i++) rowGradients[i]! *= scale;
    adam.embedding.stepRows(
      weights.embedding,
      this.dim,
      this.touchedRows,
      this.touched,
      rowGradients,
      settings.embeddingLearningRate * decay,
      this.steps,
    );
    for (let r = 0; r < this.touched; r++) this.rowSlot[this.touchedRows[r]!] = -1;
    this.touched = 0;
  }
}
