import { BlindIndexPurpose } from './blind-index.js';
import type { Bytes } from './database.js';
import { InvalidValueError } from './errors.js';
import type { FieldSealer } from './field-codec.js';
import { fieldAad } from './field-codec.js';
import type { RepositoryContext } from './repository-support.js';
import { int8ToNumber } from './repository-support.js';
import { openTurnBody, turnReplies } from './turn-journal.js';

/** A recorded message of a conversation. */
export interface StoredMessage {
  /** Message id (uuid): the row's, or for a reply kept in its turn's row (migration 0007) its own. */
  readonly id: string;
  readonly direction: 'inbound' | 'outbound';
  /** Inbound: the channel's idempotency id; outbound: the reply id. */
  readonly idempotencyId: string;
  /** Content as recorded (JSON, opened). */
  readonly content: unknown;
  /** When it was sent, epoch milliseconds (as given to `recordTurn`). */
  readonly sentAt: number;
  /** When the store recorded it. */
  readonly createdAt: Date;
}

export interface ListMessagesOptions {
  /** Return only the most recent `limit` messages (still oldest first). @default all messages */
  readonly limit?: number | undefined;
}

/** Read side of the messages `ConversationRepository.recordTurn` writes. */
export interface MessageRepository {
  /**
   * Messages of the conversation, oldest first, in the order they were recorded (a turn's inbound
   * message, then its replies). Empty for an unknown conversation.
   */
  listByConversation(conversationKey: string, options?: ListMessagesOptions): Promise<StoredMessage[]>;
}

export function createMessageRepository(ctx: RepositoryContext): MessageRepository {
  const { sealer, blindIndex } = ctx;
  return {
    async listByConversation(conversationKey, options = {}) {
      const { limit } = options;
      if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
        throw new InvalidValueError('limit', `expected a positive integer, got ${String(limit)}`);
      }
      const conversationId = ctx.db
        .selectFrom('conversations')
        .select('id')
        .where(
          'conversation_key_index',
          '=',
          blindIndex.compute(BlindIndexPurpose.ConversationKey, conversationKey),
        );
      // A row holds a turn's inbound message and its replies, so the most recent `limit` rows of each
      // table hold at least the most recent `limit` messages.
      const [legacy, journal] = await Promise.all([
        ctx.db
          .selectFrom('messages')
          .where('conversation_id', '=', conversationId)
          .select(['id', 'seq', 'direction', 'idempotency_id', 'content', 'replies', 'sent_at', 'created_at'])
          .$if(limit !== undefined, (query) => query.orderBy('seq', 'desc').limit(limit!))
          .execute(),
        ctx.db
          .selectFrom('turns')
          .where('conversation_id', '=', conversationId)
          .select(['seq', 'idempotency_index', 'body', 'created_at'])
          .$if(limit !== undefined, (query) => query.orderBy('seq', 'desc').limit(limit!))
          .execute(),
      ]);
      // Both tables number their rows from one sequence (migration 0009): one order.
      const rows = [
        ...legacy.map((row) => ({ seq: int8ToNumber(row.seq), legacy: row })),
        ...journal.map((row) => ({ seq: int8ToNumber(row.seq), journal: row })),
      ].sort((a, b) => a.seq - b.seq);
      const messages: StoredMessage[] = [];
      for (const row of rows) {
        if ('journal' in row) {
          const { journal } = row;
          const { id, idempotencyId, content, sentAt, replies } = await openTurnBody(sealer, journal);
          const createdAt = journal.created_at;
          messages.push({ id, direction: 'inbound', idempotencyId, content, sentAt, createdAt });
          for (const reply of replies) messages.push({ ...reply, direction: 'outbound', createdAt });
          continue;
        }
        const { legacy } = row;
        messages.push({
          id: legacy.id,
          direction: legacy.direction,
          idempotencyId: await openIdempotencyId(sealer, legacy),
          content: await openContent(sealer, legacy),
          sentAt: legacy.sent_at.getTime(),
          createdAt: legacy.created_at,
        });
        for (const reply of await openReplies(sealer, legacy)) {
          messages.push({ ...reply, direction: 'outbound', createdAt: legacy.created_at });
        }
      }
      return limit === undefined ? messages : messages.slice(-limit);
    },
  };
}

/** A reply as an inbound row's `replies` holds it (migration 0007). */
export interface TurnReply {
  /** The reply's message id (uuid), as a row of its own would have had. */
  readonly id: string;
  /** The reply id given to `recordTurn`. */
  readonly idempotencyId: string;
  readonly content: unknown;
  readonly sentAt: number;
}

/** A turn's replies sealed for the `replies` column of its inbound row `rowId`; null for none. */
export function sealReplies(
  sealer: FieldSealer,
  rowId: string,
  replies: ReadonlyArray<{ readonly id: string; readonly content: unknown; readonly sentAt: number }>,
): Uint8Array | Promise<Uint8Array> | null {
  if (replies.length === 0) return null;
  return sealer.sealJson(turnReplies(replies), fieldAad('messages', 'replies', rowId), 'replies');
}

/** The opened replies of an inbound `messages` row (empty when it has none). */
export async function openReplies(
  sealer: FieldSealer,
  row: { readonly id: string; readonly replies: Bytes | null },
): Promise<TurnReply[]> {
  if (row.replies === null) return [];
  return (await sealer.openJson(row.replies, fieldAad('messages', 'replies', row.id))) as TurnReply[];
}

/** The opened idempotency id of a `messages` row. */
export function openIdempotencyId(
  sealer: FieldSealer,
  row: { readonly id: string; readonly idempotency_id: Bytes },
): Promise<string> {
  return sealer.openText(row.idempotency_id, fieldAad('messages', 'idempotency_id', row.id));
}

/** The opened content of a `messages` row. */
export function openContent(
  sealer: FieldSealer,
  row: { readonly id: string; readonly content: Bytes },
): Promise<unknown> {
  return sealer.openJson(row.content, fieldAad('messages', 'content', row.id));
}
