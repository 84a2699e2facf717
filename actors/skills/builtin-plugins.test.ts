import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuleClassifier } from '../../models/index.js';
import type { RuleClassifier } from '../../models/index.js';
import type { PluginStorage } from '../../plugins/sdk.js';
import { memoryStorage, skillRequest } from '../../plugins/testing.js';
import { createPluginHost } from './host.js';
import type { PluginHost } from './host.js';
import { loadPlugins } from './loader.js';
import type { LoadPluginsResult } from './loader.js';

const pluginsDir = fileURLToPath(new URL('../../plugins', import.meta.url));

/** Phrase -> expected intent and entities. */
const routes: Array<[string, string, Record<string, string>?]> = [
  ['hello', 'smalltalk.greet'],
  ['Hi there!', 'smalltalk.greet'],
  ['good morning', 'smalltalk.greet'],
  ['你好', 'smalltalk.greet'],
  ['thanks', 'smalltalk.thanks'],
  ['thank you so much!', 'smalltalk.thanks'],
  ['谢谢', 'smalltalk.thanks'],
  ['bye', 'smalltalk.bye'],
  ['see you later', 'smalltalk.bye'],
  ['再见', 'smalltalk.bye'],
  ['help', 'help.show'],
  ['/help', 'help.show'],
  ['what can you do?', 'help.show'],
  ['帮助', 'help.show'],
  ['what time is it', 'time.current'],
  ["What's the time?", 'time.current'],
  ['现在几点', 'time.current'],
  ['现在几点了？', 'time.current'],
  ['what time is it in Tokyo', 'time.in_city', { city: 'Tokyo' }],
  ['could you tell me the time', 'time.current', {}],
  ['new york time', 'time.in_city', { city: 'new york' }],
  ['What time is it in Tokyo?', 'time.in_city', { city: 'Tokyo' }],
  ['time in new york', 'time.in_city', { city: 'new york' }],
  ["what's the time in San Francisco now", 'time.in_city', { city: 'San Francisco' }],
  ['东京现在几点', 'time.in_city', { city: '东京' }],
  ['伦敦时间', 'time.in_city', { city: '伦敦' }],
  ['现在纽约几点', 'time.in_city', { city: '纽约' }],
  ['note: buy milk', 'notes.add', { note: 'buy milk' }],
  ['Note： Buy Milk', 'notes.add', { note: 'Buy Milk' }],
  ['add a note buy milk', 'notes.add', { note: 'buy milk' }],
  ['remember to buy milk', 'notes.add', { note: 'buy milk' }],
  ['记一下 买牛奶', 'notes.add', { note: '买牛奶' }],
  ['show my notes', 'notes.list'],
  ['list notes', 'notes.list'],
  ['my notes', 'notes.list'],
  ['我的笔记', 'notes.list'],
  ['delete note 2', 'notes.delete', { number: '2' }],
  ['remove note buy milk', 'notes.delete', { note: 'buy milk' }],
  ['删除笔记 2', 'notes.delete', { note: '2' }],
];

describe('built-in plugins', () => {
  let loaded: LoadPluginsResult;
  let host: PluginHost;
  let classifier: RuleClassifier;
  const stores = new Map<string, PluginStorage>();

  before(async () => {
    loaded = await loadPlugins(pluginsDir);
    host = createPluginHost({
      plugins: loaded.plugins,
      storageFor: (plugin, user) => {
        const key = `${plugin}/${user}`;
        const storage = stores.get(key) ?? memoryStorage();
        stores.set(key, storage);
        return storage;
      },
      now: () => new Date('2024-05-01T05:05:00Z'),
      config: { time: { timezone: 'Europe/Paris' } },
    });
    classifier = createRuleClassifier(host.intents());
  });

  it('builtin - the plugins directory loads with zero failures', () => {
    assert.deepEqual(loaded.failures, []);
    assert.deepEqual(
      loaded.plugins.map((plugin) => plugin.name),
      ['help', 'notes', 'smalltalk', 'time'],
    );
  });

  it('builtin - rules route the reference phrasings to the right intents and entities', async () => {
    for (const [text, intent, entities = {}] of routes) {
      const result = await classifier.classify(text);
      assert.deepEqual(
        { text, intent: result?.intent, entities: result?.entities },
        { text, intent, entities },
        `"${text}" ranked: ${JSON.stringify(classifier.rank(text))}`,
      );
    }
  });

  it('builtin - unrelated text is out of scope', async () => {
    for (const text of ['the mitochondria is the powerhouse of the cell', 'asdf qwer', '量子力学']) {
      assert.equal(await classifier.classify(text), undefined, text);
    }
  });

  it('builtin - every manifest example routes to its own intent', async () => {
    for (const intent of host.intents()) {
      for (const example of intent.examples) {
        assert.equal((await classifier.classify(example))?.intent, intent.name, `"${example}"`);
      }
    }
  });

  it('builtin - a conversation runs through classifier and host end to end', async () => {
    const say = async (text: string): Promise<string[]> => {
      const result = await classifier.classify(text);
      assert.ok(result, `"${text}" is out of scope`);
      return host.invoke(
        skillRequest(result.intent, { text, entities: result.entities, user: { id: 'ana' } }),
      );
    };
    assert.match((await say('hello'))[0] ?? '', /^(Hello|Hi)\b/);
    assert.deepEqual(await say('what time is it in Tokyo'), ["It's 14:05 (Wednesday) in Tokyo."]);
    assert.deepEqual(await say('what time is it'), ["It's 07:05 (Wednesday), Europe/Paris time."]);
    await say('note: buy milk');
    await say('remember to call mom');
    assert.deepEqual(await say('show my notes'), ['Your notes:\n1. buy milk\n2. call mom']);
    await say('delete note 1');
    assert.deepEqual(await say('show my notes'), ['Your notes:\n1. call mom']);
    const help = (await say('help'))[0] ?? '';
    assert.match(help, /Notes\n- Save a note, e.g. "note: buy milk"/);
  });

  it('builtin - skill code imports nothing from Parley but the SDK', async () => {
    for (const plugin of loaded.plugins) {
      const files = (await readdir(plugin.dir)).filter(
        (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
      );
      for (const file of files) {
        const source = await readFile(join(plugin.dir, file), 'utf8');
        for (const [, specifier] of source.matchAll(
          /^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm,
        )) {
          assert.ok(
            specifier === '../sdk.js' || specifier?.startsWith('./'),
            `${plugin.name}/${file} imports '${specifier}'; skills may import only '../sdk.js' and their own files`,
          );
        }
      }
    }
  });
});
