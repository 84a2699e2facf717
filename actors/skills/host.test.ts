import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntentSpec } from '../../models/index.js';
import type { IntentHandler, PluginStorage, SkillRequest } from '../../plugins/sdk.js';
import { memoryStorage, skillRequest } from '../../plugins/testing.js';
import {
  PluginConfigError,
  PluginError,
  PluginErrorCode,
  PluginHostOptionsError,
  PluginPermissionError,
  PluginTimeoutError,
  UnknownIntentError,
} from './errors.js';
import { createPluginHost } from './host.js';
import { manifestSchema } from './manifest.js';
import type { LoadedPlugin } from './plugin.js';

function plugin(
  name: string,
  handlers: Record<string, IntentHandler>,
  extra: Record<string, unknown> = {},
): LoadedPlugin {
  const manifest = manifestSchema.parse({
    name,
    version: '1.0.0',
    description: `The ${name} plugin`,
    intents: Object.keys(handlers).map((intent) => ({
      name: intent,
      description: `Do ${intent}`,
      examples: [`do ${intent}`, 'another'],
      patterns: [`^${intent}$`],
    })),
    ...extra,
  });
  return { name, dir: `/plugins/${name}`, manifest, handlers };
}

const noStorage = (): PluginStorage => assert.fail('storageFor must not be called');

describe('plugin host', () => {
  it('host - routes an intent to its plugin and normalises results to texts', async () => {
    const host = createPluginHost({
      plugins: [
        plugin('one', { 'one.a': () => ({ text: 'a' }) }),
        plugin('two', {
          'two.b': (request) => Promise.resolve({ texts: ['b1', `b2 ${request.entities['x']}`] }),
        }),
      ],
      storageFor: noStorage,
    });
    assert.deepEqual(await host.invoke(skillRequest('one.a')), ['a']);
    assert.deepEqual(await host.invoke(skillRequest('two.b', { entities: { x: 'y' } })), ['b1', 'b2 y']);
  });

  it('host - an unknown intent is an UnknownIntentError', async () => {
    const host = createPluginHost({ plugins: [], storageFor: noStorage });
    await assert.rejects(host.invoke(skillRequest('nope.x')), UnknownIntentError);
  });

  it('host - a handler that does not settle in time fails with PluginTimeoutError and sees its signal aborted', async () => {
    let signal: AbortSignal | undefined;
    const host = createPluginHost({
      plugins: [
        plugin('slow', {
          'slow.hang': (_request, context) => {
            signal = context.signal;
            return new Promise(() => {});
          },
        }),
      ],
      storageFor: noStorage,
      callTimeoutMs: 30,
    });
    await assert.rejects(host.invoke(skillRequest('slow.hang')), (error: unknown) => {
      assert.ok(error instanceof PluginTimeoutError);
      assert.equal(error.plugin, 'slow');
      assert.equal(error.intent, 'slow.hang');
      assert.equal(error.timeoutMs, 30);
      return true;
    });
    assert.equal(signal?.aborted, true);
    assert.ok(signal.reason instanceof PluginTimeoutError);
  });

  it('host - a handler that first reads its signal after the timeout finds it aborted', async () => {
    let late: AbortSignal | undefined;
    const host = createPluginHost({
      plugins: [
        plugin('slow', {
          'slow.late': async (_request, context) => {
            await new Promise((resolve) => setTimeout(resolve, 60));
            late = context.signal;
            return { text: 'too late' };
          },
        }),
      ],
      storageFor: noStorage,
      callTimeoutMs: 20,
    });
    await assert.rejects(host.invoke(skillRequest('slow.late')), PluginTimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(late?.aborted, true);
    assert.ok(late.reason instanceof PluginTimeoutError);
  });

  it('host - a skill that outlives its timeout can no longer touch its storage', async () => {
    const storage = memoryStorage();
    let lateWrite: Promise<void> | undefined;
    const host = createPluginHost({
      plugins: [
        plugin(
          'late',
          {
            'late.write': async (_request, context) => {
              await new Promise((resolve) => setTimeout(resolve, 60));
              lateWrite = context.storage.set('written', true);
              await lateWrite;
              return { text: 'done' };
            },
          },
          { permissions: ['storage'] },
        ),
      ],
      storageFor: () => storage,
      callTimeoutMs: 20,
    });
    await assert.rejects(host.invoke(skillRequest('late.write')), PluginTimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await assert.rejects(lateWrite ?? Promise.resolve(), PluginTimeoutError);
    assert.equal(await storage.get('written'), undefined, 'the abandoned call wrote nothing');
  });

  it('host - a throwing handler is wrapped in PluginError with the plugin, intent and cause', async () => {
    const boom = new Error('boom');
    const host = createPluginHost({
      plugins: [
        plugin('bad', {
          'bad.sync': () => {
            throw boom;
          },
          'bad.async': () => Promise.reject(boom),
        }),
      ],
      storageFor: noStorage,
    });
    for (const intent of ['bad.sync', 'bad.async']) {
      await assert.rejects(host.invoke(skillRequest(intent)), (error: unknown) => {
        assert.ok(error instanceof PluginError);
        assert.equal(error.code, PluginErrorCode.HandlerFailed);
        assert.equal(error.plugin, 'bad');
        assert.equal(error.intent, intent);
        assert.equal(error.cause, boom);
        assert.match(error.message, new RegExp(`plugin 'bad' failed handling '${intent}': boom`));
        return true;
      });
    }
  });

  it('host - a result that is not a SkillResult is a PluginError', async () => {
    const host = createPluginHost({
      plugins: [
        plugin('odd', { 'odd.x': () => ({ texts: [1] }) as never, 'odd.y': () => undefined as never }),
      ],
      storageFor: noStorage,
    });
    for (const intent of ['odd.x', 'odd.y']) {
      await assert.rejects(host.invoke(skillRequest(intent)), (error: unknown) => {
        assert.ok(error instanceof PluginError);
        assert.equal(error.code, PluginErrorCode.InvalidResult);
        return true;
      });
    }
  });

  it('host - storage is given only to plugins with the storage permission', async () => {
    const stores = new Map<string, PluginStorage>();
    const storageFor = (pluginName: string, userId: string): PluginStorage => {
      const key = `${pluginName}/${userId}`;
      const storage = stores.get(key) ?? memoryStorage();
      stores.set(key, storage);
      return storage;
    };
    const counter: IntentHandler = async (_request, { storage }) => {
      const count = ((await storage.get<number>('count')) ?? 0) + 1;
      await storage.set('count', count);
      return { text: String(count) };
    };
    const host = createPluginHost({
      plugins: [
        plugin('keeper', { 'keeper.count': counter }, { permissions: ['storage'] }),
        plugin('sneaky', { 'sneaky.count': counter }),
      ],
      storageFor,
    });
    const as = (user: string, intent: string): SkillRequest => skillRequest(intent, { user: { id: user } });
    assert.deepEqual(await host.invoke(as('ana', 'keeper.count')), ['1']);
    assert.deepEqual(await host.invoke(as('ana', 'keeper.count')), ['2']);
    assert.deepEqual(await host.invoke(as('bo', 'keeper.count')), ['1']);
    assert.deepEqual([...stores.keys()].sort(), ['keeper/ana', 'keeper/bo']);

    await assert.rejects(host.invoke(as('ana', 'sneaky.count')), (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.equal(error.plugin, 'sneaky');
      assert.ok(error.cause instanceof PluginPermissionError);
      assert.equal(error.cause.permission, 'storage');
      assert.match(error.cause.message, /add "storage" to "permissions"/);
      return true;
    });
    assert.equal(stores.has('sneaky/ana'), false);
  });

  it('host - skills see the host clock, their config with defaults and overrides, and the catalog', async () => {
    const seen: unknown[] = [];
    const configured = plugin(
      'conf',
      {
        'conf.show': (_request, context) => {
          seen.push(context.now().toISOString(), context.config, context.catalog.length);
          return { text: 'ok' };
        },
      },
      {
        config: {
          zone: { type: 'string', default: '' },
          limit: { type: 'integer', default: 3 },
          bare: { type: 'boolean' },
        },
      },
    );
    const host = createPluginHost({
      plugins: [configured],
      storageFor: noStorage,
      now: () => new Date('2024-05-01T00:00:00Z'),
      config: { conf: { zone: 'Asia/Tokyo' } },
    });
    await host.invoke(skillRequest('conf.show'));
    assert.deepEqual(seen, ['2024-05-01T00:00:00.000Z', { zone: 'Asia/Tokyo', limit: 3 }, 1]);

    assert.throws(
      () =>
        createPluginHost({
          plugins: [configured],
          storageFor: noStorage,
          config: { conf: { limit: 'x', nope: 1 } },
        }),
      (error: unknown) => {
        assert.ok(error instanceof PluginConfigError);
        assert.deepEqual(error.issues, [
          "'limit' must be of type integer",
          "'nope' is not a setting of this plugin",
        ]);
        return true;
      },
    );
  });

  it('host - intents() gives classifiers everything they need, and the catalog one example per intent', () => {
    const host = createPluginHost({
      plugins: [
        plugin('one', { 'one.a': () => ({ text: 'a' }) }, {}),
        {
          ...plugin('two', { 'two.b': () => ({ text: 'b' }) }),
          manifest: manifestSchema.parse({
            name: 'two',
            version: '1.0.0',
            description: 'x',
            intents: [
              {
                name: 'two.b',
                description: 'Do b',
                examples: ['b please'],
                keywords: ['bee'],
                priority: 2,
                conditions: { channels: ['web'] },
                slots: [{ name: 'what', prompt: 'Which b?' }],
              },
            ],
          }),
        },
      ],
      storageFor: noStorage,
    });
    const specs: readonly IntentSpec[] = host.intents();
    assert.deepEqual(specs, [
      {
        name: 'one.a',
        plugin: 'one',
        description: 'Do one.a',
        examples: ['do one.a', 'another'],
        patterns: ['^one.a$'],
        keywords: [],
        priority: 0,
        slots: [],
      },
      {
        name: 'two.b',
        plugin: 'two',
        description: 'Do b',
        examples: ['b please'],
        patterns: [],
        keywords: ['bee'],
        priority: 2,
        conditions: { channels: ['web'] },
        slots: [{ name: 'what', prompt: 'Which b?', required: true }],
      },
    ]);
    assert.deepEqual(host.catalog, [
      { plugin: 'one', intent: 'one.a', description: 'Do one.a', example: 'do one.a' },
      { plugin: 'two', intent: 'two.b', description: 'Do b', example: 'b please' },
    ]);
  });

  it('host - replace swaps the plugins while a running call finishes on the old version', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const host = createPluginHost({
      plugins: [plugin('v', { 'v.run': async () => (await gate, { text: 'old' }) })],
      storageFor: noStorage,
    });
    const running = host.invoke(skillRequest('v.run'));
    host.replace([plugin('v', { 'v.run': () => ({ text: 'new' }), 'v.added': () => ({ text: 'added' }) })]);
    release();
    assert.deepEqual(await running, ['old']);
    assert.deepEqual(await host.invoke(skillRequest('v.run')), ['new']);
    assert.deepEqual(
      host.intents().map((intent) => intent.name),
      ['v.run', 'v.added'],
    );
  });

  it('host - replace refuses a set with duplicate intents and keeps the old one', async () => {
    const host = createPluginHost({
      plugins: [plugin('a', { 'a.x': () => ({ text: 'a' }) })],
      storageFor: noStorage,
    });
    const twin = plugin('a', { 'a.x': () => ({ text: 'twin' }) });
    assert.throws(() => host.replace([twin, twin]), { code: PluginErrorCode.DuplicateIntent });
    assert.deepEqual(await host.invoke(skillRequest('a.x')), ['a']);
  });

  it('host - invalid options are refused with every issue listed', () => {
    assert.throws(
      () => createPluginHost({ plugins: [], storageFor: noStorage, callTimeoutMs: 0 }),
      (error: unknown) => error instanceof PluginHostOptionsError && /callTimeoutMs/.test(error.message),
    );
  });
});
