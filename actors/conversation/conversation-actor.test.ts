/**
 * The conversation actor against the real runtime, the real built-in plugins and rule engine, and a real
 * store: every test runs on in-memory PGlite and on Postgres. Time is a SimulatedClock, so the
 * processing timeout and passivation need no sleeps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SimulatedClock, createActorSystem, type ActorSystem } from '../../runtime/index.js';
import { createRuleClassifier } from '../../models/index.js';
import { createPluginHost, loadPlugins, storeBackedStorage, type PluginHost } from '../skills/index.js';
import type { Store } from '../../store/index.js';
import type { SkillRequest } from '../../plugins/sdk.js';
import { storeBackends } from '../../test/testkit/index.js';
import type { InboundMessage, OutboundMessage } from '../umm.js';
import {
  APOLOGY_TEXT,
  CONVERSATION_KIND,
  compileConversationOptions,
  registerConversations,
  type ConversationDependencies,
  type ConversationMessage,
  type InboundHandler,
} from './index.js';

const PLUGINS_DIR = fileURLToPath(new URL('../../plugins', import.meta.url));
const silent = { info: () => {}, warn: () => {}, error: () => {} };

interface Harness {
  readonly system: ActorSystem;
  readonly clock: SimulatedClock;
  readonly handle: InboundHandler;
  /** The skill host's invoke, replaceable per test (to make a skill hang or throw). */
  invoke: (request: SkillRequest) => Promise<string[]>;
}

function harness(store: ConversationDependencies['store'], host: PluginHost): Harness {
  const clock = new SimulatedClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const system = createActorSystem({ clock });
  const h: Harness = {
    system,
    clock,
    handle: undefined as unknown as InboundHandler,
    invoke: (request) => host.invoke(request),
  };
  const deps: ConversationDependencies = {
    classifier: createRuleClassifier(host.intents()),
    skills: {
      invoke: (request) => h.invoke(request),
      intents: () => host.intents(),
      catalog: host.catalog,
    },
    store,
    options: compileConversationOptions({ processingTimeout: '10s', idleTimeout: '1m' }),
    logger: silent,
  };
  return Object.assign(h, { handle: registerConversations(system, deps) });
}

let sequence = 0;
function inbound(
  conversation: string,
  text: string,
  id = `test:${conversation}:${++sequence}`,
): InboundMessage {
  return {
    id,
    channel: 'web',
    conversationId: `web:${conversation}`,
    sender: { id: conversation },
    content: { type: 'text', text },
    sentAt: 1,
    receivedAt: 1,
  };
}

const texts = (replies: readonly OutboundMessage[]): string[] =>
  replies.map((reply) => (reply.content.type === 'text' ? reply.content.text : ''));

for (const backend of storeBackends) {
  describe(`conversation actor (${backend.name})`, () => {
    let store: Store & AsyncDisposable;
    let host: PluginHost;

    before(async () => {
      store = await backend.open();
      const { plugins, failures } = await loadPlugins(PLUGINS_DIR);
      assert.deepEqual(failures, []);
      host = createPluginHost({ plugins, storageFor: storeBackedStorage(store.pluginData) });
    });
    after(async () => {
      await store?.close();
    });

    it('conversation - answers, runs skills and stores the turn', async () => {
      const { handle, system } = harness(store, host);
      assert.match(texts(await handle(inbound('a1', 'hello'))).join(), /Hello|Hi/);
      await handle(inbound('a1', 'note: buy milk'));
      assert.match(texts(await handle(inbound('a1', 'show my notes'))).join(), /buy milk/);
      const messages = await store.messages.listByConversation('web:a1');
      assert.equal(messages.length, 6, 'three inbound and three outbound messages stored');
      assert.deepEqual(
        messages.map((message) => message.direction),
        ['inbound', 'outbound', 'inbound', 'outbound', 'inbound', 'outbound'],
      );
      const record = await store.conversations.load('web:a1');
      assert.equal((record?.state as { turns: number }).turns, 3);
      await system.shutdown();
    });

    it('conversation - out-of-scope input gets a helpful fallback', async () => {
      const { handle, system } = harness(store, host);
      const [reply] = texts(await handle(inbound('a2', 'zxqv plorb')));
      assert.match(reply ?? '', /didn't understand.*help/);
      await system.shutdown();
    });

    it('conversation - a redelivered message runs once and gets the stored replies, also after a restart', async () => {
      const first = harness(store, host);
      const message = inbound('a3', 'note: only once');
      const answered = await first.handle(message);
      assert.equal(answered.length, 1);
      assert.deepEqual(await first.handle(message), answered, 'same actor: not run again, same replies');
      await first.system.shutdown();

      const second = harness(store, host);
      assert.deepEqual(
        await second.handle(message),
        answered,
        'new node, state from the store: not run again, the replies recorded the first time',
      );
      const notes = texts(await second.handle(inbound('a3', 'show my notes'))).join();
      assert.equal(notes.match(/only once/g)?.length, 1, 'the note was added once');
      await second.system.shutdown();
    });

    it('conversation - a new message is not looked up in the store; one recorded before the activation is', async () => {
      const lookups: string[] = [];
      const counted: ConversationDependencies['store'] = {
        users: store.users,
        conversations: {
          ...store.conversations,
          hasProcessed: (id: string) => {
            lookups.push(id);
            return store.conversations.hasProcessed(id);
          },
        },
      };
      const first = harness(counted, host);
      const messages = ['hello', 'note: counted once', 'thanks'].map((text) => inbound('a12', text));
      for (const message of messages) await first.handle(message);
      assert.deepEqual(lookups, [], 'the activation knows its conversation has not recorded them');
      const [again] = await first.handle(messages[1]!);
      assert.deepEqual(lookups, [messages[1]!.id], 'a redelivery is looked up');
      await first.system.shutdown();

      const second = harness(counted, host);
      assert.deepEqual(await second.handle(messages[1]!), [again!], 'new activation: loaded from the store');
      assert.deepEqual(lookups, [messages[1]!.id, messages[1]!.id]);
      const notes = texts(await second.handle(inbound('a12', 'show my notes'))).join();
      assert.equal(notes.match(/counted once/g)?.length, 1, 'the note was added once');
      assert.equal(lookups.length, 2, 'the new message was not looked up');
      await second.system.shutdown();
    });

    it('conversation - a message another node recorded meanwhile is answered from the store, and its state taken up', async () => {
      const first = harness(store, host);
      const second = harness(store, host);
      await first.handle(inbound('a10', 'hello'));
      // Another node (a previous owner finishing late, say) records a turn this activation has not seen.
      const elsewhere = inbound('a10', 'note: written elsewhere');
      const [answer] = await second.handle(elsewhere);
      assert.deepEqual(await first.handle(elsewhere), [answer!], 'not run again: the stored reply');
      await first.handle(inbound('a10', 'thanks'));
      const record = await store.conversations.load('web:a10');
      assert.equal(
        (record?.state as { turns: number }).turns,
        3,
        "the third turn counted the other node's: the state was read again, not overwritten",
      );
      await first.system.shutdown();
      await second.system.shutdown();
    });

    it('conversation - a state stored with recent ids (before 2026-12-04) is taken up, and stored with none', async () => {
      const user = await store.users.upsert({ channel: 'web', platformUserId: 'a11' });
      const old = inbound('a11', 'hello');
      await store.conversations.recordTurn({
        conversationKey: old.conversationId,
        channel: 'web',
        userId: user.id,
        state: { version: 1, turns: 1, users: { a11: user.id }, lastIntent: 'greet', recentIds: [old.id] },
        inbound: { idempotencyId: old.id, content: old.content, sentAt: old.sentAt },
        outbound: [{ id: `${old.id}#0`, content: { type: 'text', text: 'Hi!' }, sentAt: 2 }],
      });
      const { handle, system } = harness(store, host);
      assert.deepEqual(texts(await handle(old)), ['Hi!'], 'still a duplicate: the stored reply');
      await handle(inbound('a11', 'thanks'));
      const state = (await store.conversations.load(old.conversationId))?.state as Record<string, unknown>;
      assert.equal(state.turns, 2);
      assert.deepEqual(state.users, { a11: user.id });
      // Empty, not absent: the previous version's nodes start afresh from a state without the field.
      assert.deepEqual(state.recentIds, []);
      await system.shutdown();
    });

    it('conversation - processing timeout apologises and returns to idle', async () => {
      const h = harness(store, host);
      let started!: () => void;
      const skillStarted = new Promise<void>((resolve) => (started = resolve));
      h.invoke = () => {
        started();
        return new Promise(() => {}); // a skill that never answers
      };
      const pending = h.handle(inbound('a4', 'hello'));
      await skillStarted;
      const ref = h.system.entity<ConversationMessage>(CONVERSATION_KIND, 'web:a4');
      let settled = false;
      void pending.then(() => (settled = true));
      await h.clock.advance('9s');
      assert.equal(settled, false, 'still processing before the timeout');
      await h.clock.advance('1s');
      assert.deepEqual(texts(await pending), [APOLOGY_TEXT]);
      assert.deepEqual((await ref.ask({ type: 'inspect' })).status, { type: 'idle' });

      h.invoke = (request) => host.invoke(request);
      assert.match(texts(await h.handle(inbound('a4', 'hello'))).join(), /Hello|Hi/, 'next turn works');
      await h.system.shutdown();
    });

    it('conversation - a throwing skill gets an apology and the turn is stored', async () => {
      const h = harness(store, host);
      h.invoke = () => Promise.reject(new Error('boom'));
      const [reply] = texts(await h.handle(inbound('a5', 'hello')));
      assert.match(reply ?? '', /something went wrong/);
      assert.equal((await store.messages.listByConversation('web:a5')).length, 2);
      await h.system.shutdown();
    });

    it('conversation - slot filling survives passivation and reactivation', async () => {
      const h = harness(store, host);
      const [prompt] = texts(await h.handle(inbound('a6', 'take a note')));
      assert.ok(prompt, 'asks for the missing note text');
      const ref = h.system.entity<ConversationMessage>(CONVERSATION_KIND, 'web:a6');
      assert.equal((await ref.ask({ type: 'inspect' })).dialog.pending?.slot, 'note');

      const activeBefore = h.system.stats().activeEntities;
      await h.clock.advance('61s');
      assert.equal(h.system.stats().activeEntities, activeBefore - 1, 'passivated after the idle timeout');

      const [done] = texts(await h.handle(inbound('a6', 'water the plants')));
      assert.match(done ?? '', /water the plants/, 'reactivated with the pending slot and filled it');
      await h.system.shutdown();
    });

    it('conversation - messages to one conversation are answered in arrival order', async () => {
      const h = harness(store, host);
      const notes = Array.from({ length: 20 }, (_, index) => `item ${String(index).padStart(2, '0')}`);
      await Promise.all(notes.map((note) => h.handle(inbound('a7', `note: ${note}`))));
      const stored = await store.messages.listByConversation('web:a7');
      const inboundTexts = stored
        .filter((message) => message.direction === 'inbound')
        .map((message) => (message.content as { text: string }).text);
      assert.deepEqual(
        inboundTexts,
        notes.map((note) => `note: ${note}`),
      );
      await h.system.shutdown();
    });
  });
}
