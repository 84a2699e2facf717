/**
 * Decides what a turn does once the text is understood: run a skill, ask for a missing slot, or fall
 * back. Pure: no I/O, so every dialog rule is testable on its own.
 */
import type { Classification } from '../../models/index.js';
import type { DialogState } from './dialog-state.js';

/** What the dialog engine needs to know about each intent: the slots it must have filled. */
export interface IntentSlots {
  readonly slots: ReadonlyArray<{
    readonly name: string;
    readonly prompt: string;
    readonly required: boolean;
  }>;
}

/** The outcome of one turn's dialog step. */
export type DialogDecision =
  /** Run the skill that handles `intent`. */
  | { readonly type: 'invoke'; readonly intent: string; readonly entities: Readonly<Record<string, string>> }
  /** Ask the person for a missing slot; the answer fills it next turn. */
  | { readonly type: 'prompt'; readonly text: string; readonly pending: NonNullable<DialogState['pending']> }
  /** The person dropped the pending question. */
  | { readonly type: 'cancelled'; readonly text: string }
  /** Nothing understood: answer helpfully instead of staying silent. */
  | { readonly type: 'fallback'; readonly text: string };

/** A classification at or above this confidence interrupts a pending question instead of answering it. */
export const INTERRUPT_CONFIDENCE = 0.9;

const CANCEL_WORDS = new Set(['cancel', 'never mind', 'nevermind', 'stop', 'forget it', '算了', '取消']);

export interface DialogEngineOptions {
  readonly slotsOf: (intent: string) => IntentSlots | undefined;
  /** Example requests to suggest in the fallback answer. */
  readonly suggestions: readonly string[];
}

export function decide(
  text: string,
  classification: Classification | undefined,
  dialog: DialogState,
  options: DialogEngineOptions,
): DialogDecision {
  const pending = dialog.pending;
  if (pending) {
    if (CANCEL_WORDS.has(text.trim().toLowerCase())) return { type: 'cancelled', text: 'OK, never mind.' };
    const interrupts =
      classification !== undefined &&
      classification.intent !== pending.intent &&
      classification.confidence >= INTERRUPT_CONFIDENCE;
    if (!interrupts) {
      const fromModel = classification?.intent === pending.intent ? classification.entities : {};
      const answer = fromModel[pending.slot] ?? text.trim();
      return complete(pending.intent, { ...pending.entities, ...fromModel, [pending.slot]: answer }, options);
    }
  }
  if (!classification) return fallback(options.suggestions);
  return complete(classification.intent, classification.entities, options);
}

function complete(
  intent: string,
  entities: Readonly<Record<string, string>>,
  options: DialogEngineOptions,
): DialogDecision {
  const missing = options
    .slotsOf(intent)
    ?.slots.find((slot) => slot.required && !entities[slot.name]?.trim());
  if (missing)
    return { type: 'prompt', text: missing.prompt, pending: { intent, slot: missing.name, entities } };
  return { type: 'invoke', intent, entities };
}

function fallback(suggestions: readonly string[]): DialogDecision {
  const examples = suggestions
    .slice(0, 3)
    .map((example) => `"${example}"`)
    .join(', ');
  const hint = examples
    ? `You can say things like ${examples}, or type "help" to see everything I can do.`
    : 'Type "help" to see what I can do.';
  return { type: 'fallback', text: `Sorry, I didn't understand that. ${hint}` };
}
