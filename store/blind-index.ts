import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { MIN_BLIND_INDEX_KEY_BYTES } from './store-options.js';

/**
 * What a blind index is computed over; also mixed into the HMAC input so equal values in different
 * columns give unrelated indexes.
 */
export const BlindIndexPurpose = {
  /** `${channel}:${platformUserId}` of a user. */
  PlatformUser: 'users.platform_user_id',
  /** A conversation key. */
  ConversationKey: 'conversations.conversation_key',
  /** A message's idempotency id (inbound: the channel's; outbound: the reply id). */
  IdempotencyId: 'messages.idempotency_id',
} as const;
export type BlindIndexPurpose = (typeof BlindIndexPurpose)[keyof typeof BlindIndexPurpose];

/**
 * HMAC-SHA256 blind index: a deterministic keyed hash stored in a unique column, so a row can be found by
 * a sensitive value (platform user id, conversation key, idempotency id) without storing that value in
 * the clear.
 */
export class BlindIndex {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length < MIN_BLIND_INDEX_KEY_BYTES) {
      throw new RangeError(`blind index key must be at least ${MIN_BLIND_INDEX_KEY_BYTES} bytes`);
    }
    this.#key = Uint8Array.from(key);
  }

  compute(purpose: BlindIndexPurpose, value: string): Uint8Array {
    return createHmac('sha256', this.#key).update(purpose).update('\n').update(value, 'utf8').digest();
  }
}

/** `store_settings` row holding the generated blind index key. */
export const BLIND_INDEX_KEY_SETTING = 'blind_index_key';

/**
 * Returns the blind index key kept in `store_settings`, generating 32 random bytes on first use. Race-safe:
 * when several nodes start at once, the first insert wins and every node reads that one.
 *
 * Temporary home: the encryption issue moves this key to the key ring (wrapped by the master key) and
 * deletes the row.
 */
export async function loadOrCreateBlindIndexKey(
  db: Kysely<Database> | Kysely<unknown>,
  now: Date,
): Promise<Uint8Array> {
  // Plain SQL, as migrations (untyped database) need the key too.
  await sql`insert into store_settings (name, value, created_at)
    values (${BLIND_INDEX_KEY_SETTING}, ${randomBytes(32)}, ${now})
    on conflict (name) do nothing`.execute(db);
  const { rows } = await sql<{ value: Uint8Array }>`select value from store_settings
    where name = ${BLIND_INDEX_KEY_SETTING}`.execute(db);
  const row = rows[0];
  if (row === undefined) throw new Error(`store_settings.${BLIND_INDEX_KEY_SETTING} vanished after insert`);
  return Uint8Array.from(row.value);
}
