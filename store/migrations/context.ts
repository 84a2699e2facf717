import type { Kysely } from 'kysely';
import type { FieldSealer } from '../field-codec.js';

/**
 * What data migrations need from the store being opened: migrations that move a value into a sealed or
 * blind-indexed column seal and index it exactly as the repositories would.
 */
export interface MigrationContext {
  /** The store's codec. */
  readonly sealer: FieldSealer;
  /** The store's blind index key: the configured one, or the one kept in `store_settings`. */
  blindIndexKey(db: Kysely<unknown>): Promise<Uint8Array>;
}
