import type { InboundMessage, OutboundMessage } from '../umm.js';

/**
 * The hand-off from a channel gateway to the runtime: deliver one inbound message to its conversation
 * and resolve with the replies to send back (possibly none, e.g. for a redelivered duplicate).
 *
 * A rejection means answering failed; the gateway tells the person and keeps the connection.
 */
export type InboundHandler = (message: InboundMessage) => Promise<readonly OutboundMessage[]>;
