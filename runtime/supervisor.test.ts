import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActorFailure,
  ActorStoppedError,
  InvalidOptionsError,
  RestartHistory,
  SimulatedClock,
  compileDirective,
  createActorSystem,
  type Actor,
  type ActorContext,
  type ActorRef,
  type ActorSignal,
  type Ask,
  type Props,
  type CompiledDirective,
  type SupervisionDirective,
  type SupervisionStrategy,
} from './internal.js';
import { recordingLogger } from './test-helpers.js';

type CrashMessage =
  { readonly type: 'crash' } | ({ readonly type: 'count' } & Ask<number>) | { readonly type: 'bump' };

/** Counts messages; crashes on demand; records its life cycle on the clock. */
function crashProps(
  events: string[],
  clock: SimulatedClock,
  supervision?: SupervisionStrategy,
): Props<CrashMessage> {
  let instances = 0;
  return {
    create: () => {
      const instance = ++instances;
      let count = 0;
      return {
        preStart: () => void events.push(`start#${instance}@${clock.now()}`),
        postStop: () => void events.push(`stop#${instance}@${clock.now()}`),
        receive(message: CrashMessage, ctx: ActorContext<CrashMessage>): void {
          switch (message.type) {
            case 'crash':
              throw new Error(`crash in #${instance}`);
            case 'bump':
              count++;
              return;
            case 'count':
              ctx.respond(message, count);
              return;
          }
        },
      };
    },
    ...(supervision === undefined ? {} : { supervision }),
  };
}

/** Compiles a restart directive, narrowed to its type. */
function restart(directive: SupervisionDirective): Extract<CompiledDirective, { type: 'restart' }> {
  const compiled = compileDirective(directive);
  assert.ok(compiled.type === 'restart');
  return compiled;
}

/** A parent that spawns one child from `childProps` and records the signals it hears. */
function parentProps(
  childProps: Props<CrashMessage>,
  signals: ActorSignal[],
): Props<'child' & Ask<ActorRef<CrashMessage>>> {
  return {
    create: () => {
      let child: ActorRef<CrashMessage> | undefined;
      return {
        preStart: (ctx) => void (child = ctx.spawn(childProps, 'child')),
        receive: (_message, ctx) => ctx.reply(child),
        onSignal: (signal) => void signals.push(signal),
      };
    },
  };
}

describe('supervision - restart', () => {
  it('restarts a crashing actor after exponential backoff on the clock, keeping messages that arrive meanwhile', async () => {
    const clock = new SimulatedClock();
    const logger = recordingLogger();
    const system = createActorSystem({ clock, logger });
    const events: string[] = [];
    const ref = system.spawn(crashProps(events, clock), 'crasher');
    await clock.advance(0);
    assert.deepEqual(events, ['start#1@0']);

    ref.tell({ type: 'crash' });
    ref.tell({ type: 'bump' });
    await clock.advance(99);
    assert.deepEqual(events, ['start#1@0', 'stop#1@0'], 'no restart before the 100ms backoff');
    await clock.advance(1);
    assert.deepEqual(events.at(-1), 'start#2@100');
    assert.equal(
      await ref.ask({ type: 'count' }),
      1,
      'the message sent during backoff was handled by the new instance',
    );

    ref.tell({ type: 'crash' });
    await clock.advance(199);
    assert.equal(events.at(-1), 'stop#2@100');
    await clock.advance(1);
    assert.equal(events.at(-1), 'start#3@300');

    ref.tell({ type: 'crash' });
    await clock.advance(400);
    assert.equal(events.at(-1), 'start#4@700');
    assert.equal(system.stats().restarts, 3);
    assert.ok(logger.entries.some((entry) => entry.level === 'warn' && entry.object.delayMs === 400));
    await system.shutdown();
  });

  it('stops the child past maxRestarts within the window and tells its parent child-failed', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const events: string[] = [];
    const signals: ActorSignal[] = [];
    const childProps = crashProps(events, clock, {
      type: 'restart',
      backoff: { min: '10ms', max: '1s', factor: 2 },
      maxRestarts: 2,
      within: '1m',
    });
    const parent = system.spawn(parentProps(childProps, signals), 'parent');
    const child = await parent.ask('child');
    assert.equal(child.path, '/user/parent/child');

    child.tell({ type: 'crash' });
    await clock.advance('10ms');
    child.tell({ type: 'crash' });
    await clock.advance('20ms');
    assert.equal(events.at(-1), 'start#3@30');
    assert.equal(signals.length, 0);

    child.tell({ type: 'crash' });
    await clock.advance(0);
    assert.equal(signals.length, 1);
    const signal = signals[0];
    assert.ok(signal?.type === 'child-failed');
    assert.equal(signal.child, child);
    assert.equal(signal.restarts, 2);
    assert.ok(signal.error instanceof ActorFailure);
    assert.equal(signal.error.cause.message, 'crash in #3');
    assert.equal(events.at(-1), 'stop#3@30');
    await clock.advance('10s');
    assert.equal(events.at(-1), 'stop#3@30', 'no restart after the limit');

    const before = system.deadLetters.count;
    child.tell({ type: 'bump' });
    assert.equal(system.deadLetters.count, before + 1);
    await assert.rejects(child.ask({ type: 'count' }), ActorStoppedError);
    await system.shutdown();
  });

  it('forgets restarts older than the window, so backoff starts small again', () => {
    const history = new RestartHistory();
    const directive = restart({ type: 'restart', maxRestarts: 3, within: '1s' });
    const random = (): number => 0;
    assert.equal(history.next(directive, 0, random), 100);
    assert.equal(history.next(directive, 10, random), 200);
    assert.equal(history.next(directive, 20, random), 400);
    assert.equal(history.next(directive, 30, random), undefined);
    assert.equal(history.next(directive, 1_500, random), 100);
  });

  it('caps backoff at max and adds jitter from the seeded random source', () => {
    const directive = restart({
      type: 'restart',
      backoff: { min: '1s', max: '5s', factor: 10, jitter: 0.5 },
      maxRestarts: 10,
    });
    const history = new RestartHistory();
    assert.equal(
      history.next(directive, 0, () => 0),
      1000,
    );
    assert.equal(
      history.next(directive, 0, () => 0),
      5000,
    );
    assert.equal(
      history.next(directive, 0, () => 0.5),
      6250,
    );
  });

  it('rejects invalid directives with InvalidOptionsError', () => {
    assert.throws(
      () => compileDirective({ type: 'restart', backoff: { min: '2s', max: '1s' } }),
      InvalidOptionsError,
    );
    assert.throws(() => compileDirective({ type: 'restart', backoff: { factor: 0.5 } }), InvalidOptionsError);
    assert.throws(() => compileDirective({ type: 'restart', maxRestarts: -1 }), InvalidOptionsError);
    assert.throws(() => compileDirective({ type: 'restart', within: '5x' as '5s' }), InvalidOptionsError);
  });
});

describe('supervision - other directives', () => {
  it('stop: the child stops at its first failure and the parent is told', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const events: string[] = [];
    const signals: ActorSignal[] = [];
    const parent = system.spawn(parentProps(crashProps(events, clock, { type: 'stop' }), signals));
    const child = await parent.ask('child');
    child.tell({ type: 'crash' });
    await clock.advance(0);
    assert.deepEqual(events, ['start#1@0', 'stop#1@0']);
    assert.deepEqual(
      signals.map((signal) => [signal.type, signal.child.path]),
      [['child-failed', child.path]],
    );
    assert.equal(system.stats().activeActors, 1);
    await system.shutdown();
  });

  it('resume: the same instance goes on with its state', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const events: string[] = [];
    const ref = system.spawn(crashProps(events, clock, { type: 'resume' }));
    ref.tell({ type: 'bump' });
    ref.tell({ type: 'crash' });
    ref.tell({ type: 'bump' });
    assert.equal(await ref.ask({ type: 'count' }), 2);
    assert.deepEqual(events, ['start#1@0']);
    await system.shutdown();
  });

  it('a strategy function decides per error and sees the original error', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const seen: string[] = [];
    const events: string[] = [];
    const ref = system.spawn(
      crashProps(events, clock, (error, child) => {
        seen.push(`${error.message} at ${child.path}`);
        return { type: 'resume' };
      }),
      'judged',
    );
    ref.tell({ type: 'crash' });
    await clock.advance(0);
    assert.deepEqual(seen, ['crash in #1 at /user/judged']);
    await system.shutdown();
  });

  it('escalate: the child stops and its parent fails with the child failure, for its own supervisor', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const childEvents: string[] = [];
    const parentFailures: Error[] = [];
    const signals: ActorSignal[] = [];
    let parentStarts = 0;
    const childProps = crashProps(childEvents, clock, { type: 'escalate' });
    const parent = system.spawn<'child' & Ask<ActorRef<CrashMessage>>>(
      {
        create: () => {
          let child: ActorRef<CrashMessage> | undefined;
          return {
            preStart: (ctx) => {
              parentStarts++;
              child = ctx.spawn(childProps, 'child');
            },
            receive: (_message, ctx) => ctx.reply(child),
            onSignal: (signal) => void signals.push(signal),
          };
        },
        supervision: (error) => {
          parentFailures.push(error);
          return { type: 'restart', backoff: { min: '10ms' } };
        },
      },
      'parent',
    );
    const child = await parent.ask('child');
    child.tell({ type: 'crash' });
    await clock.advance(0);
    assert.equal(parentFailures.length, 1);
    const failure = parentFailures[0];
    assert.ok(failure instanceof ActorFailure, 'the parent failed with the child ActorFailure');
    assert.equal(failure.actorPath, '/user/parent/child');
    assert.equal(failure.cause.message, 'crash in #1');
    assert.deepEqual(childEvents, ['start#1@0', 'stop#1@0']);
    assert.deepEqual(signals, [], 'an escalating child does not also signal');

    await clock.advance('10ms');
    assert.equal(parentStarts, 2, 'the parent restarted');
    const newChild = await parent.ask('child');
    assert.notEqual(newChild, child);
    assert.equal(childEvents.at(-1), 'start#2@10');
    await system.shutdown();
  });

  it('a failure in preStart is supervised like any other', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    let attempts = 0;
    const ref = system.spawn<'ping' & Ask<number>>({
      create: () => ({
        preStart: () => {
          attempts++;
          if (attempts < 3) throw new Error('not yet');
        },
        receive: (_message, ctx) => ctx.reply(attempts),
      }),
    });
    const answer = ref.ask('ping', { timeout: '1m' });
    await clock.advance('100ms');
    await clock.advance('200ms');
    assert.equal(await answer, 3);
    await system.shutdown();
  });
});

describe('supervision - actors never crash the process', () => {
  it('a throwing tell handler, onSignal and postStop are contained and logged', async () => {
    const clock = new SimulatedClock();
    const logger = recordingLogger();
    const system = createActorSystem({ clock, logger });
    const ref = system.spawn<'boom'>({
      create: (): Actor<'boom'> => ({
        receive: () => {
          throw new Error('boom');
        },
        postStop: () => {
          throw new Error('postStop boom');
        },
      }),
      supervision: { type: 'stop' },
    });
    ref.tell('boom');
    await clock.advance(0);
    assert.ok(logger.entries.some((entry) => entry.message === 'postStop failed'));
    assert.ok(logger.entries.some((entry) => entry.message === 'actor failed; stopping'));
    assert.equal(system.stats().failures, 1);
    await system.shutdown();
  });
});
