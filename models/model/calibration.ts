/**
 * Out-of-scope threshold calibration on held-out predictions.
 *
 * A prediction is out of scope when its top label is the explicit out-of-scope class (if the model has one)
 * or its confidence (top softmax probability) is below the threshold. The threshold is chosen so:
 * - with out-of-scope examples among the held-out ones: it maximises
 *   `(1 - w) * inScopeAccuracy + w * outOfScopeRecall`, where in-scope accuracy counts a turned-away in-scope
 *   example as wrong (the measure of the CLINC150 paper) and `w` is `recallWeight`, by default the
 *   out-of-scope share of the held-out examples (so the threshold maximises plain held-out accuracy with
 *   out-of-scope as one more class);
 * - without: it is the confidence below which `inScopeRejectRate` of the correctly predicted held-out
 *   examples fall;
 * - with no held-out examples at all: `fallbackThreshold`.
 */

export interface HeldOutPredictions {
  /** Top probability of each example. */
  readonly confidences: Float64Array;
  /** Top label index of each example. */
  readonly predicted: Int32Array;
  /** True label index; -1 for an out-of-scope example whose label the model does not have. */
  readonly gold: Int32Array;
}

export interface CalibrationSettings {
  /** Index of the explicit out-of-scope class, if the model has one. */
  readonly outOfScopeIndex: number | undefined;
  /** `undefined`: the out-of-scope share of the held-out examples (each example counts once). */
  readonly recallWeight: number | undefined;
  readonly inScopeRejectRate: number;
  readonly fallbackThreshold: number;
}

/** The calibrated threshold and how it was chosen. */
export interface Calibration {
  readonly threshold: number;
  /** `outOfScopeExamples`, `inScopeQuantile` or `fallback` (see the module comment). */
  readonly method: 'outOfScopeExamples' | 'inScopeQuantile' | 'fallback';
  /** On the held-out examples, at the chosen threshold; `undefined` when there were none. */
  readonly inScopeAccuracy: number | undefined;
  /** On the held-out out-of-scope examples; `undefined` when there were none. */
  readonly outOfScopeRecall: number | undefined;
}

export function calibrateThreshold(heldOut: HeldOutPredictions, settings: CalibrationSettings): Calibration {
  const count = heldOut.gold.length;
  const isOutOfScope = (i: number): boolean =>
    heldOut.gold[i] === -1 ||
    (settings.outOfScopeIndex !== undefined && heldOut.gold[i] === settings.outOfScopeIndex);
  let outOfScopeCount = 0;
  for (let i = 0; i < count; i++) if (isOutOfScope(i)) outOfScopeCount++;
  const inScopeCount = count - outOfScopeCount;

  if (inScopeCount === 0) {
    return {
      threshold: settings.fallbackThreshold,
      method: 'fallback',
      inScopeAccuracy: undefined,
      outOfScopeRecall: undefined,
    };
  }
  if (outOfScopeCount === 0) {
    const correct: number[] = [];
    for (let i = 0; i < count; i++) {
      if (heldOut.predicted[i] === heldOut.gold[i]) correct.push(heldOut.confidences[i]!);
    }
    if (correct.length === 0) {
      return {
        threshold: settings.fallbackThreshold,
        method: 'fallback',
        inScopeAccuracy: 0,
        outOfScopeRecall: undefined,
      };
    }
    correct.sort((a, b) => a - b);
    const threshold = correct[Math.floor(settings.inScopeRejectRate * correct.length)]!;
    const measured = measure(heldOut, settings.outOfScopeIndex, isOutOfScope, threshold, inScopeCount, 0);
    return { threshold, method: 'inScopeQuantile', ...measured, outOfScopeRecall: undefined };
  }

  // Sweep the thresholds between consecutive distinct confidences, from accepting all upwards.
  const order = Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => heldOut.confidences[a]! - heldOut.confidences[b]! || a - b,
  );
  const weight = settings.recallWeight ?? outOfScopeCount / count;
  const rejectedByClass = (i: number): boolean =>
    settings.outOfScopeIndex !== undefined && heldOut.predicted[i] === settings.outOfScopeIndex;
  let inScopeRight = 0;
  let outOfScopeCaught = 0;
  for (let i = 0; i < count; i++) {
    if (rejectedByClass(i)) {
      if (isOutOfScope(i)) outOfScopeCaught++;
    } else if (!isOutOfScope(i) && heldOut.predicted[i] === heldOut.gold[i]) inScopeRight++;
  }
  const score = (right: number, caught: number): number =>
    (1 - weight) * (right / inScopeCount) + weight * (caught / outOfScopeCount);
  let bestThreshold = 0;
  let bestScore = score(inScopeRight, outOfScopeCaught);
  for (let r = 0; r < count; r++) {
    // Raising the threshold past order[r]'s confidence rejects it.
    const i = order[r]!;
    if (!rejectedByClass(i)) {
      if (isOutOfScope(i)) outOfScopeCaught++;
      else if (heldOut.predicted[i] === heldOut.gold[i]) inScopeRight--;
    }
    const here = heldOut.confidences[i]!;
    const next = r + 1 < count ? heldOut.confidences[order[r + 1]!]! : 1;
    if (next === here) continue;
    const candidate = score(inScopeRight, outOfScopeCaught);
    if (candidate > bestScore) {
      bestScore = candidate;
      bestThreshold = (here + next) / 2;
    }
  }
  const measured = measure(
    heldOut,
    settings.outOfScopeIndex,
    isOutOfScope,
    bestThreshold,
    inScopeCount,
    outOfScopeCount,
  );
  return { threshold: bestThreshold, method: 'outOfScopeExamples', ...measured };
}

function measure(
  heldOut: HeldOutPredictions,
  outOfScopeIndex: number | undefined,
  isOutOfScope: (i: number) => boolean,
  threshold: number,
  inScopeCount: number,
  outOfScopeCount: number,
): { inScopeAccuracy: number; outOfScopeRecall: number | undefined } {
  let right = 0;
  let caught = 0;
  for (let i = 0; i < heldOut.gold.length; i++) {
    const rejected = heldOut.predicted[i] === outOfScopeIndex || heldOut.confidences[i]! < threshold;
    if (isOutOfScope(i)) {
      if (rejected) caught++;
    } else if (!rejected && heldOut.predicted[i] === heldOut.gold[i]) right++;
  }
  return {
    inScopeAccuracy: right / inScopeCount,
    outOfScopeRecall: outOfScopeCount === 0 ? undefined : caught / outOfScopeCount,
  };
}
