/**
 * Scores predictions against labelled examples the way CLINC150 reports them: accuracy on in-scope
 * examples (an in-scope example predicted out of scope counts as wrong), recall on out-of-scope
 * examples, macro-F1 over the in-scope labels, and the pairs the model confuses most.
 */
import { OUT_OF_SCOPE, type Example } from '../data/index.js';

/** One prediction, already resolved to a label or out of scope. */
export interface ScoredPrediction {
  readonly label: string;
  readonly outOfScope: boolean;
}

export interface Evaluation {
  readonly examples: number;
  readonly inScopeExamples: number;
  readonly outOfScopeExamples: number;
  /** Share of in-scope examples classified right; `undefined` without in-scope examples. */
  readonly inScopeAccuracy: number | undefined;
  /** Share of out-of-scope examples recognised as such; `undefined` when the data has none. */
  readonly outOfScopeRecall: number | undefined;
  /** Unweighted mean F1 over the in-scope labels (out of scope counts as a wrong label). */
  readonly macroF1: number | undefined;
  /** Most frequent (expected -> predicted) mistakes, most frequent first. */
  readonly confused: ReadonlyArray<{
    readonly expected: string;
    readonly predicted: string;
    readonly count: number;
  }>;
}

export function evaluate(
  examples: readonly Example[],
  predictions: readonly ScoredPrediction[],
  options: { readonly topConfused?: number } = {},
): Evaluation {
  if (examples.length !== predictions.length) {
    throw new RangeError(`${examples.length} examples but ${predictions.length} predictions`);
  }
  const predicted = predictions.map((p) => (p.outOfScope ? OUT_OF_SCOPE : p.label));
  let inScope = 0;
  let inScopeRight = 0;
  let outOfScope = 0;
  let outOfScopeRight = 0;
  const truePositives = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  const expectedCount = new Map<string, number>();
  const confusions = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);

  examples.forEach((example, index) => {
    const guess = predicted[index] ?? OUT_OF_SCOPE;
    if (example.label === OUT_OF_SCOPE) {
      outOfScope += 1;
      if (guess === OUT_OF_SCOPE) outOfScopeRight += 1;
    } else {
      inScope += 1;
      bump(expectedCount, example.label);
      if (guess === example.label) {
        inScopeRight += 1;
        bump(truePositives, example.label);
      }
    }
    if (guess !== OUT_OF_SCOPE) bump(predictedCount, guess);
    if (guess !== example.label) bump(confusions, `${example.label}\u0000${guess}`);
  });

  const labels = [...expectedCount.keys()];
  const f1s = labels.map((label) => {
    const tp = truePositives.get(label) ?? 0;
    const precision = tp / ((predictedCount.get(label) ?? 0) || 1);
    const recall = tp / (expectedCount.get(label) ?? 1);
    return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  });

  const confused = [...confusions.entries()]
    .map(([key, count]) => {
      const [expected = '', predictedLabel = ''] = key.split('\u0000');
      return { expected, predicted: predictedLabel, count };
    })
    .sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected))
    .slice(0, options.topConfused ?? 10);

  return {
    examples: examples.length,
    inScopeExamples: inScope,
    outOfScopeExamples: outOfScope,
    inScopeAccuracy: inScope === 0 ? undefined : inScopeRight / inScope,
    outOfScopeRecall: outOfScope === 0 ? undefined : outOfScopeRight / outOfScope,
    macroF1: labels.length === 0 ? undefined : f1s.reduce((sum, f1) => sum + f1, 0) / labels.length,
    confused,
  };
}
