import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { BlindIndexPurpose } from './blind-index.js';
import type { Database, UsersTable } from './database.js';
import { fieldAad } from './field-codec.js';
import type { RepositoryContext } from './repository-support.js';
import { isUuid, requireNonEmpty } from './repository-support.js';
import { inTransaction } from './transaction.js';

/** A person on one channel. The same person on two channels is two users. */
export interface User {
  /** Stable id (uuid), used by every other table. */
  readonly id: string;
  /** Channel name, e.g. `'telegram'`, `'web'`. */
  readonly channel: string;
  /** The channel's id for the person (stored sealed). */
  readonly platformUserId: string;
  /** Name shown by the channel, if it gave one (stored sealed). */
  readonly displayName?: string;
  readonly createdAt: Date;
}

/** Identifies a user by the channel's id for them. */
export interface PlatformUserRef {
  readonly channel: string;
  readonly platformUserId: string;
}

export interface UpsertUser extends PlatformUserRef {
  /** Replaces the stored display name when given; left unchanged when omitted. */
  readonly displayName?: string | undefined;
}

/**
 * Users, found by the blind index of `${channel}:${platformUserId}` so platform ids are never stored or
 * compared in the clear.
 */
export interface UserRepository {
  /**
   * Returns the user for `channel` + `platformUserId`, creating it on first sight. Stable: the same
   * platform user always gets the same `id`, also when several nodes upsert it at once.
   */
  upsert(user: UpsertUser): Promise<User>;
  /** The user for `channel` + `platformUserId`, without creating it. */
  find(ref: PlatformUserRef): Promise<User | undefined>;
  get(id: string): Promise<User | undefined>;
  /**
   * Deletes the user with their plugin data, their messages and the conversations they started. Best
   * effort until crypto-shredding (the encryption issue destroys the user's data key as well).
   * @returns whether the user existed
   */
  forget(id: string): Promise<boolean>;
}

type UserRow = Selectable<UsersTable>;

const USERS = 'users';

export function createUserRepository(ctx: RepositoryContext): UserRepository {
  const { sealer, blindIndex } = ctx;

  const indexOf = (ref: PlatformUserRef) =>
    blindIndex.compute(BlindIndexPurpose.PlatformUser, `${ref.channel}:${ref.platformUserId}`);

  const selectByIndex = (db: Kysely<Database>, index: Uint8Array) =>
    db.selectFrom('users').selectAll().where('platform_user_index', '=', index);

  async function toUser(row: UserRow): Promise<User> {
    const platformUserId = await sealer.openText(
      row.platform_user_id,
      fieldAad(USERS, 'platform_user_id', row.id),
    );
    const base = { id: row.id, channel: row.channel, platformUserId, createdAt: row.created_at };
    if (row.display_name === null) return base;
    const displayName = await sealer.openText(row.display_name, fieldAad(USERS, 'display_name', row.id));
    return { ...base, displayName };
  }

  async function insert(
    db: Kysely<Database>,
    user: UpsertUser,
    index: Uint8Array,
  ): Promise<UserRow | undefined> {
    const id = randomUUID();
    const now = new Date(ctx.clock());
    return await db
      .insertInto('users')
      .values({
        id,
        channel: user.channel,
        platform_user_index: index,
        platform_user_id: await sealer.sealText(user.platformUserId, fieldAad(USERS, 'platform_user_id', id)),
        display_name:
          user.displayName === undefined
            ? null
            : await sealer.sealText(user.displayName, fieldAad(USERS, 'display_name', id)),
        codec: sealer.codec.id,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('platform_user_index').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async function updateDisplayName(db: Kysely<Database>, user: User, displayName: string): Promise<User> {
    await db
      .updateTable('users')
      .set({
        display_name: await sealer.sealText(displayName, fieldAad(USERS, 'display_name', user.id)),
        updated_at: new Date(ctx.clock()),
      })
      .where('id', '=', user.id)
      .execute();
    return { ...user, displayName };
  }

  return {
    async upsert(user) {
      requireNonEmpty('channel', user.channel);
      requireNonEmpty('platformUserId', user.platformUserId);
      const index = indexOf(user);
      return await inTransaction(ctx.db, async (trx) => {
        const row =
          (await selectByIndex(trx, index).forUpdate().executeTakeFirst()) ??
          (await insert(trx, user, index)) ??
          // Lost an insert race: the winner has committed by now (the insert waited for it).
          (await selectByIndex(trx, index).forUpdate().executeTakeFirstOrThrow());
        const existing = await toUser(row);
        return user.displayName === undefined || user.displayName === existing.displayName
          ? existing
          : await updateDisplayName(trx, existing, user.displayName);
      });
    },

    async find(ref) {
      const row = await selectByIndex(ctx.db, indexOf(ref)).executeTakeFirst();
      return row === undefined ? undefined : await toUser(row);
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : await toUser(row);
    },

    async forget(id) {
      if (!isUuid(id)) return false;
      return await inTransaction(ctx.db, async (trx) => {
        // Foreign keys cascade from users to plugin_data and messages; conversations the user started
        // are deleted explicitly, which cascades to their remaining messages.
        await trx.deleteFrom('conversations').where('user_id', '=', id).execute();
        const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },
  };
}
