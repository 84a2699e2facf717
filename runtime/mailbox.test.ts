import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Mailbox, SimulatedClock, type ReplySink } from './internal.js';

describe('mailbox - bounded ring buffer', () => {
  it('is FIFO across growth and wrap-around, and refuses past capacity', () => {
    const mailbox = new Mailbox<number>(10, 2);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      while (mailbox.push(next, undefined)) next++;
      assert.equal(mailbox.size, 10);
      for (let i = 0; i < 7; i++) assert.equal(mailbox.shift(), expected++);
    }
    mailbox.drain((message) => assert.equal(message, expected++));
    assert.equal(mailbox.size, 0);
    assert.equal(expected, next);
  });

  it('hands out each reply sink once, with its message', () => {
    const mailbox = new Mailbox<string>(4);
    const sink: ReplySink = { resolve: () => {}, reject: () => {} };
    mailbox.push('tell', undefined);
    mailbox.push('ask', sink);
    assert.equal(mailbox.shift(), 'tell');
    assert.equal(mailbox.takeReply(), undefined);
    assert.equal(mailbox.shift(), 'ask');
    assert.equal(mailbox.takeReply(), sink);
    assert.equal(mailbox.takeReply(), undefined, 'not kept alive after it was taken');
  });
});

describe('clock - simulated', () => {
  it('runs due timers in time order, ties in creation order, each at its own time', async () => {
    const clock = new SimulatedClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.setTimeout(() => clock.setTimeout(() => fired.push(`nested@${clock.now()}`), 5), 10);
    await clock.advance(19);
    assert.deepEqual(fired, ['a@1010', 'nested@1015']);
    assert.equal(clock.nextDueIn, 1);
    await clock.advance('1ms');
    assert.deepEqual(fired, ['a@1010', 'nested@1015', 'b@1020', 'c@1020']);
    assert.equal(clock.now(), 1020);
    assert.equal(clock.pendingTimers, 0);
  });
});
