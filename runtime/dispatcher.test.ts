import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from './internal.js';
import { settle } from './test-helpers.js';

describe('dispatcher - scheduling', () => {
  it('runs queued actors in FIFO order, across queue growth', async () => {
    const dispatcher = new Dispatcher(1_000_000);
    const ran: number[] = [];
    for (let i = 0; i < 300; i++) dispatcher.schedule({ run: () => void ran.push(i) });
    assert.deepEqual(ran, [], 'nothing runs synchronously');
    await Promise.resolve();
    assert.deepEqual(
      ran,
      Array.from({ length: 300 }, (_, i) => i),
    );
  });

  it('moves to the next event-loop turn once the budget is spent, and refills it there', async () => {
    const dispatcher = new Dispatcher(10);
    const events: string[] = [];
    const worker = (name: string) => ({
      run: () => {
        events.push(name);
        dispatcher.consumed(6);
      },
    });
    dispatcher.schedule(worker('a'));
    dispatcher.schedule(worker('b'));
    dispatcher.schedule(worker('c'));
    setImmediate(() => events.push('io'));
    await settle(3);
    assert.deepEqual(events, ['a', 'b', 'io', 'c']);
  });
});
