/**
 * Rules in front of the model: a pattern or keyword rule (the plugin author's explicit word) overrides the
 * model; otherwise the model decides, keeping any entities the rules pulled out for the same intent; when
 * the model finds nothing in scope, or cannot answer, a weaker rule match (an example) still counts.
 * The model itself runs in `models/serve/` (in-process engine or gRPC client).
 */
import type { IntentClassifier } from './classifier.js';
import type { RuleClassifier } from './rules/index.js';
import { RuleConfidence } from './rules/index.js';

/**
 * @param onModelError told when the model fails; the rules' answer (possibly none) stands for that text.
 */
export function createLayeredClassifier(
  rules: RuleClassifier,
  model: IntentClassifier,
  onModelError: (error: unknown) => void = () => undefined,
): IntentClassifier {
  return {
    async classify(text, context) {
      const rule = await rules.classify(text, context);
      if (rule && rule.confidence >= RuleConfidence.keyword) return rule;
      let guess;
      try {
        guess = await model.classify(text, context);
      } catch (error) {
        onModelError(error);
        return rule;
      }
      if (!guess) return rule;
      return rule?.intent === guess.intent ? { ...guess, entities: rule.entities } : guess;
    },
  };
}
