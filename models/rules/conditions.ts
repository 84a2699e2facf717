/** Whether an intent's conditions hold in a classify context. */
import type { ClassifyContext, IntentConditions } from '../classifier.js';

/**
 * How many of the conditions hold, or `undefined` when one that is set does not (the rule is filtered
 * out). An unset condition always holds and counts nothing, so a rule with satisfied conditions is more
 * specific than one without.
 */
export function satisfiedConditions(
  conditions: IntentConditions | undefined,
  context: ClassifyContext,
): number | undefined {
  if (!conditions) return 0;
  let satisfied = 0;
  if (conditions.expecting !== undefined) {
    if (context.expecting !== conditions.expecting) return undefined;
    satisfied += 1;
  }
  if (conditions.lastIntent !== undefined) {
    if (context.lastIntent !== conditions.lastIntent) return undefined;
    satisfied += 1;
  }
  if (conditions.channels !== undefined) {
    if (context.channel === undefined || !conditions.channels.includes(context.channel)) return undefined;
    satisfied += 1;
  }
  return satisfied;
}
