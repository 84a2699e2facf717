/** The messages a conversation actor understands. */
import type { Ask } from '../../runtime/index.js';
import type { InboundMessage, OutboundMessage } from '../umm.js';
import type { DialogState } from './dialog-state.js';

/** Where a conversation's turn is. Discriminated on `type`. */
export type ConversationStatus =
  /** Waiting for the next message. */
  | { readonly type: 'idle' }
  /** Understanding the message and running a skill; bounded by the processing timeout. */
  | { readonly type: 'processing'; readonly messageId: string; readonly since: number }
  /** Storing the turn and handing the replies back. */
  | { readonly type: 'responding'; readonly messageId: string };

/** How a turn ended. */
export type TurnResult =
  /** The message was answered; `replies` go back to the channel. */
  | { readonly status: 'answered'; readonly replies: readonly OutboundMessage[] }
  /**
   * The message's idempotency id was already answered (a redelivery, a resend): nothing ran again, and
   * `replies` are the ones recorded then, so an answer lost with a crashed node still reaches the person.
   */
  | { readonly status: 'duplicate'; readonly replies: readonly OutboundMessage[] };

export type ConversationMessage =
  /** A person's message; answered with the turn's result once it is stored. */
  | ({ readonly type: 'inbound'; readonly message: InboundMessage } & Ask<TurnResult>)
  /** Read-only view of the actor, for operators and tests. */
  | ({ readonly type: 'inspect' } & Ask<{ status: ConversationStatus; dialog: DialogState }>);
