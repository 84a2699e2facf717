import { randomUUID } from 'node:crypto';
import { BlindIndexPurpose } from './blind-index.js';
import type { Bytes } from './database.js';
import { InvalidValueError } from './errors.js';
import type { FieldSealer } from './field-codec.js';
import { fieldAad } from './field-codec.js';
import type { RepositoryContext } from './repository-support.js';

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
      const query = ctx.db
        .selectFrom('messages')
        .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
        .where(
          'conversations.conversation_key_index',
          '=',
          blindIndex.compute(BlindIndexPurpose.ConversationKey, conversationKey),
        )
        .select([
          'messages.id',
          'messages.direction',
          'messages.idempotency_id',
          'messages.content',
          'messages.replies',
          'messages.sent_at',
          'messages.created_at',
        ]);
      // The most recent `limit` rows are the first ones in descending order; a row holds a turn's inbound
      // message and its replies, so they hold at least `limit` messages.
      const rows =
        limit === undefined
          ? await query.orderBy('messages.seq', 'asc').execute()
          : (await query.orderBy('messages.seq', 'desc').limit(limit).execute()).reverse();
      const messages: StoredMessage[] = [];
      for (const row of rows) {
        messages.push({
          id: row.id,
          direction: row.direction,
          idempotencyId: await openIdempotencyId(sealer, row),
          content: await openContent(sealer, row),
          sentAt: row.sent_at.getTime(),
          createdAt: row.created_at,
        });
        for (const reply of await openReplies(sealer, row)) {
          messages.push({
            id: reply.id,
            direction: 'outbound',
            idempotencyId: reply.idempotencyId,
            content: reply.content,
            sentAt: reply.sentAt,
            createdAt: row.created_at,
          });
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
  const sealed: TurnReply[] = replies.map((reply) => ({
    id: randomUUID(),
    idempotencyId: reply.id,
    content: reply.content,
    sentAt: reply.sentAt,
  }));
  return sealer.sealJson(sealed, fieldAad('messages', 'replies', rowId), 'replies');
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
