/**
 * Errors of the gateway: the channel adapters and the UMM wire mapping.
 *
 * Each class sets `name`, passes `{ cause }` on, and carries the context a person needs to act on it.
 */

/**
 * Error codes of the web-chat frame protocol, sent to the client in `{ type: 'error', code }` frames
 * (see `web/frames.ts`). The same codes name a rejected request on the client side.
 */
export const WebChatErrorCode = {
  /** The frame is not JSON, or not a known frame, or a field is missing or malformed. */
  badFrame: 'bad_frame',
  /** A binary frame arrived; the protocol speaks JSON text frames only. */
  unsupportedFrame: 'unsupported_frame',
  /** A message or command arrived before `hello`. */
  noSession: 'no_session',
  /** `hello` asked for a channel this peer may not use (`cli` from a non-loopback peer). */
  channelForbidden: 'channel_forbidden',
  /** The message text is empty or only whitespace. */
  emptyMessage: 'empty_message',
  /** The message text is longer than the server's `maxTextChars`. */
  messageTooLong: 'message_too_long',
  /** Too many messages of this connection are waiting for an answer; send again later. */
  busy: 'busy',
  /** The server is shutting down and took nothing; send the message again after reconnecting. */
  shuttingDown: 'shutting_down',
  /** Answering failed inside Parley; the message may be sent again. */
  internal: 'internal',
} as const;
export type WebChatErrorCode = (typeof WebChatErrorCode)[keyof typeof WebChatErrorCode];

/** A client frame the web-chat gateway refuses; it becomes an `error` frame and the socket stays open. */
export class WebChatFrameError extends Error {
  override readonly name = 'WebChatFrameError';
  /** The client message id the refused frame carried, when it carried one. */
  readonly replyTo: string | undefined;
  /** The offending field of a schema failure, dotted (`args.0`). */
  readonly path: string | undefined;

  constructor(
    readonly code: WebChatErrorCode,
    message: string,
    options: ErrorOptions & {
      readonly replyTo?: string | undefined;
      readonly path?: string | undefined;
    } = {},
  ) {
    super(message, options);
    this.replyTo = options.replyTo;
    this.path = options.path;
  }
}

/** The inbound handler (the runtime hand-off) threw or rejected while answering a message. */
export class InboundHandlerError extends Error {
  override readonly name = 'InboundHandlerError';

  constructor(
    readonly messageId: string,
    readonly conversationId: string,
    options: { readonly cause: unknown },
  ) {
    super(`answering message ${messageId} of conversation ${conversationId} failed`, options);
  }
}

/** A wire (protobuf) message that cannot become a domain UMM message: a required field is unset or unknown. */
export class UmmWireError extends Error {
  override readonly name = 'UmmWireError';

  constructor(
    /** The wire message's id (may be empty when that is what is missing). */
    readonly messageId: string,
    /** The field at fault, in proto naming, e.g. `content.kind`. */
    readonly field: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`UMM wire message ${messageId || '(no id)'}: ${field} ${problem}`, options);
  }
}

/** A chat connection (terminal chat, web-chat client) is closed, so the message was not sent or not answered. */
export class ChatClosedError extends Error {
  override readonly name = 'ChatClosedError';

  constructor(
    message: string,
    /** The WebSocket close code, when the connection was a WebSocket. */
    readonly closeCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No answer to a chat message (or to `hello`) arrived within the connection's timeout. */
export class ChatTimeoutError extends Error {
  override readonly name = 'ChatTimeoutError';

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${what} within ${timeoutMs} ms; is the Parley server running and healthy?`);
  }
}

/** The server (or the in-process chat) refused a chat message, e.g. too long or empty. */
export class ChatRequestError extends Error {
  override readonly name = 'ChatRequestError';

  constructor(
    readonly code: WebChatErrorCode,
    message: string,
  ) {
    super(message);
  }
}
