/**
 * Public face of the store: `createStore()` and the contracts of its repositories. Other folders import
 * only this file.
 */
export { createStore } from './store.js';
export type { Store } from './store.js';
export type { StoreOptions } from './store-options.js';
export type { StoreBackend } from './dialect.js';
export { plainCodec, PLAIN_CODEC_VERSION } from './field-codec.js';
export type { FieldCodec } from './field-codec.js';
export type { PlatformUserRef, UpsertUser, User, UserRepository } from './users.js';
export type {
  ConversationRecord,
  ConversationRepository,
  LoadOptions as ConversationLoadOptions,
  RecordTurnResult,
  StoredReply,
  Turn,
  TurnLogEntry,
} from './conversations.js';
export type { ListMessagesOptions, MessageRepository, StoredMessage } from './messages.js';
export type { ProcessedIds } from './processed-ids.js';
export type { PluginDataEntry, PluginDataRepository } from './plugin-data.js';
export type { DataDirProblem } from './errors.js';
export {
  FieldDecodeError,
  InvalidValueError,
  StaleEpochError,
  StoreConnectionError,
  StoreDataDirError,
  StoreError,
  StoreErrorCode,
  StoreMigrationError,
  StoreOptionsError,
  UnknownUserError,
} from './errors.js';
