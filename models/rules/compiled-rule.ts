/**
 * An intent's rules compiled once, when the classifier is created: regexes built, keywords and examples
 * folded and tokenised.
 */
import type { IntentConditions, IntentSpec } from '../classifier.js';
import { InvalidPatternError } from './errors.js';
import { foldText, hasCjk, tokenise } from './normalise.js';

export interface CompiledKeyword {
  /** Folded keyword; its length ranks competing keyword matches. */
  readonly text: string;
  /** Whole-word matcher for Latin script; `undefined` for CJK keywords, which match as substrings. */
  readonly wholeWord: RegExp | undefined;
}

export interface CompiledExample {
  /** Tokens joined by one space: the form compared for an exact match. */
  readonly canonical: string;
  readonly tokens: ReadonlySet<string>;
}

export interface CompiledRule {
  readonly intent: string;
  /** Position in the classifier's input; the last tie-breaker, which keeps results deterministic. */
  readonly order: number;
  readonly priority: number;
  readonly conditions: IntentConditions | undefined;
  readonly patterns: readonly RegExp[];
  readonly keywords: readonly CompiledKeyword[];
  readonly examples: readonly CompiledExample[];
}

export function compileRule(spec: IntentSpec, order: number): CompiledRule {
  return {
    intent: spec.name,
    order,
    priority: spec.priority ?? 0,
    conditions: spec.conditions,
    patterns: (spec.patterns ?? []).map((source) => compilePattern(spec.name, source)),
    keywords: (spec.keywords ?? []).map(foldText).filter(Boolean).map(compileKeyword),
    examples: spec.examples.map(compileExample).filter((example) => example.canonical !== ''),
  };
}

function compilePattern(intent: string, source: string): RegExp {
  try {
    return new RegExp(source, 'iu');
  } catch (cause) {
    throw new InvalidPatternError(intent, source, { cause });
  }
}

function compileKeyword(text: string): CompiledKeyword {
  if (hasCjk(text)) return { text, wholeWord: undefined };
  const escaped = text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  return { text, wholeWord: new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'u') };
}

function compileExample(example: string): CompiledExample {
  const tokens = tokenise(foldText(example));
  return { canonical: tokens.join(' '), tokens: new Set(tokens) };
}
