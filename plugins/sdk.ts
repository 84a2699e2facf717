/**
 * The plugin SDK: everything a skill's `handler.ts` may import from Parley. Skills depend on this file
 * only, never on the core, so the core can move a skill into its own worker thread without changing it.
 *
 * @example
 * ```ts
 * import { defineSkill } from '../sdk.js';
 *
 * export default defineSkill({
 *   'smalltalk.greet': (request) => ({ text: `Hello, ${request.user.displayName ?? 'there'}!` }),
 * });
 * ```
 */

/** One turn, as a skill sees it. */
export interface SkillRequest {
  /** The matched intent, one the plugin's manifest declares. */
  readonly intent: string;
  /** The person's words (for non-text messages, a textual rendering). */
  readonly text: string;
  /** Named values from the understanding step (rule captures, model entities, filled slots). */
  readonly entities: Readonly<Record<string, string>>;
  readonly user: { readonly id: string; readonly displayName?: string };
  readonly conversationId: string;
  readonly channel: string;
  readonly locale?: string;
}

/** Key-value storage private to one plugin and one user; values are JSON. */
export interface PluginStorage {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Resolves whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** Entries whose key starts with `prefix` (all when omitted), ordered by key. */
  list<T = unknown>(prefix?: string): Promise<Array<{ key: string; value: T }>>;
}

/** What the host gives a skill besides the request. */
export interface SkillContext {
  readonly storage: PluginStorage;
  /** The host's clock; use it instead of `Date.now()` so tests can pin time. Safe to destructure. */
  now(this: void): Date;
  /** The plugin's validated configuration (see the manifest's `config`). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Intents of all loaded plugins with their descriptions, for skills like `help`. */
  readonly catalog: ReadonlyArray<CatalogEntry>;
  /**
   * Aborted when the call times out (the reason is the host's timeout error): pass it to anything
   * cancellable, such as `fetch`, so abandoned work stops.
   */
  readonly signal: AbortSignal;
}

/** One intent of a loaded plugin, as `help` shows it. */
export interface CatalogEntry {
  readonly plugin: string;
  readonly intent: string;
  readonly description: string;
  /** The manifest's first example. */
  readonly example?: string;
}

/** A skill's answer: one or more text replies. */
export type SkillResult = { readonly text: string } | { readonly texts: readonly string[] };

export type IntentHandler = (
  request: SkillRequest,
  context: SkillContext,
) => SkillResult | Promise<SkillResult>;

/** A handler module's default export: one function per intent the manifest declares. */
export type SkillHandlers = Readonly<Record<string, IntentHandler>>;

/** Identity helper that gives handler modules type checking. */
export function defineSkill(handlers: SkillHandlers): SkillHandlers {
  return handlers;
}
