/**
 * The seam between the conversation actor and whatever understands text: today the rule engine over
 * plugin-declared intents, next the local ONNX intent model (which implements the same interface).
 */

/** What a classifier made of one utterance. */
export interface Classification {
  /** The intent name as declared by a plugin manifest, e.g. `time.current`. */
  readonly intent: string;
  /** 0..1; rule matches report their own confidence, the model its softmax probability. */
  readonly confidence: number;
  /** Named values pulled from the text, e.g. `{ city: 'Tokyo' }` or `{ note: 'buy milk' }`. */
  readonly entities: Readonly<Record<string, string>>;
  /** Which classifier produced this. */
  readonly source: 'rules' | 'model';
}

/** Facts about the conversation that rules may condition on. */
export interface ClassifyContext {
  /** The intent the dialog is waiting on (e.g. a slot prompt), if any. */
  readonly expecting?: string;
  /** The previous turn's intent, if any. */
  readonly lastIntent?: string;
  readonly channel?: string;
  readonly locale?: string;
}

export interface IntentClassifier {
  /**
   * Classifies one utterance. Resolves `undefined` when nothing is confident enough: the input is out of
   * scope and the caller answers with a fallback.
   */
  classify(text: string, context?: ClassifyContext): Promise<Classification | undefined>;
}
