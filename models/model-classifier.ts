/**
 * The intent model as an {@link IntentClassifier}: ONNX Runtime runs a registry version (INT8 by
 * default), and `swap` moves to another version at run time without failing a call in flight.
 */
import { readFile } from 'node:fs/promises';
import type { Classification, ClassifyContext, IntentClassifier } from './classifier.js';
import { featurize } from './features/index.js';
import { isOutOfScope } from './model/index.js';
import {
  createOnnxSession,
  readOnnxMetadata,
  runOnnx,
  type OnnxModelMetadata,
  type OnnxSession,
} from './onnx/index.js';
import type { ModelEntry } from './registry/index.js';
import type { RuleClassifier } from './rules/index.js';
import { RuleConfidence } from './rules/index.js';

export interface ModelClassifierOptions {
  /** Which export to run. @default 'int8' */
  precision?: 'int8' | 'fp32';
}

export interface ModelClassifier extends IntentClassifier {
  /** The registry version being served. */
  readonly version: string;
  /** Loads `entry` and serves it from the next call on; calls in flight finish on the old session. */
  swap(entry: ModelEntry): Promise<void>;
  close(): Promise<void>;
}

interface Loaded {
  readonly version: string;
  readonly session: OnnxSession;
  readonly metadata: OnnxModelMetadata;
}

export async function createModelClassifier(
  entry: ModelEntry,
  options: ModelClassifierOptions = {},
): Promise<ModelClassifier> {
  const precision = options.precision ?? 'int8';
  const load = async (next: ModelEntry): Promise<Loaded> => {
    const bytes = new Uint8Array(await readFile(precision === 'int8' ? next.int8Path : next.fp32Path));
    return {
      version: next.metadata.version,
      session: await createOnnxSession(bytes),
      metadata: readOnnxMetadata(bytes),
    };
  };
  let current = await load(entry);

  return {
    get version() {
      return current.version;
    },
    async classify(text: string, _context?: ClassifyContext): Promise<Classification | undefined> {
      const { session, metadata } = current;
      const ids = featurize(text, metadata.features);
      if (ids.length === 0) return undefined;
      const [probabilities] = await runOnnx(session, [ids]);
      if (!probabilities) return undefined;
      let top = 0;
      for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[top]!) top = i;
      const label = metadata.labels[top];
      const confidence = probabilities[top] ?? 0;
      if (label === undefined || isOutOfScope(metadata, label, confidence)) return undefined;
      return { intent: label, confidence, entities: {}, source: 'model' };
    },
    async swap(next) {
      const previous = current;
      current = await load(next);
      // Calls that already hold `previous.session` keep running; release it after they can finish.
      setTimeout(() => void previous.session.release().catch(() => undefined), 30_000).unref();
    },
    async close() {
      await current.session.release();
    },
  };
}

/**
 * Rules first, then the model: a pattern or keyword rule (the plugin author's explicit word) overrides
 * the model; otherwise the model decides, keeping any entities the rules pulled out for the same intent;
 * when the model finds nothing in scope, a weaker rule match (an example) still counts.
 */
export function createLayeredClassifier(rules: RuleClassifier, model: IntentClassifier): IntentClassifier {
  return {
    async classify(text, context) {
      const rule = await rules.classify(text, context);
      if (rule && rule.confidence >= RuleConfidence.keyword) return rule;
      const guess = await model.classify(text, context);
      if (!guess) return rule;
      return rule?.intent === guess.intent ? { ...guess, entities: rule.entities } : guess;
    },
  };
}
