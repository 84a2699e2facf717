/**
 * The web-chat frame protocol: JSON text frames over the WebSocket at `/ws`.
 *
 * A session goes:
 * ```
 * client                                   server
 * hello {session, channel?, name?, locale?} ->
 *                                          <- ready {session, channel, limits}
 * message {id, text} | command {id, ...}   ->
 *                                          <- typing {replyTo}
 *                                          <- reply {id, replyTo, text}     (zero or more)
 *                                          <- done {replyTo}                (always last for that id)
 *                                          <- error {code, message, replyTo?} instead, when refused or failed
 * ```
 * The server may also push a `reply` without `replyTo` (a reminder, a message from another device).
 * A client may send several messages without waiting; answers come back in the order sent.
 * Resending a message with the same `id` (e.g. after a reconnect) is answered at most once: the id
 * becomes the UMM idempotency id `web:<session>:<id>`.
 *
 * Close codes the client should explain: 1009 (a frame over `limits.maxFrameBytes`), 1007 (a text
 * frame that is not UTF-8), 1001 (the server is shutting down: reconnect), 1000 (normal).
 *
 * Both directions are validated with the zod schemas below at the boundary (the server validates
 * client frames, the terminal client validates server frames).
 */
import { z } from 'zod';
import { WebChatErrorCode } from '../errors.js';

/** Channels a web-chat socket may speak as. `cli` only from this machine (see `peer-policy.ts`). */
export type SocketChannel = 'web' | 'cli';

/** First frame of a connection: who this is. Until it is accepted every other frame is refused. */
export interface HelloFrame {
  readonly type: 'hello';
  /**
   * A random id the client keeps (the page: in localStorage), so the same person keeps their
   * conversation across reloads and server restarts. 1-128 of `A-Z a-z 0-9 _ -`; at least 16 for `web`.
   */
  readonly session: string;
  /** @default 'web' */
  readonly channel?: SocketChannel | undefined;
  /** The person's display name, if they gave one. */
  readonly name?: string | undefined;
  /** BCP 47 language tag (the page sends `navigator.language`). */
  readonly locale?: string | undefined;
}

/** A line of text typed by the person. A text like `/notes list` is delivered as a command. */
export interface MessageFrame {
  readonly type: 'message';
  /** Client-generated, unique within the session, reused when resending. 1-128 of `A-Z a-z 0-9 _ -`. */
  readonly id: string;
  readonly text: string;
}

/** An explicit slash command (a button in a richer client), e.g. `{ name: 'notes', args: ['list'] }`. */
export interface CommandFrame {
  readonly type: 'command';
  readonly id: string;
  /** Without the slash. */
  readonly name: string;
  readonly args: readonly string[];
}

/** Frames a client sends. Discriminated on `type`. */
export type ClientFrame = HelloFrame | MessageFrame | CommandFrame;

/** Limits the server applies, announced in `ready` so a client can check before sending. */
export interface WebChatLimits {
  /** Longest accepted message text, in characters (Unicode code points). */
  readonly maxTextChars: number;
  /** Largest accepted frame, in bytes; a bigger one closes the socket with 1009. */
  readonly maxFrameBytes: number;
}

/** Frames the server sends. Discriminated on `type`. */
export type ServerFrame =
  /** `hello` accepted: messages may flow. */
  | {
      readonly type: 'ready';
      readonly session: string;
      readonly channel: SocketChannel;
      readonly limits: WebChatLimits;
    }
  /** A message was accepted and is being answered. */
  | { readonly type: 'typing'; readonly replyTo: string }
  /**
   * One reply. `text` is the reply's text, or a text rendering of non-text content (`[image] caption`).
   * `replyTo` is the client message id it answers; absent for a message Parley sends on its own.
   */
  | {
      readonly type: 'reply';
      readonly id: string;
      readonly replyTo?: string | undefined;
      readonly text: string;
    }
  /** Every reply to `replyTo` has been sent (there may have been none). */
  | { readonly type: 'done'; readonly replyTo: string }
  /**
   * A frame was refused or answering failed. `replyTo` names the client message when known; `path`
   * names the offending field of a `bad_frame`.
   */
  | {
      readonly type: 'error';
      readonly code: WebChatErrorCode;
      readonly message: string;
      readonly replyTo?: string | undefined;
      readonly path?: string | undefined;
    };

/** The `type`s a client may send, for a clear message when it sends another. */
export const clientFrameTypes = [
  'hello',
  'message',
  'command',
] as const satisfies readonly ClientFrame['type'][];

const token = (min: number) =>
  z
    .string()
    .min(min, `must be at least ${min} characters`)
    .max(128, 'must be at most 128 characters')
    .regex(/^[A-Za-z0-9_-]*$/, 'may contain only letters, digits, "_" and "-"');

export const helloFrameSchema = z.object({
  type: z.literal('hello'),
  session: token(1),
  channel: z.enum(['web', 'cli']).optional(),
  name: z.string().trim().min(1).max(100).optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag such as "en" or "zh-CN"')
    .optional(),
}) satisfies z.ZodType<HelloFrame>;

export const messageFrameSchema = z.object({
  type: z.literal('message'),
  id: token(1),
  // Length and emptiness are checked after parsing, to answer with their own error codes.
  text: z.string(),
}) satisfies z.ZodType<MessageFrame>;

export const commandFrameSchema = z.object({
  type: z.literal('command'),
  id: token(1),
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a command name such as "help", without "/"'),
  args: z.array(z.string().max(1000)).max(64).default([]),
}) satisfies z.ZodType<CommandFrame>;

export const clientFrameSchema = z.discriminatedUnion('type', [
  helloFrameSchema,
  messageFrameSchema,
  commandFrameSchema,
]) satisfies z.ZodType<ClientFrame>;

const limitsSchema = z.object({ maxTextChars: z.number().int(), maxFrameBytes: z.number().int() });

export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    session: z.string(),
    channel: z.enum(['web', 'cli']),
    limits: limitsSchema,
  }),
  z.object({ type: z.literal('typing'), replyTo: z.string() }),
  z.object({ type: z.literal('reply'), id: z.string(), replyTo: z.string().optional(), text: z.string() }),
  z.object({ type: z.literal('done'), replyTo: z.string() }),
  z.object({
    type: z.literal('error'),
    code: z.enum(Object.values(WebChatErrorCode) as [WebChatErrorCode, ...WebChatErrorCode[]]),
    message: z.string(),
    replyTo: z.string().optional(),
    path: z.string().optional(),
  }),
]) satisfies z.ZodType<ServerFrame>;
