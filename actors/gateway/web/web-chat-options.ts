import type { IncomingMessage } from 'node:http';
import type { InboundHandler } from '../../umm.js';
import type { ActorLogger } from '../../logger.js';
import { silentLogger } from '../../logger.js';
import { isOriginAllowed, mayUseCliChannel } from './peer-policy.js';

/** Options of {@link createWebChatGateway}. */
export interface WebChatOptions {
  /** The hand-off to the runtime: answers one inbound message. */
  readonly handle: InboundHandler;
  /**
   * Largest frame accepted, in bytes. A bigger frame closes the socket with 1009 (Message Too Big).
   * @default 65536 (64 KiB)
   */
  readonly maxFrameBytes?: number;
  /**
   * Longest message text accepted, in characters (Unicode code points); longer is refused with
   * `message_too_long`.
   * @default 4000
   */
  readonly maxTextChars?: number;
  /**
   * How many messages of one connection may wait for an answer; more are refused with `busy`.
   * @default 16
   */
  readonly maxPendingPerConnection?: number;
  /**
   * Interval of the WebSocket ping. A socket that has not answered the previous ping is dropped.
   * @default 30000
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * On `close()`, how long to wait for messages already taken to be answered before closing sockets.
   * @default 30000
   */
  readonly drainTimeoutMs?: number;
  /**
   * Who may speak as the `cli` channel.
   * @default {@link mayUseCliChannel}: loopback peers, not proxied, not from a browser page
   */
  readonly allowCliChannel?: (request: IncomingMessage) => boolean;
  /**
   * Which browser pages may open the socket (checked on upgrade; a refused upgrade gets HTTP 403).
   * @default {@link isOriginAllowed}: no `Origin` (not a browser) or the same host as the request
   */
  readonly allowOrigin?: (request: IncomingMessage) => boolean;
  /** The clock for `sentAt` / `receivedAt`, ms since the epoch. @default Date.now */
  readonly now?: () => number;
  /** @default a logger that drops everything */
  readonly logger?: ActorLogger;
}

/** {@link WebChatOptions} with defaults applied and values checked. */
export interface CompiledWebChatOptions {
  readonly handle: InboundHandler;
  readonly maxFrameBytes: number;
  readonly maxTextChars: number;
  readonly maxPendingPerConnection: number;
  readonly heartbeatIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly allowCliChannel: (request: IncomingMessage) => boolean;
  readonly allowOrigin: (request: IncomingMessage) => boolean;
  readonly now: () => number;
  readonly logger: ActorLogger;
}

/** Applies defaults and checks values. @throws {RangeError} naming the option that is out of range. */
export function compileWebChatOptions(options: WebChatOptions): CompiledWebChatOptions {
  return {
    handle: options.handle,
    maxFrameBytes: positiveInteger('maxFrameBytes', options.maxFrameBytes ?? 64 * 1024),
    maxTextChars: positiveInteger('maxTextChars', options.maxTextChars ?? 4000),
    maxPendingPerConnection: positiveInteger(
      'maxPendingPerConnection',
      options.maxPendingPerConnection ?? 16,
    ),
    heartbeatIntervalMs: positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 30_000),
    drainTimeoutMs: positiveInteger('drainTimeoutMs', options.drainTimeoutMs ?? 30_000),
    allowCliChannel: options.allowCliChannel ?? mayUseCliChannel,
    allowOrigin: options.allowOrigin ?? isOriginAllowed,
    now: options.now ?? Date.now,
    logger: options.logger ?? silentLogger,
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`web chat option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
