import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidOptionsError,
  SimulatedClock,
  createActorSystem,
  type ActorContext,
  type Props,
} from './internal.js';

type TimerMessage =
  | { readonly type: 'arm-single'; readonly delay: number }
  | { readonly type: 'arm-periodic'; readonly every: number }
  | { readonly type: 'cancel' }
  | { readonly type: 'crash' }
  | { readonly type: 'tick'; readonly from: string };

function timerActor(received: string[], active: boolean[]): Props<TimerMessage> {
  return {
    create: () => ({
      receive(message: TimerMessage, ctx: ActorContext<TimerMessage>): void {
        switch (message.type) {
          case 'arm-single':
            ctx.timers.startSingle('single', { type: 'tick', from: 'single' }, message.delay);
            active.push(ctx.timers.isActive('single'));
            return;
          case 'arm-periodic':
            ctx.timers.startPeriodic('periodic', { type: 'tick', from: 'periodic' }, message.every);
            return;
          case 'cancel':
            ctx.timers.cancel('periodic');
            active.push(ctx.timers.isActive('periodic'));
            return;
          case 'crash':
            throw new Error('crash');
          case 'tick':
            received.push(`${message.from}@${ctx.clock.now()}`);
            return;
        }
      },
    }),
    supervision: { type: 'restart', backoff: { min: '10ms' } },
  };
}

describe('timers - keyed timers on the clock', () => {
  it('a single timer fires once after its delay', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const received: string[] = [];
    const active: boolean[] = [];
    const ref = system.spawn(timerActor(received, active));
    ref.tell({ type: 'arm-single', delay: 1000 });
    await clock.advance(999);
    assert.deepEqual(received, []);
    await clock.advance(1);
    assert.deepEqual(received, ['single@1000']);
    await clock.advance(5000);
    assert.deepEqual(received, ['single@1000']);
    assert.deepEqual(active, [true]);
    await system.shutdown();
  });

  it('starting a key again replaces the earlier timer', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const received: string[] = [];
    const ref = system.spawn(timerActor(received, []));
    ref.tell({ type: 'arm-single', delay: 100 });
    await clock.advance(50);
    ref.tell({ type: 'arm-single', delay: 100 });
    await clock.advance(200);
    assert.deepEqual(received, ['single@150']);
    await system.shutdown();
  });

  it('a periodic timer fires every interval until cancelled', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const received: string[] = [];
    const active: boolean[] = [];
    const ref = system.spawn(timerActor(received, active));
    ref.tell({ type: 'arm-periodic', every: 100 });
    await clock.advance(350);
    assert.deepEqual(received, ['periodic@100', 'periodic@200', 'periodic@300']);
    ref.tell({ type: 'cancel' });
    await clock.advance(1000);
    assert.equal(received.length, 3);
    assert.deepEqual(active, [false]);
    await system.shutdown();
  });

  it('a restart cancels the timers of the failed instance', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const received: string[] = [];
    const ref = system.spawn(timerActor(received, []));
    ref.tell({ type: 'arm-periodic', every: 100 });
    ref.tell({ type: 'arm-single', delay: 500 });
    await clock.advance(100);
    assert.deepEqual(received, ['periodic@100']);
    ref.tell({ type: 'crash' });
    await clock.advance(1000);
    assert.deepEqual(received, ['periodic@100']);
    assert.equal(clock.pendingTimers, 0);
    await system.shutdown();
  });

  it('stopping the actor cancels its timers', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const received: string[] = [];
    const ref = system.spawn(timerActor(received, []));
    ref.tell({ type: 'arm-periodic', every: 100 });
    await clock.advance(0);
    await system.stop(ref);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(system.deadLetters.count, 0);
    await system.shutdown();
  });

  it('rejects a zero interval', async () => {
    const clock = new SimulatedClock();
    const system = createActorSystem({ clock });
    const errors: unknown[] = [];
    const ref = system.spawn<'go'>({
      create: () => ({
        receive: (_message, ctx) => {
          try {
            ctx.timers.startPeriodic('p', 'go', 0);
          } catch (error) {
            errors.push(error);
          }
        },
      }),
    });
    ref.tell('go');
    await clock.advance(0);
    assert.ok(errors[0] instanceof InvalidOptionsError);
    await system.shutdown();
  });
});
