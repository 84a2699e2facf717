import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, type TestNatsServer } from '../../test/testkit/index.js';
import { assignShards } from '../internal.js';
import { silentLogger } from '../logger.js';
import { LeaseManager, readNodes, shardKey, type LeaseClaim } from './leases.js';

const owners = (shards: number, nodes: readonly string[]): Map<number, string> => {
  const owner = new Map<number, string>();
  for (const node of nodes) for (const shard of assignShards(shards, nodes, node)) owner.set(shard, node);
  return owner;
};

describe('cluster - shard assignment', () => {
  it('shard assignment - every shard has exactly one owner, and no node more than ceil(shards / nodes)', () => {
    for (const [shards, nodes] of [
      [128, ['a', 'b', 'c']],
      [32, ['core-0', 'core-1', 'core-2']],
      [7, ['x', 'y']],
      [1, ['only']],
      [3, ['n1', 'n2', 'n3', 'n4', 'n5']],
    ] as const) {
      const owner = owners(shards, nodes);
      assert.equal(owner.size, shards, `${shards} shards over ${nodes.length} nodes`);
      const total = nodes.reduce((sum, node) => sum + assignShards(shards, nodes, node).length, 0);
      assert.equal(total, shards, 'no shard assigned twice');
      for (const node of nodes) {
        assert.ok(assignShards(shards, nodes, node).length <= Math.ceil(shards / nodes.length));
      }
    }
  });

  it('shard assignment - the same answer whatever the order of the node list; none for an unknown node', () => {
    assert.deepEqual(assignShards(64, ['a', 'b', 'c'], 'b'), assignShards(64, ['c', 'a', 'b', 'a'], 'b'));
    assert.deepEqual(assignShards(64, ['a', 'b'], 'z'), []);
  });

  it('shard assignment - a node joining takes shards from the others and moves few of the rest', () => {
    const before = owners(128, ['a', 'b', 'c']);
    const after = owners(128, ['a', 'b', 'c', 'd']);
    let moved = 0;
    for (const [shard, node] of after) if (node !== 'd' && before.get(shard) !== node) moved++;
    const toD = [...after.values()].filter((node) => node === 'd').length;
    assert.equal(toD, 32);
    assert.ok(moved <= 16, `only ${moved} shards moved between the old nodes`);
  });
});

describe('cluster - leases in NATS KV', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc.close();
    await nats[Symbol.asyncDispose]();
  });

  it(
    'leases - a drain deletes its leases even while a renewal is still on its way',
    { timeout: 20_000 },
    async () => {
      const kvm = new Kvm(nc);
      const leases = await kvm.create('test_leases_drain', { ttl: 30_000, history: 1 });
      const nodes = await kvm.create('test_nodes_drain', { ttl: 30_000, history: 1 });
      // Renewals answered slowly: when a lease's work has finished and it is deleted, a renewal of it is
      // still in flight, so the revision the delete would name is about to change.
      let slow = false;
      const slowLeases = new Proxy(leases, {
        get(target, property, receiver) {
          if (property === 'update') {
            return async (...args: Parameters<typeof leases.update>) => {
              const revision = await target.update(...args);
              if (slow) await sleep(300); // written, but the answer is late
              return revision;
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const claim = (shard: number): LeaseClaim => ({
        key: shardKey(shard),
        acquired: () => Promise.resolve(),
        releasing: () => sleep(250), // in-flight work finishing, while renewals go on
        lost: () => Promise.resolve(),
      });
      const manager = new LeaseManager({
        leases: slowLeases,
        nodes,
        jsm,
        nodeId: 'node-a',
        shards: 2,
        leaseTtlMs: 30_000,
        renewIntervalMs: 100,
        takesShards: true,
        shardClaim: claim,
        logger: silentLogger,
      });
      await manager.start();
      for (let i = 0; i < 100 && manager.held().length < 2; i++) await sleep(20); // takes run detached
      assert.deepEqual(
        manager
          .held()
          .map((lease) => lease.key)
          .sort(),
        ['shard.0', 'shard.1'],
      );
      slow = true;
      await sleep(150); // a renewal round is under way
      await manager.drain();
      for (const key of ['shard.0', 'shard.1']) {
        const entry = await leases.get(key);
        assert.ok(
          entry === null || entry.operation !== 'PUT',
          `${key} deleted by the drain, not left to expire`,
        );
      }
    },
  );

  it('leases - a node whose renewals stop answering gives its shards up before the lease can pass', async () => {
    const kvm = new Kvm(nc);
    const leases = await kvm.create('test_leases_cut', { ttl: 2000, history: 1 });
    const nodes = await kvm.create('test_nodes_cut', { ttl: 2000, history: 1 });
    // Cut off: from now on a renewal never answers (NATS unreachable, as this node sees it).
    let cut = false;
    const cutLeases = new Proxy(leases, {
      get(target, property, receiver) {
        if (property === 'update') {
          return (...args: Parameters<typeof leases.update>) =>
            cut ? new Promise<number>(() => undefined) : target.update(...args);
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const lost: Array<{ key: string; at: number; reason: string }> = [];
    const manager = new LeaseManager({
      leases: cutLeases,
      nodes,
      jsm,
      nodeId: 'node-cut',
      shards: 1,
      leaseTtlMs: 2000,
      renewIntervalMs: 400,
      takesShards: true,
      shardClaim: (shard) => ({
        key: shardKey(shard),
        acquired: () => Promise.resolve(),
        releasing: () => Promise.resolve(),
        lost: (reason) => {
          lost.push({ key: shardKey(shard), at: Date.now(), reason });
          return Promise.resolve();
        },
      }),
      logger: silentLogger,
    });
    await manager.start();
    try {
      for (let i = 0; i < 100 && manager.held().length < 1; i++) await sleep(20);
      assert.equal(manager.held().length, 1);
      cut = true;
      await sleep(100); // a renewal sent just before the cut lands
      // The last renewal that reached the bucket: the lease expires 2 s after it.
      const written = (await leases.get('shard.0'))!.created.getTime();
      for (let i = 0; i < 150 && lost.length === 0; i++) await sleep(20);
      assert.equal(lost.length, 1, 'the shard was given up');
      assert.equal(lost[0]!.key, 'shard.0');
      assert.match(lost[0]!.reason, /not renewed for \d+ ms/);
      assert.ok(
        lost[0]!.at < written + 2000,
        `given up ${lost[0]!.at - written} ms after the last renewal, before the 2 s lease time`,
      );
      assert.deepEqual(manager.held(), [], 'no longer held');
    } finally {
      manager.stop();
    }
  });

  it(
    'leases - the node list is read whole while its entries keep expiring',
    { timeout: 30_000 },
    async () => {
      // A listing of a bucket's keys that starts as entries expire can stall until its consumer's idle
      // heartbeat (5-30 s; a few in a thousand here). Entries expiring every 10 ms, and readers listing
      // throughout, each with 3 s: every read must answer, with entries that were written.
      const nodes = await new Kvm(nc).create('test_nodes_expiring', { ttl: 1000, history: 1 });
      const written = new Set<string>();
      for (let i = 0; i < 100; i++) {
        const key = `node-${i}`;
        written.add(key);
        await nodes.put(key, JSON.stringify({ draining: false, takesShards: true, shards: 8 }));
        await sleep(10);
      }
      let reads = 0;
      const until = Date.now() + 1500;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            const views = await readNodes(nodes, jsm, 60_000, 3000);
            reads++;
            for (const view of views) assert.ok(written.has(view.node), `${view.node} was written`);
          }
        }),
      );
      assert.ok(reads > 20, `${reads} reads`);
    },
  );

  it('leases - rounds of balancing leave no consumer behind on the buckets', async () => {
    // Each round reads both buckets whole. A read that made a consumer (as `KV.keys()` does) would leave it
    // on the server for its inactivity threshold (minutes): hundreds a node, every write to the bucket
    // then signalling each of them.
    const kvm = new Kvm(nc);
    const leases = await kvm.create('test_leases_rounds', { ttl: 30_000, history: 1 });
    const nodes = await kvm.create('test_nodes_rounds', { ttl: 30_000, history: 1 });
    const manager = new LeaseManager({
      leases,
      nodes,
      jsm,
      nodeId: 'node-rounds',
      shards: 4,
      leaseTtlMs: 30_000,
      renewIntervalMs: 50,
      takesShards: true,
      shardClaim: (shard) => ({
        key: shardKey(shard),
        acquired: () => Promise.resolve(),
        releasing: () => Promise.resolve(),
        lost: () => Promise.resolve(),
      }),
      logger: silentLogger,
    });
    await manager.start();
    try {
      await sleep(1000); // about 20 rounds
      assert.deepEqual(
        manager
          .held()
          .map((lease) => lease.key)
          .sort(),
        [0, 1, 2, 3].map(shardKey),
      );
      const views = await readNodes(nodes, jsm, 30_000);
      assert.deepEqual(
        views.map((view) => view.node),
        ['node-rounds'],
      );
      for (const stream of ['KV_test_leases_rounds', 'KV_test_nodes_rounds']) {
        const consumers = [];
        for await (const info of jsm.consumers.list(stream)) consumers.push(info.name);
        assert.deepEqual(consumers, [], `no consumer left on ${stream}`);
      }
    } finally {
      manager.stop();
    }
  });
});
