/** Matching one compiled rule against one utterance. */
import { NEAR_EXAMPLE_OVERLAP, RuleConfidence } from './confidence.js';
import type { RuleMatchKind } from './confidence.js';
import type { CompiledRule } from './compiled-rule.js';
import { foldText, normaliseText, tokenise } from './normalise.js';

/** An utterance in every form the rule kinds compare. */
export interface PreparedText {
  /** {@link normaliseText}: case kept, for patterns. */
  readonly normalised: string;
  /** Lower-cased, for keywords. */
  readonly folded: string;
  /** Tokens joined by one space, for exact example matches. */
  readonly canonical: string;
  readonly tokens: ReadonlySet<string>;
}

export function prepareText(text: string): PreparedText {
  const normalised = normaliseText(text);
  const folded = foldText(normalised);
  const tokens = tokenise(folded);
  return { normalised, folded, canonical: tokens.join(' '), tokens: new Set(tokens) };
}

/** The best way one rule matched. */
export interface RuleMatch {
  readonly kind: RuleMatchKind;
  readonly confidence: number;
  readonly entities: Readonly<Record<string, string>>;
  /** Characters the match covers; among equal kinds, the more specific (longer) match wins. */
  readonly span: number;
}

/** The strongest match of the rule's kinds, tried strongest first; `undefined` when none matches. */
export function matchRule(rule: CompiledRule, text: PreparedText): RuleMatch | undefined {
  return matchPatterns(rule, text) ?? matchKeywords(rule, text) ?? matchExamples(rule, text);
}

function matchPatterns(rule: CompiledRule, text: PreparedText): RuleMatch | undefined {
  let best: RuleMatch | undefined;
  for (const pattern of rule.patterns) {
    const found = pattern.exec(text.normalised);
    if (!found) continue;
    // Strictly longer only: among equally long matches the first declared pattern wins.
    if (best && found[0].length <= best.span) continue;
    const entities: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.groups ?? {})) {
      const trimmed = value?.trim();
      if (trimmed) entities[name] = trimmed;
    }
    best = { kind: 'pattern', confidence: RuleConfidence.pattern, entities, span: found[0].length };
  }
  return best;
}

function matchKeywords(rule: CompiledRule, text: PreparedText): RuleMatch | undefined {
  let span = 0;
  for (const keyword of rule.keywords) {
    const found = keyword.wholeWord
      ? keyword.wholeWord.test(text.folded)
      : text.folded.includes(keyword.text);
    if (found && keyword.text.length > span) span = keyword.text.length;
  }
  return span > 0 ? { kind: 'keyword', confidence: RuleConfidence.keyword, entities: {}, span } : undefined;
}

function matchExamples(rule: CompiledRule, text: PreparedText): RuleMatch | undefined {
  if (text.canonical === '') return undefined;
  let bestOverlap = 0;
  let span = 0;
  for (const example of rule.examples) {
    if (example.canonical === text.canonical) {
      return {
        kind: 'example',
        confidence: RuleConfidence.example,
        entities: {},
        span: example.canonical.length,
      };
    }
    const overlap = jaccard(example.tokens, text.tokens);
    if (overlap > bestOverlap) {
      bestOverlap = overlap;
      span = example.canonical.length;
    }
  }
  if (bestOverlap < NEAR_EXAMPLE_OVERLAP) return undefined;
  return { kind: 'nearExample', confidence: RuleConfidence.nearExample * bestOverlap, entities: {}, span };
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const token of a) if (b.has(token)) shared += 1;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}
