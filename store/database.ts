import type { ColumnType, GeneratedAlways, SelectType } from 'kysely';

/**
 * Kysely table types, as of the latest migration (`migrations/`). Columns ending in a sensitive field's
 * name hold `FieldCodec.seal()` output (`bytea`); `*_index` columns hold HMAC-SHA256 blind indexes;
 * `codec` names the codec that sealed the row's fields.
 */
export interface Database {
  users: UsersTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  turns: TurnsTable;
  plugin_data: PluginDataTable;
  store_settings: StoreSettingsTable;
}

/** `bytea`: `pg` reads it as a `Buffer`, PGlite as a `Uint8Array`; both accept `Uint8Array`. */
export type Bytes = Uint8Array;

/** `bigint`: `pg` reads it as a string, PGlite as a number; written as a number. */
export type Int8 = ColumnType<string | number | bigint, number, number>;

export interface UsersTable {
  id: string;
  channel: string;
  /** Blind index of `${channel}:${platformUserId}`; unique. */
  platform_user_index: Bytes;
  platform_user_id: Bytes;
  display_name: Bytes | null;
  codec: string;
  created_at: Date;
  updated_at: Date;
}

export interface ConversationsTable {
  id: string;
  /** Blind index of the conversation key; unique. */
  conversation_key_index: Bytes;
  conversation_key: Bytes;
  channel: string;
  /** The user who started the conversation; the conversation is deleted when that user is forgotten. */
  user_id: string | null;
  /** Dialog state as sealed JSON. */
  state: Bytes;
  /** Highest fencing epoch that wrote the row; writes with a lower one are rejected. */
  epoch: Int8;
  codec: string;
  created_at: Date;
  updated_at: Date;
}

export interface MessagesTable {
  id: string;
  /**
   * Insertion order, for listing a conversation's messages in the order they were recorded. Within a
   * conversation it is also commit order: turns hold the conversation's row lock until they commit.
   */
  seq: GeneratedAlways<SelectType<Int8>>;
  conversation_id: string;
  /** The user of the turn that recorded the message. */
  user_id: string | null;
  direction: 'inbound' | 'outbound';
  /** Blind index of `idempotency_id`; unique, so an id is recorded once across all messages. */
  idempotency_index: Bytes;
  /** Sealed text. Inbound: the channel's idempotency id; outbound: the reply id. */
  idempotency_id: Bytes;
  /** Sealed JSON. */
  content: Bytes;
  /**
   * Inbound only: the turn's replies, sealed JSON `[{ id, idempotencyId, content, sentAt }]` (0007); null
   * when it had none, or when it was recorded before 0007 (its replies are then `outbound` rows).
   */
  replies: Bytes | null;
  /** Fencing epoch of the turn that recorded the message; null when unfenced. */
  epoch: Int8 | null;
  /** Who recorded the turn (free text, e.g. a node id); null when not given. */
  writer: string | null;
  /** Outbound rows only (replies recorded before 0007): blind index of the inbound id the reply answers. */
  reply_to_index: Bytes | null;
  codec: string;
  sent_at: Date;
  created_at: Date;
}

/** The turn journal (migration 0009): a turn is one row, appended. */
export interface TurnsTable {
  /** From `messages.seq`'s sequence: one order for a conversation's turns of both tables, commit order. */
  seq: GeneratedAlways<SelectType<Int8>>;
  conversation_id: string;
  /** The user of the turn. */
  user_id: string;
  /** Blind index of the inbound message's idempotency id; unique. */
  idempotency_index: Bytes;
  /** Fencing epoch of the turn; null when unfenced. */
  epoch: Int8 | null;
  /** Who recorded the turn (free text, e.g. a node id); null when not given. */
  writer: string | null;
  codec: string;
  /** Sealed JSON {@link TurnBody} (`store/turn-journal.ts`). */
  body: Bytes;
  created_at: Date;
}

export interface PluginDataTable {
  plugin: string;
  user_id: string;
  key: string;
  /** Sealed JSON. */
  value: Bytes;
  codec: string;
  updated_at: Date;
}

export interface StoreSettingsTable {
  name: string;
  value: Bytes;
  created_at: Date;
}
