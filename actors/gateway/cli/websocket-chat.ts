import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { ChatClosedError, ChatRequestError, ChatTimeoutError } from '../errors.js';
import type { ServerFrame, SocketChannel, WebChatLimits } from '../web/frames.js';
import { serverFrameSchema } from '../web/frames.js';
import { rawDataToBuffer } from '../web/raw-data.js';
import type { ChatConnection } from './chat-connection.js';

export interface WebSocketChatOptions {
  /** The session id to speak as; the same id continues the same conversation. */
  readonly session: string;
  /** `cli` is accepted only from this machine. @default 'cli' */
  readonly channel?: SocketChannel;
  /** Display name sent in `hello`. */
  readonly name?: string;
  /** How long to wait for the connection, for `ready`, and for each answer. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Connects to a running Parley server's web-chat socket (`ws://host:port/ws`) and completes the
 * `hello` handshake (see `web/frames.ts`). Server frames are validated; unknown ones are ignored so an
 * older client keeps working against a newer server.
 *
 * @throws {ChatClosedError} when the server cannot be reached or refuses the upgrade
 * @throws {ChatRequestError} when the server refuses `hello` (e.g. `channel_forbidden`)
 * @throws {ChatTimeoutError} when no `ready` arrives within `timeoutMs`
 *
 * @example
 * ```ts
 * const chat = await connectWebSocketChat('ws://127.0.0.1:8080/ws', { session: 'alice' });
 * console.log(await chat.send('/notes list'));
 * await chat.close();
 * ```
 */
export async function connectWebSocketChat(
  url: string,
  options: WebSocketChatOptions,
): Promise<ChatConnection> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
  const chat = new WebSocketChat(socket, timeoutMs);
  await chat.start(url, {
    type: 'hello',
    session: options.session,
    channel: options.channel ?? 'cli',
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  return chat;
}

interface PendingSend {
  readonly replies: string[];
  readonly resolve: (replies: readonly string[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class WebSocketChat implements ChatConnection {
  readonly #pending = new Map<string, PendingSend>();
  #limits: WebChatLimits | undefined;
  #closedError: ChatClosedError | undefined;
  #onHelloAnswer: ((frame: ServerFrame) => void) | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly timeoutMs: number,
  ) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.#onFrame(rawDataToBuffer(data).toString('utf8'));
    });
    socket.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    // Errors are followed by 'close'; the listener keeps them from being thrown as unhandled.
    socket.on('error', () => undefined);
  }

  /** Waits for the socket to open, says hello and waits for `ready`. Closes the socket on failure. */
  async start(url: string, hello: object): Promise<void> {
    try {
      await this.#opened(url);
      await this.#ready(hello);
    } catch (error) {
      this.socket.terminate();
      throw error;
    }
  }

  send(text: string): Promise<readonly string[]> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ChatTimeoutError(`message ${id}`, this.timeoutMs));
      }, this.timeoutMs);
      this.#pending.set(id, { replies: [], resolve, reject, timer });
      this.socket.send(JSON.stringify({ type: 'message', id, text }));
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000, 'bye');
    });
  }

  #opened(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new ChatClosedError(`could not connect to ${url}: ${why}; is the Parley server running?`));
      this.socket.once('open', () => resolve());
      this.socket.once('error', (error) => fail(error.message));
      this.socket.once('unexpected-response', (_request, response) =>
        fail(`the server answered HTTP ${response.statusCode ?? '?'} instead of upgrading`),
      );
    });
  }

  #ready(hello: object): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ChatTimeoutError('hello', this.timeoutMs)), this.timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        reject(this.#closedError ?? new ChatClosedError('the server closed the connection during hello'));
      });
      this.#onHelloAnswer = (frame) => {
        clearTimeout(timer);
        this.#onHelloAnswer = undefined;
        if (frame.type === 'ready') resolve();
        else if (frame.type === 'error') reject(new ChatRequestError(frame.code, frame.message));
      };
      this.socket.send(JSON.stringify(hello));
    });
  }

  #onFrame(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = serverFrameSchema.safeParse(json);
    if (!parsed.success) return;
    const frame: ServerFrame = parsed.data;
    switch (frame.type) {
      case 'ready':
        this.#limits = frame.limits;
        this.#onHelloAnswer?.(frame);
        break;
      case 'typing':
        break;
      case 'reply':
        if (frame.replyTo !== undefined) this.#pending.get(frame.replyTo)?.replies.push(frame.text);
        break;
      case 'done':
        this.#settle(frame.replyTo, undefined);
        break;
      case 'error':
        if (frame.replyTo !== undefined)
          this.#settle(frame.replyTo, new ChatRequestError(frame.code, frame.message));
        else this.#onHelloAnswer?.(frame);
        break;
      default: {
        const unreachable: never = frame;
        return unreachable;
      }
    }
  }

  #settle(id: string, error: Error | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error === undefined) pending.resolve(pending.replies);
    else pending.reject(error);
  }

  #onClose(code: number, reason: string): void {
    this.#closedError = new ChatClosedError(explainClose(code, reason, this.#limits), code);
    for (const id of [...this.#pending.keys()]) this.#settle(id, this.#closedError);
  }
}

/** Words for the close codes a chat user can meet. */
function explainClose(code: number, reason: string, limits: WebChatLimits | undefined): string {
  const said = reason === '' ? '' : ` (${reason})`;
  switch (code) {
    case 1000:
      return `the connection was closed${said}`;
    case 1001:
      return `the server is shutting down${said}; start the chat again in a moment`;
    case 1007:
      return 'the server closed the connection: a message was not valid UTF-8';
    case 1009:
      return `the server closed the connection: a message was larger than its limit of ${
        limits === undefined ? 'its frame size' : `${limits.maxFrameBytes} bytes`
      }`;
    case 1006:
      return 'the connection to the server was lost';
    default:
      return `the server closed the connection with code ${code}${said}`;
  }
}
