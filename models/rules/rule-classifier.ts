/**
 * The rule engine: the first understanding step, matching an utterance against the patterns, keywords and
 * examples that plugin manifests declare.
 */
import type { Classification, ClassifyContext, IntentClassifier, IntentSpec } from '../classifier.js';
import type { RuleMatchKind } from './confidence.js';
import { compileRule } from './compiled-rule.js';
import { satisfiedConditions } from './conditions.js';
import { matchRule, prepareText } from './match.js';

/** One intent that matched, with why; {@link RuleClassifier.rank} lists them best first. */
export interface RankedMatch {
  readonly intent: string;
  readonly kind: RuleMatchKind;
  readonly confidence: number;
  readonly entities: Readonly<Record<string, string>>;
  readonly priority: number;
  /** How many of the intent's conditions held (0 when it has none). */
  readonly conditions: number;
  /** Characters the match covers. */
  readonly span: number;
}

export interface RuleClassifier extends IntentClassifier {
  /**
   * Every intent that matches, best first; `classify()` returns the first. For debugging a routing
   * decision ("why did this go to notes?") and for tests.
   */
  rank(text: string, context?: ClassifyContext): RankedMatch[];
}

/**
 * Creates a rule classifier over intent declarations (the plugin host's `intents()`).
 *
 * How an utterance is matched:
 * 1. The text is normalised (NFKC, typographic quotes to ASCII, trimmed, spaces collapsed; case kept for
 *    patterns, lower-cased for the rest; CJK kept as is).
 * 2. Intents whose `conditions` do not hold in the context are skipped.
 * 3. Each remaining intent is tried by kind, strongest first, and keeps its strongest match:
 *    `pattern` (regex, named groups become trimmed entities) 0.95; `keyword` (whole word in Latin
 *    script, substring in CJK) 0.85; `example` (equal once case, punctuation and spacing are ignored)
 *    0.8; `nearExample` (token overlap >= 0.75) 0.7 x overlap. See {@link RuleConfidence}.
 * 4. The winner is the match with, in order: the highest priority (so a higher-priority rule overrides
 *    any lower one, whatever its kind), the highest confidence, the most conditions satisfied, the longest
 *    span, the earliest declaration. The order is total, so results are deterministic.
 *
 * Nothing matches -> `undefined`: out of scope.
 *
 * @throws {InvalidPatternError} when a pattern is not a valid regular expression.
 *
 * @example
 * ```ts
 * const classifier = createRuleClassifier(host.intents());
 * await classifier.classify('what time is it in Tokyo');
 * // { intent: 'time.in_city', confidence: 0.95, entities: { city: 'Tokyo' }, source: 'rules' }
 * ```
 */
export function createRuleClassifier(intents: readonly IntentSpec[]): RuleClassifier {
  const rules = intents.map(compileRule);

  function rank(text: string, context: ClassifyContext = {}): RankedMatch[] {
    const prepared = prepareText(text);
    if (prepared.normalised === '') return [];
    const ranked: Array<RankedMatch & { order: number }> = [];
    for (const rule of rules) {
      const conditions = satisfiedConditions(rule.conditions, context);
      if (conditions === undefined) continue;
      const match = matchRule(rule, prepared);
      if (!match) continue;
      ranked.push({ intent: rule.intent, priority: rule.priority, conditions, order: rule.order, ...match });
    }
    ranked.sort(
      (a, b) =>
        b.priority - a.priority ||
        b.confidence - a.confidence ||
        b.conditions - a.conditions ||
        b.span - a.span ||
        a.order - b.order,
    );
    return ranked.map(({ order: _order, ...match }) => match);
  }

  return {
    rank,
    classify(text, context) {
      const best = rank(text, context)[0];
      const result: Classification | undefined = best && {
        intent: best.intent,
        confidence: best.confidence,
        entities: best.entities,
        source: 'rules',
      };
      return Promise.resolve(result);
    },
  };
}
