/**
 * One conversation, one actor. Each inbound message runs the state machine
 * `idle -> processing -> responding -> idle`:
 * - processing: understand the text (classifier), decide (dialog engine), run the skill;
 *   bounded by the processing timeout, after which Parley apologises and the turn ends;
 * - responding: store the dialog state with the inbound and outbound messages in one transaction,
 *   then hand the replies back. Only a stored turn is answered, so a crash never sends a reply
 *   the store does not know about, and a redelivered message is recognised by its idempotency id.
 */
import type { EntityContext, EntityDefinition } from '../../runtime/index.js';
import type { Classification, IntentClassifier } from '../../models/index.js';
import type { ProcessedIds, Store } from '../../store/index.js';
import type { SkillRequest } from '../../plugins/sdk.js';
import type { PluginHost } from '../skills/index.js';
import type { ActorLogger } from '../logger.js';
import { countCodePoints, describeContent, type InboundMessage, type OutboundMessage } from '../umm.js';
import type { CompiledConversationOptions } from './conversation-options.js';
import type { ConversationMessage, ConversationStatus, TurnResult } from './conversation-messages.js';
import { decide, type DialogDecision } from './dialog-engine.js';
import {
  initialDialogState,
  reviveDialogState,
  storedDialogState,
  type DialogState,
} from './dialog-state.js';

export const CONVERSATION_KIND = 'conversation';

/** What a conversation actor needs from the rest of Parley. */
export interface ConversationDependencies {
  readonly classifier: IntentClassifier;
  /** The plugin host: runs the skill that handles an intent, and tells intents' slots and examples. */
  readonly skills: Pick<PluginHost, 'invoke' | 'intents' | 'catalog'>;
  readonly store: Pick<Store, 'users' | 'conversations'>;
  readonly options: CompiledConversationOptions;
  readonly logger: ActorLogger;
  /** Who records the turns (the cluster node id), kept with each turn as its fencing record. */
  readonly writer?: string;
}

type Context = EntityContext<ConversationMessage, DialogState>;

export const APOLOGY_TEXT = 'Sorry, that took me too long and I had to stop. Please try again in a moment.';
const SKILL_FAILED_TEXT = 'Sorry, something went wrong while handling that. Please try again.';

/** Sentinel for a turn that ran out of time. */
const TIMED_OUT = Symbol('timed-out');

interface TurnOutcome {
  readonly texts: readonly string[];
  readonly dialog: DialogState;
}

export class ConversationActor {
  #status: ConversationStatus = { type: 'idle' };
  /** The conversation's recorded inbound ids, loaded at the first message of this activation. */
  #processed: ProcessedIds | undefined;

  constructor(private readonly deps: ConversationDependencies) {}

  async receive(message: ConversationMessage, ctx: Context): Promise<void> {
    switch (message.type) {
      case 'inbound':
        ctx.respond(message, await this.#turn(message.message, ctx));
        return;
      case 'inspect':
        ctx.respond(message, { status: this.#status, dialog: ctx.state });
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`unknown conversation message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async #turn(message: InboundMessage, ctx: Context): Promise<TurnResult> {
    const { conversations } = this.deps.store;
    // Loaded after the activation claimed the conversation (`load`): no earlier owner records a turn now.
    this.#processed ??= await conversations.processedIds(ctx.id);
    if (this.#processed.mayHave(message.id) && (await conversations.hasProcessed(message.id))) {
      this.deps.logger.info(
        { conversation: ctx.id, messageId: message.id },
        'duplicate message: answering with the stored replies',
      );
      // Another node may have recorded it after this activation loaded its state.
      await this.#reload(ctx);
      return this.#duplicate(message);
    }

    this.#status = { type: 'processing', messageId: message.id, since: ctx.clock.now() };
    const dialog = await this.#ensureUser(message, ctx.state);
    const outcome = await this.#withinProcessingTimeout(this.#process(message, dialog, ctx), ctx);
    const { texts, dialog: next } =
      outcome === TIMED_OUT ? { texts: [APOLOGY_TEXT], dialog: { ...dialog, pending: undefined } } : outcome;

    this.#status = { type: 'responding', messageId: message.id };
    const replies = texts.map((text, index) => reply(message, text, index, ctx.clock.now()));
    const state: DialogState = { ...next, turns: next.turns + 1 };
    try {
      const recorded = await conversations.recordTurn({
        conversationKey: message.conversationId,
        channel: message.channel,
        userId: state.userId ?? '',
        state: storedDialogState(state),
        inbound: { idempotencyId: message.id, content: message.content, sentAt: message.sentAt },
        outbound: replies.map((r) => ({ id: r.id, content: r.content, sentAt: r.sentAt })),
        epoch: ctx.epoch,
        writer: this.deps.writer,
      });
      this.#processed.add(message.id);
      if (recorded === 'duplicate') {
        await this.#reload(ctx);
        return await this.#duplicate(message);
      }
      ctx.state = state;
      return { status: 'answered', replies };
    } finally {
      this.#status = { type: 'idle' };
    }
  }

  /** Reads the state again (and claims the conversation, if this activation has an epoch). */
  async #reload(ctx: Context): Promise<void> {
    const state = await loadDialogState(this.deps.store, ctx.id, ctx.epoch);
    if (state) ctx.state = state;
  }

  async #duplicate(message: InboundMessage): Promise<TurnResult> {
    const stored = await this.deps.store.conversations.repliesTo(message.id);
    return {
      status: 'duplicate',
      replies: stored.map((r) => ({
        id: r.id,
        channel: message.channel,
        conversationId: message.conversationId,
        content: r.content as OutboundMessage['content'],
        sentAt: r.sentAt,
        replyTo: message.id,
      })),
    };
  }

  /** Looks up (or creates) the sender's user once per sender: a group conversation has several. */
  async #ensureUser(message: InboundMessage, dialog: DialogState): Promise<DialogState> {
    const known = dialog.users[message.sender.id];
    if (known) return { ...dialog, userId: known };
    const user = await this.deps.store.users.upsert({
      channel: message.channel,
      platformUserId: message.sender.id,
      ...(message.sender.displayName === undefined ? {} : { displayName: message.sender.displayName }),
    });
    return { ...dialog, userId: user.id, users: { ...dialog.users, [message.sender.id]: user.id } };
  }

  async #process(message: InboundMessage, dialog: DialogState, ctx: Context): Promise<TurnOutcome> {
    const text = textOf(message);
    if (countCodePoints(text, this.deps.options.maxTextChars + 1) > this.deps.options.maxTextChars) {
      return {
        texts: [
          `That message is too long for me (over ${this.deps.options.maxTextChars} characters). Could you shorten it?`,
        ],
        dialog,
      };
    }
    const classification = await this.#classify(text, message, dialog, ctx);
    const skills = this.deps.skills;
    const decision = decide(text, classification, dialog, {
      slotsOf: (intent) => skills.intents().find((declaration) => declaration.name === intent),
      // Examples of what to say, other than asking for help itself.
      suggestions: skills.catalog.flatMap((entry) =>
        entry.example && entry.plugin !== 'help' ? [entry.example] : [],
      ),
    });
    return this.#act(decision, message, text, dialog, ctx);
  }

  async #classify(
    text: string,
    message: InboundMessage,
    dialog: DialogState,
    ctx: Context,
  ): Promise<Classification | undefined> {
    try {
      return await this.deps.classifier.classify(text, {
        channel: message.channel,
        ...(dialog.pending ? { expecting: dialog.pending.intent } : {}),
        ...(dialog.lastIntent ? { lastIntent: dialog.lastIntent } : {}),
        ...(message.locale ? { locale: message.locale } : {}),
      });
    } catch (error) {
      this.deps.logger.error(
        { err: error, conversation: ctx.id, messageId: message.id },
        'classifier failed',
      );
      return undefined;
    }
  }

  async #act(
    decision: DialogDecision,
    message: InboundMessage,
    text: string,
    dialog: DialogState,
    ctx: Context,
  ): Promise<TurnOutcome> {
    switch (decision.type) {
      case 'fallback':
      case 'cancelled':
        return { texts: [decision.text], dialog: { ...dialog, pending: undefined } };
      case 'prompt':
        return { texts: [decision.text], dialog: { ...dialog, pending: decision.pending } };
      case 'invoke': {
        const request: SkillRequest = {
          intent: decision.intent,
          text,
          entities: decision.entities,
          user: {
            id: dialog.userId ?? message.sender.id,
            ...(message.sender.displayName === undefined ? {} : { displayName: message.sender.displayName }),
          },
          conversationId: message.conversationId,
          channel: message.channel,
          ...(message.locale === undefined ? {} : { locale: message.locale }),
        };
        const next: DialogState = { ...dialog, pending: undefined, lastIntent: decision.intent };
        try {
          return { texts: await this.deps.skills.invoke(request), dialog: next };
        } catch (error) {
          this.deps.logger.error(
            { err: error, conversation: ctx.id, messageId: message.id, intent: decision.intent },
            'skill failed',
          );
          return { texts: [SKILL_FAILED_TEXT], dialog: next };
        }
      }
      default: {
        const unreachable: never = decision;
        throw new Error(`unknown dialog decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Races the turn against the processing timeout on the actor's clock (a simulated one in tests). */
  #withinProcessingTimeout<T>(work: Promise<T>, ctx: Context): Promise<T | typeof TIMED_OUT> {
    return new Promise((resolve, reject) => {
      const timer = ctx.clock.setTimeout(() => {
        this.deps.logger.warn(
          { conversation: ctx.id, timeoutMs: this.deps.options.processingTimeoutMs },
          'processing timed out; apologising',
        );
        resolve(TIMED_OUT);
      }, this.deps.options.processingTimeoutMs);
      work.then(
        (value) => {
          ctx.clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          ctx.clock.clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}

function textOf(message: InboundMessage): string {
  const content = message.content;
  return content.type === 'command' ? [content.name, ...content.args].join(' ') : describeContent(content);
}

function reply(message: InboundMessage, text: string, index: number, now: number): OutboundMessage {
  return {
    id: `${message.id}#${index}`,
    channel: message.channel,
    conversationId: message.conversationId,
    content: { type: 'text', text },
    sentAt: now,
    replyTo: message.id,
  };
}

/** The virtual-actor definition registered under {@link CONVERSATION_KIND}. */
export function conversationEntity(
  deps: ConversationDependencies,
): EntityDefinition<ConversationMessage, DialogState> {
  return {
    create: () => new ConversationActor(deps),
    initialState: initialDialogState,
    load: (conversationKey, epoch) => loadDialogState(deps.store, conversationKey, epoch),
    idleTimeout: deps.options.idleTimeoutMs,
  };
}

/**
 * The stored dialog state, claimed for `epoch` as it is read (a previous owner's late turn is refused from
 * then on); `undefined` before the conversation's first recorded turn.
 */
async function loadDialogState(
  store: ConversationDependencies['store'],
  conversationKey: string,
  epoch: number | undefined,
): Promise<DialogState | undefined> {
  const record = await store.conversations.load(
    conversationKey,
    epoch === undefined ? {} : { claimEpoch: epoch },
  );
  return record ? reviveDialogState(record.state) : undefined;
}
