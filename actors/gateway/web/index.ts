/** The web chat: a WebSocket endpoint, its frame protocol and the chat page. */
export type { InboundHandler } from '../../umm.js';
export type { WebChatOptions } from './web-chat-options.js';
export type { WebChatGateway } from './web-chat-gateway.js';
export { createWebChatGateway } from './web-chat-gateway.js';
export { renderWebChatPage } from './chat-page.js';
export type {
  ClientFrame,
  CommandFrame,
  HelloFrame,
  MessageFrame,
  ServerFrame,
  SocketChannel,
  WebChatLimits,
} from './frames.js';
export { isLoopbackAddress, isOriginAllowed, mayUseCliChannel } from './peer-policy.js';
