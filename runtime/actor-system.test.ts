import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActorFailure,
  ActorStoppedError,
  AskTimeoutError,
  InvalidNameError,
  MailboxFullError,
  NameConflictError,
  NotAChildError,
  SimulatedClock,
  SystemShutDownError,
  createActorSystem,
  type Actor,
  type ActorContext,
  type ActorRef,
  type Ask,
} from './internal.js';
import { deferred, seededRandom, settle } from './test-helpers.js';

type CounterMessage =
  | { readonly type: 'increment'; readonly by: number }
  | ({ readonly type: 'get' } & Ask<number>)
  | ({ readonly type: 'fail'; readonly reason: string } & Ask<number>)
  | ({ readonly type: 'ignore' } & Ask<string>);

class Counter implements Actor<CounterMessage> {
  count = 0;

  receive(message: CounterMessage, ctx: ActorContext<CounterMessage>): void {
    switch (message.type) {
      case 'increment':
        this.count += message.by;
        return;
      case 'get':
        ctx.respond(message, this.count);
        return;
      case 'fail':
        throw new Error(message.reason);
      case 'ignore':
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`unexpected ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

const counterProps = { create: () => new Counter() };

describe('actor system - tell and ask', () => {
  it('ask resolves with the reply, typed from the message', async () => {
    const system = createActorSystem();
    const counter = system.spawn(counterProps, 'counter');
    counter.tell({ type: 'increment', by: 2 });
    counter.tell({ type: 'increment', by: 3 });
    const total: number = await counter.ask({ type: 'get' });
    assert.equal(total, 5);
    assert.equal(counter.path, '/user/counter');
    await system.shutdown();
  });

  it('keeps per-sender order at each actor under concurrent senders and async receives', async () => {
    type Tagged = { readonly sender: number; readonly seq: number };
    const random = seededRandom(42);
    const received = new Map<number, Tagged[]>();
    const inFlight = new Map<number, number>();
    let maxInFlight = 0;

    class Recorder implements Actor<Tagged> {
      constructor(private readonly id: number) {}
      async receive(message: Tagged): Promise<void> {
        const busy = (inFlight.get(this.id) ?? 0) + 1;
        inFlight.set(this.id, busy);
        maxInFlight = Math.max(maxInFlight, busy);
        const hops = Math.floor(random() * 4);
        for (let i = 0; i < hops; i++) {
          if (random() < 0.5) await Promise.resolve();
          else await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const list = received.get(this.id) ?? [];
        list.push(message);
        received.set(this.id, list);
        inFlight.set(this.id, busy - 1);
      }
    }

    const system = createActorSystem({ mailboxCapacity: 10_000 });
    const actors = Array.from({ length: 8 }, (_, id) => system.spawn({ create: () => new Recorder(id) }));
    const perSender = 200;
    const senders = Array.from({ length: 16 }, async (_, sender) => {
      for (let seq = 0; seq < perSender; seq++) {
        const target = actors[Math.floor(random() * actors.length)] as ActorRef<Tagged>;
        target.tell({ sender, seq });
        if (random() < 0.3) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    });
    await Promise.all(senders);
    while ([...received.values()].reduce((sum, list) => sum + list.length, 0) < 16 * perSender)
      await settle(1);

    assert.equal(maxInFlight, 1, 'an actor handled two messages at once');
    for (const list of received.values()) {
      const last = new Map<number, number>();
      for (const { sender, seq } of list) {
        assert.ok(
          seq > (last.get(sender) ?? -1),
          `sender ${sender}: ${seq} arrived after ${last.get(sender)}`,
        );
        last.set(sender, seq);
      }
    }
    await system.shutdown();
  });

  it('rejects an ask with AskTimeoutError when no reply comes before the deadline', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock, askTimeout: '2s' });
    const counter = system.spawn(counterProps, 'silent');
    const outcome: { settled?: unknown } = {};
    const pending = counter.ask({ type: 'ignore' }).then(
      (value) => (outcome.settled = value),
      (error: unknown) => (outcome.settled = error),
    );
    const settled = (): unknown => outcome.settled;
    await clock.advance('1999ms');
    assert.equal(settled(), undefined);
    await clock.advance(1);
    await pending;
    const error = settled();
    assert.ok(error instanceof AskTimeoutError);
    assert.equal(error.actorPath, '/user/silent');
    assert.equal(error.messageType, 'ignore');
    assert.equal(error.timeoutMs, 2000);

    const custom = assert.rejects(counter.ask({ type: 'ignore' }, { timeout: '50ms' }), AskTimeoutError);
    await clock.advance('50ms');
    await custom;
    await system.shutdown();
  });

  it('rejects an ask whose handler throws with the wrapped error, not a timeout', async () => {
    const system = createActorSystem();
    const counter = system.spawn(counterProps, 'thrower');
    const error = await counter.ask({ type: 'fail', reason: 'bad input' }).then(
      () => assert.fail('expected a rejection'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ActorFailure);
    assert.equal(error.actorPath, '/user/thrower');
    assert.equal(error.messageType, 'fail');
    assert.equal(error.phase, 'receive');
    assert.equal(error.cause.message, 'bad input');
    assert.match(error.message, /\/user\/thrower failed in receive handling 'fail': bad input/);
    await system.shutdown();
  });

  it('rejects an ask whose async handler rejects, and the process does not see an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const system = createActorSystem();
      const ref = system.spawn<{ type: 'go' } & Ask<void>>({
        create: () => ({
          async receive(): Promise<void> {
            await Promise.resolve();
            throw new Error('async boom');
          },
        }),
      });
      ref.tell({ type: 'go' });
      await assert.rejects(ref.ask({ type: 'go' }), (error: unknown) => {
        assert.ok(error instanceof ActorFailure);
        assert.equal(error.cause.message, 'async boom');
        return true;
      });
      await settle();
      await system.shutdown();
      await settle();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('answers later through deferReply', async () => {
    type Message = { type: 'slow' } & Ask<string>;
    const system = createActorSystem();
    const later = deferred();
    const ref = system.spawn<Message>({
      create: () => ({
        receive(_message, ctx) {
          const reply = ctx.deferReply();
          void later.promise.then(() => reply.resolve('done'));
        },
      }),
    });
    const answer = ref.ask({ type: 'slow' });
    await settle();
    later.resolve();
    assert.equal(await answer, 'done');
    await system.shutdown();
  });
});

describe('actor system - mailbox bound', () => {
  it('throws MailboxFullError with path and capacity when the mailbox is full, and counts a dead letter', async () => {
    const system = createActorSystem();
    const gate = deferred();
    const handled: number[] = [];
    const ref = system.spawn<number>(
      {
        create: () => ({
          async receive(message) {
            await gate.promise;
            handled.push(message);
          },
        }),
        mailboxCapacity: 2,
      },
      'narrow',
    );
    ref.tell(1);
    ref.tell(2);
    assert.throws(
      () => ref.tell(3),
      (error: unknown) => {
        assert.ok(error instanceof MailboxFullError);
        assert.equal(error.actorPath, '/user/narrow');
        assert.equal(error.capacity, 2);
        assert.equal(error.code, 'MAILBOX_FULL');
        return true;
      },
    );
    assert.equal(system.deadLetters.count, 1);
    assert.equal(system.deadLetters.byReason['mailbox-full'], 1);
    assert.deepEqual(
      system.deadLetters.recent().map((letter) => [letter.reason, letter.recipient, letter.messageType]),
      [['mailbox-full', '/user/narrow', 'number']],
    );

    await assert.rejects(ref.ask(4), MailboxFullError);
    assert.equal(system.deadLetters.count, 2);

    gate.resolve();
    await settle();
    assert.deepEqual(handled, [1, 2]);
    ref.tell(5);
    await settle();
    assert.deepEqual(handled, [1, 2, 5]);
    await system.shutdown();
  });
});

describe('actor system - stopping', () => {
  it('stops a child after its current message, children first, then postStop; messages after go to dead letters', async () => {
    const events: string[] = [];
    const system = createActorSystem();
    type ParentMessage = { type: 'spawn' } & Ask<ActorRef<string>>;
    const parent = system.spawn<ParentMessage>(
      {
        create: () => ({
          receive(_message, ctx) {
            const child = ctx.spawn<string>(
              {
                create: () => ({
                  preStart: (childCtx) => {
                    childCtx.spawn({
                      create: () => ({
                        receive: () => {},
                        postStop: () => void events.push('grandchild stopped'),
                      }),
                    });
                  },
                  receive: (message) => void events.push(`child got ${message}`),
                  postStop: () => void events.push('child stopped'),
                }),
              },
              'child',
            );
            ctx.reply(child);
          },
          onSignal: (signal) => void events.push(`parent heard ${signal.type}`),
          postStop: () => void events.push('parent stopped'),
        }),
      },
      'parent',
    );
    const child = await parent.ask({ type: 'spawn' });
    assert.equal(child.path, '/user/parent/child');
    child.tell('hello');
    await settle();
    assert.equal(system.stats().activeActors, 3);

    await system.stop(parent);
    assert.deepEqual(events, ['child got hello', 'grandchild stopped', 'child stopped', 'parent stopped']);
    assert.equal(system.stats().activeActors, 0);

    child.tell('too late');
    assert.equal(system.deadLetters.byReason['actor-stopped'], 1);
    await assert.rejects(child.ask('too late'), ActorStoppedError);
    await system.shutdown();
  });

  it('tells the parent child-stopped when a child stops itself', async () => {
    const signals: string[] = [];
    const system = createActorSystem();
    const parent = system.spawn<'start'>({
      create: () => ({
        receive(_message, ctx) {
          const child = ctx.spawn<'quit'>(
            { create: () => ({ receive: (_m, childCtx) => void childCtx.stop() }) },
            'quitter',
          );
          child.tell('quit');
        },
        onSignal: (signal) => void signals.push(`${signal.type} ${signal.child.path}`),
      }),
    });
    parent.tell('start');
    await settle();
    assert.deepEqual(signals, [`child-stopped ${parent.path}/quitter`]);
    await system.shutdown();
  });

  it('refuses to stop an actor that is not a child, and rejects bad or duplicate names', async () => {
    const system = createActorSystem();
    const a = system.spawn(counterProps, 'a');
    assert.throws(() => system.spawn(counterProps, 'a'), NameConflictError);
    assert.throws(() => system.spawn(counterProps, 'a/b'), InvalidNameError);
    assert.throws(() => system.spawn(counterProps, '$1'), InvalidNameError);
    const probe = system.spawn<'try'>({
      create: () => ({
        receive: (_m, ctx) => ctx.stop(a).catch((error: unknown) => void probeErrors.push(error)),
      }),
    });
    const probeErrors: unknown[] = [];
    probe.tell('try');
    await settle();
    assert.ok(probeErrors[0] instanceof NotAChildError);
    await system.shutdown();
    assert.throws(() => system.spawn(counterProps), SystemShutDownError);
  });

  it('shutdown runs postStop hooks and turns queued messages into dead letters', async () => {
    const system = createActorSystem();
    const gate = deferred();
    const stopped: string[] = [];
    const ref = system.spawn<number>(
      {
        create: () => ({
          receive: () => gate.promise,
          postStop: () => void stopped.push('slow'),
        }),
      },
      'slow',
    );
    ref.tell(1);
    ref.tell(2);
    ref.tell(3);
    await settle();
    const done = system.shutdown();
    gate.resolve();
    await done;
    assert.deepEqual(stopped, ['slow']);
    assert.equal(system.deadLetters.byReason['shut-down'], 2);
    assert.equal(system.stats().activeActors, 0);
  });
});

describe('actor system - fairness', () => {
  it('a flood of messages to one actor still lets the event loop turn', async () => {
    const system = createActorSystem({ mailboxCapacity: 200_000 });
    let handled = 0;
    let handledWhenImmediateRan = -1;
    const ref = system.spawn<number>({ create: () => ({ receive: () => void handled++ }) });
    for (let i = 0; i < 100_000; i++) ref.tell(i);
    setImmediate(() => (handledWhenImmediateRan = handled));
    while (handled < 100_000) await settle(1);
    assert.ok(
      handledWhenImmediateRan > 0 && handledWhenImmediateRan < 100_000,
      `immediate ran after ${handledWhenImmediateRan} messages`,
    );
    await system.shutdown();
  });
});
