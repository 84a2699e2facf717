/**
 * The plugin manifest: `plugins/<name>/manifest.json`, validated before any of the plugin's code runs.
 *
 * @example
 * ```json
 * {
 *   "name": "time",
 *   "version": "1.0.0",
 *   "description": "Tells the time, here or in a city.",
 *   "intents": [
 *     {
 *       "name": "time.in_city",
 *       "description": "Tell the time in a city",
 *       "examples": ["what time is it in Tokyo", "东京现在几点"],
 *       "patterns": ["^time in (?<city>.+)$"]
 *     }
 *   ],
 *   "config": { "timezone": { "type": "string", "default": "", "description": "IANA zone; empty = the system's" } }
 * }
 * ```
 */
import { z } from 'zod';
import { Channels } from '../umm.js';

/** Capabilities a plugin may ask for; it gets only those it asks for. */
export const PluginPermissions = ['storage', 'network', 'timers', 'secrets'] as const;
export type PluginPermission = (typeof PluginPermissions)[number];

/** Value types a config entry may declare (JSON Schema names). */
export const ConfigTypes = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
export type ConfigType = (typeof ConfigTypes)[number];

const PLUGIN_NAME = /^[a-z][a-z0-9-]*$/;
const INTENT_NAME = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_-]*$/;
// semver.org's grammar, without the build-metadata and pre-release subtleties that do not matter here.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

const text = z.string().trim().min(1, 'must not be empty');

const pattern = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, 'iu');
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      // V8's message already reads "Invalid regular expression: /src/iu: <what>".
      message: error instanceof Error ? error.message : `invalid regular expression: ${String(error)}`,
    });
  }
});

const conditionsSchema = z.strictObject({
  /** The rule applies only while the dialog waits on this. */
  expecting: text.optional(),
  /** The rule applies only right after this intent. */
  lastIntent: text.optional(),
  /** The rule applies only on these channels. */
  channels: z.array(z.enum(Channels)).min(1).optional(),
});

const slotSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'letters, digits and underscores, starting with a letter'),
  /** What to ask when the slot is missing. */
  prompt: text,
  /** @default true */
  required: z.boolean().default(true),
});

const intentSchema = z
  .strictObject({
    /** `<plugin>.<intent>`, e.g. `time.in_city`. */
    name: z.string().regex(INTENT_NAME, "'<plugin>.<intent>' in lowercase, e.g. 'time.in_city'"),
    description: text,
    /** Sample utterances: exact/near rule matches and training data for the intent model. */
    examples: z.array(text).min(1, 'give at least one example'),
    /** Regex sources, matched case-insensitively with the `u` flag; named groups become entities. */
    patterns: z.array(pattern).optional(),
    /** Whole words (Latin script) or substrings (CJK) that signal the intent. */
    keywords: z.array(text).optional(),
    /** Higher wins over any lower-priority match. @default 0 */
    priority: z.number().finite().default(0),
    conditions: conditionsSchema.optional(),
    slots: z.array(slotSchema).optional(),
  })
  .superRefine((intent, ctx) => {
    const seen = new Set<string>();
    intent.slots?.forEach((slot, index) => {
      if (seen.has(slot.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['slots', index, 'name'],
          message: `duplicate slot '${slot.name}'`,
        });
      }
      seen.add(slot.name);
    });
  });

const configEntrySchema = z
  .strictObject({
    type: z.enum(ConfigTypes),
    description: z.string().optional(),
    /** The value used unless the operator configures another. */
    default: z.json().optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.default !== undefined && !configValueHasType(entry.default, entry.type)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `must be of type ${entry.type}` });
    }
  });

export const manifestSchema = z
  .strictObject({
    /** For editors' JSON-schema support; ignored. */
    $schema: z.string().optional(),
    /** Must equal the plugin's folder name. */
    name: z.string().regex(PLUGIN_NAME, 'lowercase letters, digits and dashes, starting with a letter'),
    version: z.string().regex(SEMVER, 'a semantic version such as 1.0.0'),
    description: text,
    intents: z.array(intentSchema).min(1, 'declare at least one intent'),
    permissions: z.array(z.enum(PluginPermissions)).optional(),
    /** Settings the plugin reads from `context.config`, each with its type and default. */
    config: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), configEntrySchema).optional(),
  })
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.intents.forEach((intent, index) => {
      if (!intent.name.startsWith(`${manifest.name}.`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['intents', index, 'name'],
          message: `must start with the plugin name: '${manifest.name}.<intent>'`,
        });
      }
      if (seen.has(intent.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['intents', index, 'name'],
          message: `duplicate intent '${intent.name}'`,
        });
      }
      seen.add(intent.name);
    });
  });

/** A validated manifest, defaults applied. */
export type PluginManifest = z.output<typeof manifestSchema>;
export type IntentManifest = PluginManifest['intents'][number];
export type ConfigEntry = NonNullable<PluginManifest['config']>[string];

/** Whether a JSON value is of a config entry's declared type. */
export function configValueHasType(value: unknown, type: ConfigType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}
