import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActorFailure,
  EntityPersistenceError,
  NameConflictError,
  SimulatedClock,
  SystemShutDownError,
  UnknownEntityKindError,
  createActorSystem,
  type Ask,
  type EntityActor,
  type EntityContext,
  type EntityDefinition,
} from './internal.js';
import { deferred, recordingLogger, settle } from './test-helpers.js';

type CartMessage =
  | { readonly type: 'add'; readonly item: string }
  | { readonly type: 'crash' }
  | { readonly type: 'save' }
  | { readonly type: 'done' }
  | ({ readonly type: 'items' } & Ask<readonly string[]>);

interface Cart {
  readonly items: readonly string[];
}

class CartActor implements EntityActor<CartMessage, Cart> {
  async receive(message: CartMessage, ctx: EntityContext<CartMessage, Cart>): Promise<void> {
    switch (message.type) {
      case 'add':
        ctx.state = { items: [...ctx.state.items, message.item] };
        return;
      case 'crash':
        ctx.state = { items: [...ctx.state.items, 'lost on crash'] };
        throw new Error('cart crashed');
      case 'save':
        await ctx.saveState();
        return;
      case 'done':
        await ctx.stop();
        return;
      case 'items':
        ctx.respond(message, ctx.state.items);
        return;
    }
  }
}

/** An in-memory store that records what happened to it. */
function cartStore(initial: Record<string, Cart> = {}) {
  const data = new Map<string, Cart>(Object.entries(initial));
  const log: string[] = [];
  const definition: EntityDefinition<CartMessage, Cart> = {
    create: () => new CartActor(),
    initialState: () => ({ items: [] }),
    load: (id) => {
      log.push(`load ${id}`);
      return Promise.resolve(data.get(id));
    },
    save: (id, cart) => {
      log.push(`save ${id} [${cart.items.join(',')}]`);
      data.set(id, cart);
      return Promise.resolve();
    },
    idleTimeout: '1m',
  };
  return { data, log, definition };
}

describe('virtual actors - activation', () => {
  it('activates on the first message with loaded state; refs are cheap and valid before activation', async () => {
    const system = createActorSystem();
    const store = cartStore({ c1: { items: ['tea'] } });
    system.registerEntity('cart', store.definition);
    const ref = system.entity<CartMessage>('cart', 'c1');
    assert.equal(ref, system.entity<CartMessage>('cart', 'c1'), 'refs are cached');
    assert.equal(ref.path, '/entity/cart/c1');
    assert.equal(system.stats().activeEntities, 0);
    assert.deepEqual(store.log, []);

    ref.tell({ type: 'add', item: 'milk' });
    assert.deepEqual(await ref.ask({ type: 'items' }), ['tea', 'milk']);
    assert.deepEqual(store.log, ['load c1']);
    assert.equal(system.stats().activeEntities, 1);

    const fresh = system.entity<CartMessage>('cart', 'c2');
    assert.deepEqual(await fresh.ask({ type: 'items' }), [], 'no stored state: initialState');
    await system.shutdown();
  });

  it('queues messages that arrive while state is loading and handles them in order after', async () => {
    const system = createActorSystem();
    const store = cartStore({ c1: { items: ['a'] } });
    const loading = deferred<Cart | undefined>();
    system.registerEntity('cart', { ...store.definition, load: () => loading.promise });
    const ref = system.entity<CartMessage>('cart', 'c1');
    ref.tell({ type: 'add', item: 'b' });
    ref.tell({ type: 'add', item: 'c' });
    const items = ref.ask({ type: 'items' });
    await settle();
    loading.resolve({ items: ['a'] });
    assert.deepEqual(await items, ['a', 'b', 'c']);
    await system.shutdown();
  });

  it('a failing load is a supervised start failure, retried with backoff', async () => {
    const clock = new SimulatedClock();
    const logger = recordingLogger();
    const system = createActorSystem({ clock, logger });
    let loads = 0;
    system.registerEntity<CartMessage, Cart>('cart', {
      create: () => new CartActor(),
      initialState: () => ({ items: [] }),
      load: () => (++loads === 1 ? Promise.reject(new Error('db down')) : Promise.resolve({ items: ['x'] })),
    });
    const items = system.entity<CartMessage>('cart', 'c1').ask({ type: 'items' }, { timeout: '1m' });
    await clock.advance(0);
    const failure = logger.entries.find((entry) => entry.message === 'actor failed; restarting')?.object.err;
    assert.ok(failure instanceof ActorFailure);
    assert.ok(failure.cause instanceof EntityPersistenceError);
    assert.match(failure.cause.message, /load the state of entity cart\/c1: db down/);
    await clock.advance('100ms');
    assert.deepEqual(await items, ['x']);
    await system.shutdown();
  });

  it('rejects unknown kinds and duplicate registrations', async () => {
    const system = createActorSystem();
    system.registerEntity('cart', cartStore().definition);
    assert.throws(() => system.registerEntity('cart', cartStore().definition), NameConflictError);
    const ghost = system.entity<CartMessage>('ghost', '1');
    assert.throws(() => ghost.tell({ type: 'add', item: 'x' }), UnknownEntityKindError);
    await assert.rejects(ghost.ask({ type: 'items' }), UnknownEntityKindError);
    assert.equal(system.deadLetters.byReason['unknown-entity-kind'], 2);
    await system.shutdown();
  });
});

describe('virtual actors - passivation', () => {
  it('passivates after the idle timeout (measured from the last message), saving state, and reactivates with it', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const store = cartStore();
    system.registerEntity('cart', store.definition);
    const ref = system.entity<CartMessage>('cart', 'c1');

    ref.tell({ type: 'add', item: 'tea' });
    await clock.advance('30s');
    ref.tell({ type: 'add', item: 'milk' });
    await clock.advance('59s');
    assert.equal(system.stats().activeEntities, 1, 'still active: the last message was 59s ago');
    await clock.advance('1s');
    assert.equal(system.stats().activeEntities, 0);
    assert.deepEqual(store.log, ['load c1', 'save c1 [tea,milk]']);

    assert.deepEqual(await ref.ask({ type: 'items' }), ['tea', 'milk']);
    assert.deepEqual(store.log, ['load c1', 'save c1 [tea,milk]', 'load c1']);
    assert.equal(system.stats().activeEntities, 1);
    await system.shutdown();
  });

  it('messages that arrive while it saves go to the next activation, in order', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const store = cartStore();
    const saving = deferred();
    let saves = 0;
    system.registerEntity<CartMessage, Cart>('cart', {
      ...store.definition,
      save: async (id, cart) => {
        if (++saves === 1) await saving.promise;
        store.data.set(id, cart);
      },
    });
    const ref = system.entity<CartMessage>('cart', 'c1');
    ref.tell({ type: 'add', item: 'a' });
    await clock.advance('1m');
    ref.tell({ type: 'add', item: 'b' });
    const items = ref.ask({ type: 'items' });
    saving.resolve();
    assert.deepEqual(await items, ['a', 'b']);
    assert.deepEqual(store.log, ['load c1', 'load c1']);
    await system.shutdown();
  });

  it('stays active when saving at passivation fails, and tries again later', async () => {
    const clock = new SimulatedClock();
    const logger = recordingLogger();
    const system = createActorSystem({ clock, logger });
    let attempts = 0;
    system.registerEntity<CartMessage, Cart>('cart', {
      create: () => new CartActor(),
      initialState: () => ({ items: [] }),
      save: () => (++attempts === 1 ? Promise.reject(new Error('disk full')) : Promise.resolve()),
      idleTimeout: '10s',
    });
    const ref = system.entity<CartMessage>('cart', 'c1');
    ref.tell({ type: 'add', item: 'a' });
    await clock.advance('10s');
    assert.equal(attempts, 1);
    assert.equal(system.stats().activeEntities, 1);
    assert.ok(
      logger.entries.some((entry) => entry.level === 'error' && /could not save/.test(entry.message)),
    );
    assert.deepEqual(await ref.ask({ type: 'items' }), ['a'], 'still serving with its state');
    await clock.advance('10s');
    assert.equal(attempts, 2);
    assert.equal(system.stats().activeEntities, 0);
    await system.shutdown();
  });
});

describe('virtual actors - supervision and shutdown', () => {
  it('a restart reloads state from load, dropping unsaved changes', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const store = cartStore({ c1: { items: ['saved'] } });
    system.registerEntity('cart', store.definition);
    const ref = system.entity<CartMessage>('cart', 'c1');
    ref.tell({ type: 'add', item: 'unsaved' });
    ref.tell({ type: 'crash' });
    await clock.advance('100ms');
    assert.deepEqual(await ref.ask({ type: 'items' }), ['saved']);
    assert.deepEqual(store.log, ['load c1', 'load c1']);
    await system.shutdown();
  });

  it('an entity that stops itself passivates: saves, and wakes up again with the next message', async () => {
    const system = createActorSystem();
    const store = cartStore();
    system.registerEntity('cart', store.definition);
    const ref = system.entity<CartMessage>('cart', 'c1');
    ref.tell({ type: 'add', item: 'x' });
    ref.tell({ type: 'done' });
    ref.tell({ type: 'add', item: 'y' });
    assert.deepEqual(await ref.ask({ type: 'items' }), ['x', 'y']);
    assert.deepEqual(store.log, ['load c1', 'save c1 [x]', 'load c1']);
    await system.shutdown();
  });

  it('saveState stores on demand', async () => {
    const system = createActorSystem();
    const store = cartStore();
    system.registerEntity('cart', store.definition);
    const ref = system.entity<CartMessage>('cart', 'c9');
    ref.tell({ type: 'add', item: 'x' });
    ref.tell({ type: 'save' });
    await ref.ask({ type: 'items' });
    assert.deepEqual(store.data.get('c9'), { items: ['x'] });
    await system.shutdown();
  });

  it('shutdown saves the state of every active entity, after its current message', async () => {
    const system = createActorSystem();
    const store = cartStore();
    system.registerEntity('cart', store.definition);
    system.entity<CartMessage>('cart', 'a').tell({ type: 'add', item: '1' });
    system.entity<CartMessage>('cart', 'b').tell({ type: 'add', item: '2' });
    await settle();
    await system.shutdown();
    assert.deepEqual(store.data.get('a'), { items: ['1'] });
    assert.deepEqual(store.data.get('b'), { items: ['2'] });
    assert.equal(system.stats().activeEntities, 0);
    assert.throws(
      () => system.entity<CartMessage>('cart', 'c').tell({ type: 'add', item: '3' }),
      SystemShutDownError,
    );
  });
});
