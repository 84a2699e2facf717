/**
 * What the inference service answers, as domain types: the gRPC layer (`server.ts`, `client.ts`) converts
 * to and from the generated `parley.v1` messages at its edge, and nothing else sees those.
 */

/** One intent and the model's probability for it. */
export interface IntentScore {
  readonly intent: string;
  readonly probability: number;
}

/** How the model judged one text. */
export interface Prediction {
  /** The best intent, or `undefined` when the text is out of scope. */
  readonly intent: string | undefined;
  /** The best label's probability (also when out of scope). */
  readonly confidence: number;
  /** The best `topK` labels, most likely first (the out-of-scope class included). */
  readonly top: readonly IntentScore[];
}

/** A prediction and the model version that made it. */
export interface VersionedPrediction {
  readonly prediction: Prediction;
  /** Registry version, `v<n>-<hash>`. */
  readonly version: string;
}

/** The model a server or engine is serving. */
export interface ServedModel {
  readonly version: string;
  readonly precision: 'int8' | 'fp32';
  /** Every label of the model, the out-of-scope class included. */
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly createdAt: Date;
  readonly servingSince: Date;
}

/** Options of one classification call. */
export interface PredictOptions {
  /** How many labels `Prediction.top` lists: 1 to {@link MAX_TOP_K}. @default 1 */
  readonly topK?: number;
  /**
   * Give up at this instant (milliseconds since the epoch, as `Date.now()`): a request still queued when
   * it passes is not run and fails with `DEADLINE_EXCEEDED`.
   */
  readonly deadline?: number;
}

export const MAX_TOP_K = 10;
