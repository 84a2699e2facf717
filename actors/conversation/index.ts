/**
 * The assistant's conversations as virtual actors: `registerConversations` puts the conversation kind
 * into an actor system and returns the hand-off the gateways call for every inbound message.
 */
import type { ActorSystem } from '../../runtime/index.js';
import type { InboundHandler } from '../umm.js';

export type { InboundHandler } from '../umm.js';
import {
  CONVERSATION_KIND,
  conversationEntity,
  type ConversationDependencies,
} from './conversation-actor.js';
import type { ConversationMessage } from './conversation-messages.js';
import type { CompiledConversationOptions } from './conversation-options.js';

export {
  APOLOGY_TEXT,
  CONVERSATION_KIND,
  ConversationActor,
  conversationEntity,
} from './conversation-actor.js';
export type { ConversationDependencies } from './conversation-actor.js';
export type { ConversationMessage, ConversationStatus, TurnResult } from './conversation-messages.js';
export { compileConversationOptions } from './conversation-options.js';
export type { CompiledConversationOptions, ConversationOptions } from './conversation-options.js';
export type { DialogState } from './dialog-state.js';
export { decide } from './dialog-engine.js';
export type { DialogDecision, IntentSlots } from './dialog-engine.js';

/** Hosts conversations in `system` and returns the hand-off to them. */
export function registerConversations(system: ActorSystem, deps: ConversationDependencies): InboundHandler {
  system.registerEntity(CONVERSATION_KIND, conversationEntity(deps));
  return conversationHandler(system, deps.options);
}

/**
 * The hand-off to conversations wherever they are hosted: on this node, or (a cluster gateway, which
 * registers none) on the node that owns the conversation's shard.
 */
export function conversationHandler(
  system: ActorSystem,
  options: Pick<CompiledConversationOptions, 'processingTimeoutMs'>,
): InboundHandler {
  // The ask outlives the processing timeout so the apology, not an ask timeout, is what a slow turn yields.
  const timeout = options.processingTimeoutMs + 30_000;
  return async (message) => {
    const ref = system.entity<ConversationMessage>(CONVERSATION_KIND, message.conversationId);
    const result = await ref.ask({ type: 'inbound', message }, { timeout });
    return result.replies;
  };
}
