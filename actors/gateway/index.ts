/**
 * The channel gateways: they turn platform events into UMM inbound messages (`actors/umm.ts`), hand
 * them to the runtime through an {@link InboundHandler}, and send the replies back.
 *
 * - `web/`: the browser chat (WebSocket at `/ws` + the page at `/`), also used by `parley chat` to
 *   reach a running server as the `cli` channel.
 * - `cli/`: the terminal chat, in-process or over the web-chat socket.
 * - `umm-wire.ts`: UMM <-> protobuf (`proto/parley/v1/message.proto`) for the transports.
 */
export type { InboundHandler } from '../umm.js';
export type { ActorLogger } from '../logger.js';
export { contentFromText } from './text-content.js';
export * from './errors.js';
export * from './umm-wire.js';
export * from './web/index.js';
export * from './cli/index.js';
