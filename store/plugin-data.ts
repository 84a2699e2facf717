import { sql } from 'kysely';
import { UnknownUserError } from './errors.js';
import { fieldAad } from './field-codec.js';
import type { RepositoryContext } from './repository-support.js';
import { SqlState, isUuid, requireNonEmpty, requireUuid, sqlStateOf } from './repository-support.js';

/** One stored entry of a plugin's per-user storage. */
export interface PluginDataEntry {
  readonly key: string;
  /** The JSON value as set. */
  readonly value: unknown;
}

/**
 * Plugins' key-value storage: one namespace per plugin and user, values are JSON sealed by the codec with
 * associated data binding plugin, user and key (so a value moved to another key no longer opens with an
 * authenticating codec). Keys are stored in the clear (they are listed by prefix): keep secrets in values.
 */
export interface PluginDataRepository {
  /** The value at `key`, or `undefined` when nothing is stored there. */
  get(plugin: string, userId: string, key: string): Promise<unknown>;
  /**
   * Stores `value` (JSON-serialisable; `undefined` is stored as `null`) at `key`, replacing any value.
   * @throws UnknownUserError when `userId` does not exist
   */
  set(plugin: string, userId: string, key: string, value: unknown): Promise<void>;
  /** Removes `key`. @returns whether something was stored there */
  delete(plugin: string, userId: string, key: string): Promise<boolean>;
  /** Entries whose key starts with `prefix` (all when omitted), ordered by key (byte order). */
  list(plugin: string, userId: string, prefix?: string): Promise<PluginDataEntry[]>;
}

export function createPluginDataRepository(ctx: RepositoryContext): PluginDataRepository {
  const { sealer } = ctx;
  // JSON keeps the three parts unambiguous whatever characters they contain.
  const aadOf = (plugin: string, userId: string, key: string) =>
    fieldAad('plugin_data', 'value', JSON.stringify([plugin, userId, key]));

  const scope = (plugin: string, userId: string) =>
    ctx.db.selectFrom('plugin_data').where('plugin', '=', plugin).where('user_id', '=', userId);

  return {
    async get(plugin, userId, key) {
      if (!isUuid(userId)) return undefined;
      const row = await scope(plugin, userId).select('value').where('key', '=', key).executeTakeFirst();
      return row === undefined ? undefined : await sealer.openJson(row.value, aadOf(plugin, userId, key));
    },

    async set(plugin, userId, key, value) {
      requireNonEmpty('plugin', plugin);
      requireUuid('userId', userId);
      requireNonEmpty('key', key);
      const sealed = await sealer.sealJson(value, aadOf(plugin, userId, key), `value of ${plugin}:${key}`);
      const updatedAt = new Date(ctx.clock());
      try {
        await ctx.db
          .insertInto('plugin_data')
          .values({
            plugin,
            user_id: userId,
            key,
            value: sealed,
            codec: sealer.codec.id,
            updated_at: updatedAt,
          })
          .onConflict((oc) =>
            oc.columns(['plugin', 'user_id', 'key']).doUpdateSet({
              value: sealed,
              codec: sealer.codec.id,
              updated_at: updatedAt,
            }),
          )
          .execute();
      } catch (error) {
        if (sqlStateOf(error) === SqlState.ForeignKeyViolation)
          throw new UnknownUserError(userId, { cause: error });
        throw error;
      }
    },

    async delete(plugin, userId, key) {
      if (!isUuid(userId)) return false;
      const result = await ctx.db
        .deleteFrom('plugin_data')
        .where('plugin', '=', plugin)
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async list(plugin, userId, prefix) {
      if (!isUuid(userId)) return [];
      let query = scope(plugin, userId).select(['key', 'value']);
      if (prefix !== undefined && prefix !== '') {
        query = query.where(sql<boolean>`starts_with(${sql.ref('key')}, ${prefix})`);
      }
      // The column's collation is "C", so this is byte order on every server.
      const rows = await query.orderBy('key').execute();
      const entries: PluginDataEntry[] = [];
      for (const row of rows) {
        entries.push({
          key: row.key,
          value: await sealer.openJson(row.value, aadOf(plugin, userId, row.key)),
        });
      }
      return entries;
    },
  };
}
