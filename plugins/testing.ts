/**
 * Test doubles for skill tests: an in-memory {@link PluginStorage}, and builders for a request and a
 * context with a pinned clock.
 *
 * @example
 * ```ts
 * const context = skillContext({ now: new Date('2024-05-01T05:05:00Z') });
 * const result = await handlers['time.in_city'](skillRequest('time.in_city', { entities: { city: 'Tokyo' } }), context);
 * ```
 */
import type { CatalogEntry, PluginStorage, SkillContext, SkillRequest, SkillResult } from './sdk.js';

/** A Map-backed storage, ordered by key like the real one; `entries` exposes what was stored. */
export function memoryStorage(): PluginStorage & { readonly entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: <T>(key: string) => Promise.resolve(clone(entries.get(key)) as T | undefined),
    set(key, value) {
      entries.set(key, clone(value));
      return Promise.resolve();
    },
    delete: (key) => Promise.resolve(entries.delete(key)),
    list: <T>(prefix = '') =>
      Promise.resolve(
        [...entries]
          .filter(([key]) => key.startsWith(prefix))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, value]) => ({ key, value: clone(value) as T })),
      ),
  };
}

/** A request for `intent` as a person on the CLI would send it. */
export function skillRequest(intent: string, fields: Partial<SkillRequest> = {}): SkillRequest {
  return {
    intent,
    text: '',
    entities: {},
    user: { id: 'user-1' },
    conversationId: 'cli:test',
    channel: 'cli',
    ...fields,
  };
}

/** A context with a fixed clock (default 2024-05-01T05:05:00Z, a Wednesday) and fresh memory storage. */
export function skillContext(
  fields: {
    now?: Date;
    storage?: PluginStorage;
    config?: Record<string, unknown>;
    catalog?: readonly CatalogEntry[];
  } = {},
): SkillContext {
  const now = fields.now ?? new Date('2024-05-01T05:05:00Z');
  return {
    storage: fields.storage ?? memoryStorage(),
    now: () => new Date(now),
    config: fields.config ?? {},
    catalog: fields.catalog ?? [],
    signal: new AbortController().signal,
  };
}

/** The reply texts of a result. */
export function textsOf(result: SkillResult): readonly string[] {
  return 'text' in result ? [result.text] : result.texts;
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}
