import { randomUUID } from 'node:crypto';
import type { InboundMessage } from '../../umm.js';
import { describeContent } from '../../umm.js';
import { ChatClosedError, ChatRequestError, InboundHandlerError, WebChatErrorCode } from '../errors.js';
import type { InboundHandler } from '../../umm.js';
import { contentFromText } from '../text-content.js';
import type { ChatConnection } from './chat-connection.js';

export interface InProcessChatOptions {
  /** The hand-off to the runtime in this process. */
  readonly handle: InboundHandler;
  /** Who is typing (e.g. the OS user name): conversation `cli:<user>`, sender id `<user>`. */
  readonly user: string;
  /** The clock for `sentAt` / `receivedAt`, ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

/**
 * The terminal chat in embedded mode: each line becomes a `cli` channel UMM message
 * (`/notes list` becomes a command) handed straight to the runtime. Message ids are
 * `cli:<user>:<uuid>`, unique across restarts so the conversation's dedup never drops a new line.
 */
export function createInProcessChat(options: InProcessChatOptions): ChatConnection {
  const { handle, user } = options;
  const now = options.now ?? Date.now;
  const conversationId = `cli:${user}`;
  let closed = false;

  return {
    async send(text) {
      if (closed) throw new ChatClosedError('the chat is closed');
      if (text.trim() === '')
        throw new ChatRequestError(WebChatErrorCode.emptyMessage, 'the message is empty');
      const at = now();
      const message: InboundMessage = {
        id: `${conversationId}:${randomUUID()}`,
        channel: 'cli',
        conversationId,
        sender: { id: user },
        content: contentFromText(text),
        sentAt: at,
        receivedAt: at,
      };
      let replies;
      try {
        replies = await handle(message);
      } catch (cause) {
        throw new InboundHandlerError(message.id, conversationId, { cause });
      }
      return replies.map((reply) => describeContent(reply.content));
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
