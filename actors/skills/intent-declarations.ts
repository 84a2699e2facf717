/** What the loaded plugins declare, in the shapes the classifiers and the `help` skill need. */
import type { CatalogEntry } from '../../plugins/sdk.js';
import type { LoadedPlugin } from './plugin.js';

/**
 * One intent with everything a classifier needs. Structurally an `IntentSpec` of `models/`, so
 * `createRuleClassifier(host.intents())` type-checks without `models/` knowing about plugins.
 */
export interface IntentDeclaration {
  /** `<plugin>.<intent>`. */
  readonly name: string;
  readonly plugin: string;
  readonly description: string;
  readonly examples: readonly string[];
  readonly patterns: readonly string[];
  readonly keywords: readonly string[];
  readonly priority: number;
  readonly conditions?: {
    readonly expecting?: string;
    readonly lastIntent?: string;
    readonly channels?: readonly string[];
  };
  /** Values the dialog engine asks for when the text did not carry them (empty when none). */
  readonly slots: readonly SlotDeclaration[];
}

/** A value an intent needs; when `required` and missing, the dialog asks `prompt`. */
export interface SlotDeclaration {
  /** The entity name the value is stored under. */
  readonly name: string;
  readonly prompt: string;
  readonly required: boolean;
}

/** Every intent of the plugins, in plugin order then manifest order. */
export function declareIntents(plugins: readonly LoadedPlugin[]): IntentDeclaration[] {
  return plugins.flatMap((plugin) =>
    plugin.manifest.intents.map((intent) => {
      const declaration: IntentDeclaration = {
        name: intent.name,
        plugin: plugin.name,
        description: intent.description,
        examples: [...intent.examples],
        patterns: [...(intent.patterns ?? [])],
        keywords: [...(intent.keywords ?? [])],
        priority: intent.priority,
        slots: (intent.slots ?? []).map((slot) => ({
          name: slot.name,
          prompt: slot.prompt,
          required: slot.required,
        })),
      };
      return intent.conditions
        ? { ...declaration, conditions: stripUndefined(intent.conditions) }
        : declaration;
    }),
  );
}

/** The catalog `help` shows: each intent's description and first example. */
export function buildCatalog(plugins: readonly LoadedPlugin[]): readonly CatalogEntry[] {
  return Object.freeze(
    plugins.flatMap((plugin) =>
      plugin.manifest.intents.map((intent): CatalogEntry =>
        Object.freeze({
          plugin: plugin.name,
          intent: intent.name,
          description: intent.description,
          ...(intent.examples[0] === undefined ? {} : { example: intent.examples[0] }),
        }),
      ),
    ),
  );
}

// zod's optional output is `T | undefined`; exactOptionalPropertyTypes wants absent keys instead.
function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
