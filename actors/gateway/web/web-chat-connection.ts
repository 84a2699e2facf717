/**
 * One web-chat socket: the `hello` handshake, then messages answered one at a time, in order.
 * Internal to the web gateway; see `frames.ts` for the protocol it speaks.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { Content, InboundMessage, OutboundMessage } from '../../umm.js';
import { countCodePoints, describeContent } from '../../umm.js';
import { InboundHandlerError, WebChatErrorCode, WebChatFrameError } from '../errors.js';
import { contentFromText } from '../text-content.js';
import type { CommandFrame, HelloFrame, MessageFrame, ServerFrame, SocketChannel } from './frames.js';
import { parseClientFrame } from './parse-frame.js';
import { rawDataToBuffer } from './raw-data.js';
import type { CompiledWebChatOptions } from './web-chat-options.js';

/** Where a connection is in its life. */
type ConnectionState =
  /** Open, waiting for `hello`; messages are refused with `no_session`. */
  | { readonly status: 'awaiting_hello' }
  /** `hello` accepted: messages go to the conversation. */
  | {
      readonly status: 'ready';
      readonly session: string;
      readonly channel: SocketChannel;
      readonly conversationId: string;
      readonly name: string | undefined;
      readonly locale: string | undefined;
    };

/** A web session id is a bearer credential for its conversation, so it must not be guessable. */
const minWebSessionChars = 16;

export class WebChatConnection {
  /** Short random id for log lines; not the session. */
  readonly logId = randomUUID().slice(0, 8);
  #state: ConnectionState = { status: 'awaiting_hello' };
  #alive = true;
  #pending = 0;
  #queue: Promise<void> = Promise.resolve();
  #draining = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly request: IncomingMessage,
    private readonly options: CompiledWebChatOptions,
    /** Called once `hello` is accepted, so the gateway can route pushed replies here. */
    private readonly onReady: (connection: WebChatConnection, conversationId: string) => void,
  ) {
    socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    socket.on('pong', () => {
      this.#alive = true;
    });
    // ws closes the socket itself (1009 oversized, 1007 bad UTF-8, 1002 protocol) and then emits this.
    socket.on('error', (error) => {
      options.logger.warn(
        { connection: this.logId, err: error },
        'web chat: socket error, connection closed',
      );
    });
  }

  /** The conversation this socket speaks for, once `hello` is accepted. */
  get conversationId(): string | undefined {
    return this.#state.status === 'ready' ? this.#state.conversationId : undefined;
  }

  /** One heartbeat tick: drop the socket if it missed the previous ping, else ping again. */
  heartbeat(): void {
    if (!this.#alive) {
      this.options.logger.info(
        { connection: this.logId },
        'web chat: no pong since last ping, dropping socket',
      );
      this.socket.terminate();
      return;
    }
    this.#alive = false;
    this.socket.ping();
  }

  /**
   * Stops taking messages (each gets `shutting_down`) and resolves once every message already taken
   * is answered and its replies sent, so a shutdown loses no answer.
   */
  drain(): Promise<void> {
    this.#draining = true;
    return this.#queue;
  }

  /** Sends a message Parley sends on its own (not as the answer to a frame of this socket). */
  push(message: OutboundMessage): void {
    const { conversationId } = message;
    const prefix = `${conversationId}:`;
    const replyTo = message.replyTo?.startsWith(prefix) ? message.replyTo.slice(prefix.length) : undefined;
    this.#send({ type: 'reply', id: message.id, replyTo, text: describeContent(message.content) });
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    this.#alive = true;
    if (isBinary) {
      this.#refuse(
        new WebChatFrameError(
          WebChatErrorCode.unsupportedFrame,
          'binary frames are not supported; send JSON text frames',
        ),
      );
      return;
    }
    try {
      const frame = parseClientFrame(rawDataToBuffer(data).toString('utf8'));
      switch (frame.type) {
        case 'hello':
          this.#hello(frame);
          break;
        case 'message':
        case 'command':
          this.#accept(frame);
          break;
        default: {
          const unreachable: never = frame;
          throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
        }
      }
    } catch (error) {
      if (error instanceof WebChatFrameError) {
        this.#refuse(error);
        return;
      }
      // A bug here must not escape the socket's event handler and take the process down.
      this.options.logger.error({ connection: this.logId, err: error }, 'web chat: handling a frame failed');
      this.#send({
        type: 'error',
        code: WebChatErrorCode.internal,
        message: 'the server could not handle that frame',
      });
    }
  }

  #hello(frame: HelloFrame): void {
    const channel = frame.channel ?? 'web';
    if (this.#state.status === 'ready') {
      if (this.#state.session !== frame.session || this.#state.channel !== channel) {
        throw new WebChatFrameError(
          WebChatErrorCode.badFrame,
          'this connection already said hello as another session; open a new connection to switch',
          { path: 'session' },
        );
      }
      this.#sendReady(this.#state.session, channel);
      return;
    }
    if (channel === 'web' && frame.session.length < minWebSessionChars) {
      throw new WebChatFrameError(
        WebChatErrorCode.badFrame,
        `invalid hello frame: session: a web session id must be at least ${minWebSessionChars} random characters`,
        { path: 'session' },
      );
    }
    if (channel === 'cli' && !this.options.allowCliChannel(this.request)) {
      this.options.logger.warn({ connection: this.logId }, 'web chat: refused channel cli from this peer');
      throw new WebChatFrameError(
        WebChatErrorCode.channelForbidden,
        'channel "cli" is accepted only from this machine (loopback, not through a proxy, not from a browser); use channel "web"',
      );
    }
    const conversationId = `${channel}:${frame.session}`;
    this.#state = {
      status: 'ready',
      session: frame.session,
      channel,
      conversationId,
      name: frame.name,
      locale: frame.locale,
    };
    this.onReady(this, conversationId);
    this.#sendReady(frame.session, channel);
  }

  #sendReady(session: string, channel: SocketChannel): void {
    const { maxTextChars, maxFrameBytes } = this.options;
    this.#send({ type: 'ready', session, channel, limits: { maxTextChars, maxFrameBytes } });
  }

  #accept(frame: MessageFrame | CommandFrame): void {
    const state = this.#state;
    if (state.status !== 'ready') {
      throw new WebChatFrameError(
        WebChatErrorCode.noSession,
        'send a hello frame first, then your messages',
        {
          replyTo: frame.id,
        },
      );
    }
    if (this.#draining) {
      throw new WebChatFrameError(
        WebChatErrorCode.shuttingDown,
        'the server is shutting down and did not take this message; send it again once reconnected',
        { replyTo: frame.id },
      );
    }
    const content = this.#content(frame);
    if (this.#pending >= this.options.maxPendingPerConnection) {
      throw new WebChatFrameError(
        WebChatErrorCode.busy,
        `${this.#pending} messages are still being answered; wait for their replies, then send again`,
        { replyTo: frame.id },
      );
    }
    const now = this.options.now();
    const inbound: InboundMessage = {
      id: `${state.conversationId}:${frame.id}`,
      channel: state.channel,
      conversationId: state.conversationId,
      sender: { id: state.session, ...(state.name === undefined ? {} : { displayName: state.name }) },
      content,
      sentAt: now,
      receivedAt: now,
      ...(state.locale === undefined ? {} : { locale: state.locale }),
    };
    this.#pending += 1;
    this.#queue = this.#queue
      .then(() => this.#answer(inbound, frame.id))
      .catch((error: unknown) => {
        this.options.logger.error({ connection: this.logId, err: error }, 'web chat: answer loop failed');
      })
      .finally(() => {
        this.#pending -= 1;
      });
  }

  #content(frame: MessageFrame | CommandFrame): Content {
    if (frame.type === 'command') {
      return { type: 'command', name: frame.name.toLowerCase(), args: frame.args };
    }
    if (frame.text.trim() === '') {
      throw new WebChatFrameError(
        WebChatErrorCode.emptyMessage,
        'the message is empty; type something first',
        {
          replyTo: frame.id,
        },
      );
    }
    const chars = countCodePoints(frame.text, this.options.maxTextChars + 1);
    if (chars > this.options.maxTextChars) {
      throw new WebChatFrameError(
        WebChatErrorCode.messageTooLong,
        `the message is longer than ${this.options.maxTextChars} characters; shorten it or split it`,
        { replyTo: frame.id },
      );
    }
    return contentFromText(frame.text);
  }

  /** Never rejects: a failing handler becomes an `internal` error frame for this message only. */
  async #answer(inbound: InboundMessage, replyTo: string): Promise<void> {
    this.#send({ type: 'typing', replyTo });
    try {
      const replies = await this.options.handle(inbound);
      for (const reply of replies) {
        this.#send({ type: 'reply', id: reply.id, replyTo, text: describeContent(reply.content) });
      }
      this.#send({ type: 'done', replyTo });
    } catch (cause) {
      const error = new InboundHandlerError(inbound.id, inbound.conversationId, { cause });
      this.options.logger.error(
        { connection: this.logId, messageId: inbound.id, conversationId: inbound.conversationId, err: error },
        'web chat: answering a message failed',
      );
      this.#send({
        type: 'error',
        code: WebChatErrorCode.internal,
        message: 'something went wrong while answering; please send your message again',
        replyTo,
      });
    }
  }

  #refuse(error: WebChatFrameError): void {
    this.options.logger.info(
      { connection: this.logId, code: error.code, path: error.path },
      'web chat: refused a frame',
    );
    this.#send({
      type: 'error',
      code: error.code,
      message: error.message,
      replyTo: error.replyTo,
      path: error.path,
    });
  }

  #send(frame: ServerFrame): void {
    // Answers can finish after the person left; there is no one to tell then.
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(frame));
  }
}
