/** Options of the conversation actors, compiled once. */
import { parseDuration, type Duration } from '../../runtime/index.js';

export interface ConversationOptions {
  /** Longest a turn may spend in `processing` before Parley apologises and returns to idle. @default '10s' */
  processingTimeout?: Duration;
  /** Idle time after which a conversation's actor is passivated. @default '5m' */
  idleTimeout?: Duration;
  /** Longest inbound text handed to understanding; longer text is refused politely. @default 4000 */
  maxTextChars?: number;
}

export interface CompiledConversationOptions {
  readonly processingTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxTextChars: number;
}

export function compileConversationOptions(options: ConversationOptions = {}): CompiledConversationOptions {
  const compiled = {
    processingTimeoutMs: parseDuration(options.processingTimeout ?? '10s'),
    idleTimeoutMs: parseDuration(options.idleTimeout ?? '5m'),
    maxTextChars: options.maxTextChars ?? 4000,
  };
  if (compiled.processingTimeoutMs <= 0) throw new RangeError('processingTimeout must be positive');
  if (!Number.isInteger(compiled.maxTextChars) || compiled.maxTextChars < 1) {
    throw new RangeError(`maxTextChars must be a positive integer, got ${compiled.maxTextChars}`);
  }
  return compiled;
}
