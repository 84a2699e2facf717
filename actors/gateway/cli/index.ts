/** The terminal chat: a REPL over an in-process or WebSocket chat connection. */
export type { ChatConnection } from './chat-connection.js';
export type { InProcessChatOptions } from './in-process-chat.js';
export { createInProcessChat } from './in-process-chat.js';
export type { WebSocketChatOptions } from './websocket-chat.js';
export { connectWebSocketChat } from './websocket-chat.js';
export type { TerminalChatOptions } from './terminal-chat.js';
export { runTerminalChat } from './terminal-chat.js';
