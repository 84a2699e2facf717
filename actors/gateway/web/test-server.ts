/**
 * Test support: a real HTTP server on a free loopback port serving the chat page at `/` and the
 * web-chat socket at `/ws`, the way the app wires them. Used by the gateway's tests only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderWebChatPage } from './chat-page.js';
import type { WebChatGateway } from './web-chat-gateway.js';
import { createWebChatGateway } from './web-chat-gateway.js';
import type { WebChatOptions } from './web-chat-options.js';
import {
  describeContent,
  type InboundHandler,
  type InboundMessage,
  type OutboundMessage,
} from '../../umm.js';

/**
 * A handler for gateway tests: answers `echo: <text form>` and records what it saw; the text `boom`
 * makes it throw and `silent` gets no reply.
 */
export function echoHandler(seen: InboundMessage[] = []): InboundHandler {
  return (message) => {
    seen.push(message);
    const text = describeContent(message.content);
    if (text === 'boom') return Promise.reject(new Error('handler exploded'));
    if (text === 'silent') return Promise.resolve([]);
    const reply: OutboundMessage = {
      id: `${message.id}/0`,
      channel: message.channel,
      conversationId: message.conversationId,
      content: { type: 'text', text: `echo: ${text}` },
      sentAt: message.receivedAt,
      replyTo: message.id,
    };
    return Promise.resolve([reply]);
  };
}

export interface TestChatServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string;
  /** The gateway currently answering upgrades. */
  readonly gateway: WebChatGateway;
  /** Closes the current gateway (clients see 1001) and answers further upgrades with a new one. */
  replaceGateway(options?: WebChatOptions): Promise<WebChatGateway>;
}

export async function startTestChatServer(options: WebChatOptions): Promise<TestChatServer> {
  let gateway = createWebChatGateway(options);
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(renderWebChatPage());
    } else {
      response.writeHead(404).end();
    }
  });
  server.on('upgrade', (request, socket, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname === '/ws')
      gateway.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get gateway() {
      return gateway;
    },
    async replaceGateway(next = options) {
      await gateway.close();
      gateway = createWebChatGateway(next);
      return gateway;
    },
    async [Symbol.asyncDispose]() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
