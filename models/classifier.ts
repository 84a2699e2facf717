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

/**
 * Conditions under which an intent's rules apply; every one that is set must hold.
 * Compared with the {@link ClassifyContext} of the utterance.
 */
export interface IntentConditions {
  /** Applies only while the dialog is waiting on exactly this (see {@link ClassifyContext.expecting}). */
  readonly expecting?: string;
  /** Applies only right after this intent. */
  readonly lastIntent?: string;
  /** Applies only on these channels (`cli`, `web`, `telegram`, `whatsapp`). */
  readonly channels?: readonly string[];
}

/**
 * One intent as the understanding step sees it: declared by a plugin manifest, matched by the rule engine
 * and (next) used to train the intent model. The plugin host's `intents()` returns values of this shape;
 * `models/` defines it so that it never has to import `actors/`.
 */
export interface IntentSpec {
  /** `<plugin>.<intent>`, e.g. `time.in_city`. */
  readonly name: string;
  /** The plugin that declares it. */
  readonly plugin?: string;
  readonly description?: string;
  /** Sample utterances (at least one): matched exactly or nearly by the rule engine, training data for the model. */
  readonly examples: readonly string[];
  /** JavaScript regular expression sources, matched case-insensitively with the `u` flag; named groups become entities. */
  readonly patterns?: readonly string[];
  /** Words or phrases that signal the intent: whole words for Latin script, substrings for CJK. */
  readonly keywords?: readonly string[];
  /** Higher wins over any lower-priority match. @default 0 */
  readonly priority?: number;
  readonly conditions?: IntentConditions;
}
