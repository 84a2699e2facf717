import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Bytes, Database } from './database.js';
import { fieldAad, type FieldSealer } from './field-codec.js';
import type { TurnReply } from './messages.js';
import { TURN_JOURNAL_SETTING } from './migrations/0009_turn_journal.js';

/** What a journal turn's sealed `body` holds (migration 0009): all the turn recorded. */
export interface TurnBody {
  /** The inbound message's id (uuid), as `StoredMessage.id` gives it. */
  readonly id: string;
  /** The channel's idempotency id of the inbound message. */
  readonly idempotencyId: string;
  readonly content: unknown;
  /** When the user sent it, epoch milliseconds. */
  readonly sentAt: number;
  readonly replies: readonly TurnReply[];
  /** Dialog state after the turn. */
  readonly state: unknown;
}

/** A turn's replies as kept with it, each given a message id of its own. */
export function turnReplies(
  replies: ReadonlyArray<{ readonly id: string; readonly content: unknown; readonly sentAt: number }>,
): TurnReply[] {
  return replies.map((reply) => ({
    id: randomUUID(),
    idempotencyId: reply.id,
    content: reply.content,
    sentAt: reply.sentAt,
  }));
}

/** The aad of a journal turn's body: bound to its row by the (unique) idempotency index. */
const bodyAad = (idempotencyIndex: Uint8Array): string =>
  fieldAad('turns', 'body', Buffer.from(idempotencyIndex).toString('hex'));

export function sealTurnBody(
  sealer: FieldSealer,
  idempotencyIndex: Uint8Array,
  body: TurnBody,
): Uint8Array | Promise<Uint8Array> {
  return sealer.sealJson(body, bodyAad(idempotencyIndex), 'turn');
}

export async function openTurnBody(
  sealer: FieldSealer,
  row: { readonly idempotency_index: Bytes; readonly body: Bytes },
): Promise<TurnBody> {
  return (await sealer.openJson(row.body, bodyAad(row.idempotency_index))) as TurnBody;
}

/** Whether the store records turns in the journal: the `turn_journal` setting is there (see 0009). */
export async function turnJournalEnabled(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ found: number }>`
    select 1 as found from store_settings where name = ${TURN_JOURNAL_SETTING}`.execute(db);
  return rows.length > 0;
}

/**
 * Makes the store record turns in the journal from now on (`parley store use-turn-journal`). Run it once
 * every node runs a version that reads the journal; running nodes take it at their next start, and until
 * then keep writing `messages` rows, which readers take as well. Answers false when it was already on.
 */
export async function enableTurnJournal(db: Kysely<Database>): Promise<boolean> {
  const result = await sql`
    insert into store_settings (name, value, created_at) values (${TURN_JOURNAL_SETTING}, '\\x01'::bytea, now())
    on conflict (name) do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}
