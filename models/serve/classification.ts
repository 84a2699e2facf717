/** The inference service's answers as the conversation actor's {@link IntentClassifier} seam wants them. */
import type { Classification, IntentClassifier } from '../classifier.js';
import type { InferenceEngine } from './engine.js';
import type { Prediction } from './types.js';

/** A prediction as a classification; `undefined` when the text is out of scope. */
export function classificationOf(prediction: Prediction): Classification | undefined {
  if (prediction.intent === undefined) return undefined;
  return { intent: prediction.intent, confidence: prediction.confidence, entities: {}, source: 'model' };
}

/** The in-process engine as a classifier (the embedded `all` role). */
export function engineClassifier(engine: InferenceEngine): IntentClassifier {
  return {
    async classify(text) {
      return classificationOf((await engine.predict(text)).prediction);
    },
  };
}
