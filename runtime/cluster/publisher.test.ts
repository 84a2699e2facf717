import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type TestNatsServer } from '../../test/testkit/index.js';
import { ClusterError } from './errors.js';
import { JetStreamPublisher } from './publisher.js';

describe('JetStreamPublisher (real nats-server)', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PUBLISHER_TEST', subjects: ['publisher.test.*'] });
  });
  after(async () => {
    await nc.close();
    await nats[Symbol.asyncDispose]();
  });

  it('resolves where JetStream stored the message, and says so when the id was stored already', async () => {
    const publisher = new JetStreamPublisher(nc);
    try {
      const encode = (text: string) => new TextEncoder().encode(text);
      const [first, second] = await Promise.all([
        publisher.publish('publisher.test.a', encode('one'), 'id-1', headers()),
        publisher.publish('publisher.test.b', encode('two'), 'id-2', headers()),
      ]);
      assert.equal(first.stream, 'PUBLISHER_TEST');
      assert.equal(second.seq, first.seq + 1);
      assert.equal(first.duplicate, false);

      const again = await publisher.publish('publisher.test.a', encode('one'), 'id-1', headers());
      assert.deepEqual(again, { stream: 'PUBLISHER_TEST', seq: first.seq, duplicate: true });

      const stored = await (
        await jetstreamManager(nc)
      ).streams.getMessage('PUBLISHER_TEST', { seq: first.seq });
      assert.equal(stored?.header.get('Nats-Msg-Id'), 'id-1');
      assert.equal(stored?.string(), 'one');
    } finally {
      publisher.close();
    }
  });

  it('sends the publishes of one event-loop turn together, in the order they were made', async () => {
    const publisher = new JetStreamPublisher(nc);
    try {
      const acks = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          publisher.publish(`publisher.test.${i % 3}`, new Uint8Array([i]), `order-${i}`, headers()),
        ),
      );
      const seqs = acks.map((ack) => ack.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => seqs[0]! + i),
      );
    } finally {
      publisher.close();
    }
  });

  it('rejects a publish to a subject no stream takes', async () => {
    const publisher = new JetStreamPublisher(nc);
    try {
      await assert.rejects(
        publisher.publish('nowhere.at.all', new Uint8Array(), 'id-x', headers()),
        (error: unknown) => error instanceof ClusterError && /did not take.*503/.test(error.message),
      );
    } finally {
      publisher.close();
    }
  });

  it('rejects a publish whose acknowledgement does not come in time', async () => {
    // Something that is not JetStream listens: no "no responders", and no acknowledgement either.
    const silent = nc.subscribe('silent.subject');
    const publisher = new JetStreamPublisher(nc, { ackTimeoutMs: 200 });
    try {
      const started = Date.now();
      await assert.rejects(
        publisher.publish('silent.subject', new Uint8Array(), 'id-y', headers()),
        (error: unknown) => error instanceof ClusterError && /within 200 ms/.test(error.message),
      );
      assert.ok(Date.now() - started >= 200);
    } finally {
      publisher.close();
      silent.unsubscribe();
    }
  });

  it('fails what waits when closed, and every publish after', async () => {
    const silent = nc.subscribe('silent.other');
    const publisher = new JetStreamPublisher(nc);
    try {
      const waiting = publisher.publish('silent.other', new Uint8Array(), 'id-z', headers());
      publisher.close();
      await assert.rejects(waiting, /closed/);
      await assert.rejects(
        publisher.publish('publisher.test.a', new Uint8Array(), 'id-after', headers()),
        /publisher is closed/,
      );
    } finally {
      silent.unsubscribe();
    }
  });
});
