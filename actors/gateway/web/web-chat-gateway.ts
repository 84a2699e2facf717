/**
 * The web-chat gateway: a WebSocket endpoint speaking the frame protocol of `frames.ts`, mapping
 * frames to UMM inbound messages and handing them to the runtime.
 *
 * The app owns the HTTP server and routing; it passes upgrades for `/ws` here and serves
 * {@link renderWebChatPage} at `/`.
 *
 * @example
 * ```ts
 * const chat = createWebChatGateway({ handle: (message) => runtime.deliver(message), logger });
 * server.on('upgrade', (req, socket, head) => {
 *   if (new URL(req.url ?? '/', 'http://x').pathname === '/ws') chat.handleUpgrade(req, socket, head);
 *   else socket.destroy();
 * });
 * // on shutdown
 * await chat.close();
 * ```
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { OutboundMessage } from '../../umm.js';
import { WebChatConnection } from './web-chat-connection.js';
import type { WebChatOptions } from './web-chat-options.js';
import { compileWebChatOptions } from './web-chat-options.js';

export interface WebChatGateway {
  /** For `server.on('upgrade')` on the path `/ws`. Refuses other sites' pages with HTTP 403. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open sockets, with or without a completed `hello`. */
  readonly connections: number;
  /**
   * Sends a message Parley sends on its own (a reminder, an answer finished elsewhere) to every open
   * socket of its conversation. Returns how many sockets got it; 0 means nobody is connected now.
   */
  deliver(message: OutboundMessage): number;
  /**
   * Refuses new upgrades and new messages, waits (up to `drainTimeoutMs`) for the messages already taken
   * to be answered, then closes every socket with 1001 (going away). Idempotent.
   */
  close(): Promise<void>;
}

/** How long `close()` waits for clients to answer the close frame before cutting sockets. */
const closeGraceMs = 2000;

export function createWebChatGateway(options: WebChatOptions): WebChatGateway {
  const config = compileWebChatOptions(options);
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: true,
  });
  const connections = new Set<WebChatConnection>();
  const byConversation = new Map<string, Set<WebChatConnection>>();
  let closed: Promise<void> | undefined;

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, config.heartbeatIntervalMs);
  heartbeat.unref();

  function index(connection: WebChatConnection, conversationId: string): void {
    const set = byConversation.get(conversationId) ?? new Set<WebChatConnection>();
    set.add(connection);
    byConversation.set(conversationId, set);
  }

  function forget(connection: WebChatConnection): void {
    connections.delete(connection);
    const { conversationId } = connection;
    if (conversationId === undefined) return;
    const set = byConversation.get(conversationId);
    set?.delete(connection);
    if (set?.size === 0) byConversation.delete(conversationId);
  }

  return {
    handleUpgrade(request, socket, head) {
      if (closed !== undefined) {
        refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is shutting down; try again shortly');
        return;
      }
      if (!config.allowOrigin(request)) {
        config.logger.warn(
          { origin: request.headers.origin },
          'web chat: refused upgrade from another origin',
        );
        refuseUpgrade(socket, 403, 'Forbidden', 'this page may not open the Parley chat socket');
        return;
      }
      server.handleUpgrade(request, socket, head, (ws) => {
        const connection = new WebChatConnection(ws, request, config, index);
        connections.add(connection);
        ws.once('close', () => forget(connection));
      });
    },

    get connections() {
      return connections.size;
    },

    deliver(message) {
      const targets = byConversation.get(message.conversationId);
      for (const connection of targets ?? []) connection.push(message);
      return targets?.size ?? 0;
    },

    close() {
      closed ??= closeAll(server, heartbeat, [...connections], config.drainTimeoutMs);
      return closed;
    },
  };
}

async function closeAll(
  server: WebSocketServer,
  heartbeat: NodeJS.Timeout,
  connections: readonly WebChatConnection[],
  drainTimeoutMs: number,
): Promise<void> {
  clearInterval(heartbeat);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(connections.map((connection) => connection.drain())),
    new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
  ]);
  clearTimeout(timer);
  const sockets = [...server.clients];
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) {
            resolve();
            return;
          }
          const timer = setTimeout(() => ws.terminate(), closeGraceMs);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1001, 'server shutting down');
        }),
    ),
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
