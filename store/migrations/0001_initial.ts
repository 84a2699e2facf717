import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Initial schema. Sensitive fields are `bytea` holding codec output; lookups by platform user id or
 * conversation key go through the unique HMAC blind index columns (`*_index`). Ids are uuids generated
 * in TypeScript, so the same SQL runs on Postgres and PGlite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('store_settings')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('value', 'bytea', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('platform_user_index', 'bytea', (col) => col.notNull())
    .addColumn('platform_user_id', 'bytea', (col) => col.notNull())
    .addColumn('display_name', 'bytea')
    .addColumn('codec', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('users_platform_user_index_key', ['platform_user_index'])
    .execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('conversation_key_index', 'bytea', (col) => col.notNull())
    .addColumn('conversation_key', 'bytea', (col) => col.notNull())
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('state', 'bytea', (col) => col.notNull())
    .addColumn('epoch', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('codec', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('conversations_conversation_key_index_key', ['conversation_key_index'])
    .execute();
  await db.schema.createIndex('conversations_user_id_idx').on('conversations').column('user_id').execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('seq', 'bigint', (col) => col.notNull().generatedAlwaysAsIdentity())
    .addColumn('conversation_id', 'uuid', (col) =>
      col.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'uuid', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('direction', 'text', (col) => col.notNull())
    .addColumn('idempotency_id', 'text', (col) => col.notNull())
    .addColumn('content', 'bytea', (col) => col.notNull())
    .addColumn('codec', 'text', (col) => col.notNull())
    .addColumn('sent_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('messages_idempotency_id_key', ['idempotency_id'])
    .addCheckConstraint('messages_direction_check', sql`direction in ('inbound', 'outbound')`)
    .execute();
  await db.schema
    .createIndex('messages_conversation_id_seq_idx')
    .on('messages')
    .columns(['conversation_id', 'seq'])
    .execute();
  await db.schema.createIndex('messages_user_id_idx').on('messages').column('user_id').execute();

  await db.schema
    .createTable('plugin_data')
    .addColumn('plugin', 'text', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    // Byte-order collation: `list()` orders and prefix-matches keys the same way on every server locale.
    .addColumn('key', 'text', (col) => col.notNull().modifyEnd(sql`collate "C"`))
    .addColumn('value', 'bytea', (col) => col.notNull())
    .addColumn('codec', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('plugin_data_pkey', ['plugin', 'user_id', 'key'])
    .execute();
  await db.schema.createIndex('plugin_data_user_id_idx').on('plugin_data').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['plugin_data', 'messages', 'conversations', 'users', 'store_settings']) {
    await db.schema.dropTable(table).execute();
  }
}
