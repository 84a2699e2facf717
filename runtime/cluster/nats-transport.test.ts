import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, type TestNatsServer } from '../../test/testkit/index.js';
import {
  ClusterError,
  RemoteActorError,
  createActorSystem,
  listDeadLetters,
  replayDeadLetter,
  createNatsTransport,
  shardOf,
  type ActorSystem,
  type Ask,
  type ClusterOptions,
  type EntityContext,
  type NatsTransport,
} from '../internal.js';

interface Where {
  readonly node: string;
  readonly epoch: number | undefined;
  readonly count: number;
}

type ProbeMessage =
  | ({ readonly type: 'where'; readonly id?: string } & Ask<Where>)
  | ({ readonly type: 'boom' } & Ask<never>)
  | ({ readonly type: 'crash' } & Ask<never>)
  | ({ readonly type: 'flaky'; readonly failures: number } & Ask<number>)
  | ({ readonly type: 'ordered'; readonly n: number; readonly failFirst: boolean } & Ask<number>)
  | ({ readonly type: 'slow'; readonly id: string; readonly ms: number } & Ask<number>);

const SHARDS = 8;
const flakyTries = new Map<string, number>();
/** `ordered` messages as their entity handled them, by entity id; and those that failed once already. */
const handledInOrder = new Map<string, number[]>();
const failedOnce = new Set<string>();
/** How often each `slow` message was handled, by message id. */
const slowRuns = new Map<string, number>();
/** Nodes that a `crash` message ended, in order; and how to let a node's hung handler go when it is disposed. */
const crashed: string[] = [];
const hung = new Map<string, () => void>();
/** The epoch each probe's last activation loaded its state under, by node and entity id. */
const loadedUnder = new Map<string, number | undefined>();

interface Node extends AsyncDisposable {
  readonly system: ActorSystem;
  readonly transport: NatsTransport;
  readonly connection: NatsConnection;
}

async function startNode(url: string, nodeId: string, options: ClusterOptions = {}): Promise<Node> {
  const connection = await connect({ servers: url, name: nodeId });
  const transport = createNatsTransport({
    connection,
    nodeId,
    shards: SHARDS,
    leaseTtl: '2s',
    prefix: 'test',
    messageIdOf: (_target, message) => (message as { id?: string }).id,
    isTransient: (error) => /database restarting/.test(error.message),
    ...options,
  });
  const system = createActorSystem({ name: nodeId, transport });
  system.registerEntity<ProbeMessage, { count: number }>('probe', {
    create: () => ({
      async receive(message: ProbeMessage, ctx: EntityContext<ProbeMessage, { count: number }>) {
        if (message.type === 'boom') throw new Error('probe exploded');
        if (message.type === 'crash') {
          // As if the process died here: no answer, no ack, no lease renewed, nothing more ever.
          crashed.push(nodeId);
          await connection.close();
          await new Promise<void>((resolve) => hung.set(nodeId, resolve));
          throw new Error('the node is gone');
        }
        if (message.type === 'ordered') {
          const attempt = `${ctx.id}:${message.n}`;
          if (message.failFirst && !failedOnce.has(attempt)) {
            failedOnce.add(attempt);
            throw new Error('a hiccup'); // not a passing problem: counts towards maxDeliver
          }
          handledInOrder.set(ctx.id, [...(handledInOrder.get(ctx.id) ?? []), message.n]);
          ctx.respond(message, message.n);
          return;
        }
        if (message.type === 'slow') {
          const runs = (slowRuns.get(message.id) ?? 0) + 1;
          slowRuns.set(message.id, runs);
          await new Promise((resolve) => setTimeout(resolve, message.ms));
          ctx.respond(message, runs);
          return;
        }
        if (message.type === 'flaky') {
          // A store that is down for the first `failures` tries (counted outside: a failure restarts the actor).
          const tries = (flakyTries.get(ctx.id) ?? 0) + 1;
          flakyTries.set(ctx.id, tries);
          if (tries <= message.failures) throw new Error('database restarting');
          ctx.respond(message, tries);
          return;
        }
        ctx.state = { count: ctx.state.count + 1 };
        ctx.respond(message, { node: nodeId, epoch: ctx.epoch, count: ctx.state.count });
      },
    }),
    initialState: () => ({ count: 0 }),
    load: (id, epoch) => {
      loadedUnder.set(`${nodeId}/${id}`, epoch);
      return Promise.resolve(undefined);
    },
  });
  await transport.start().catch(async (error: unknown) => {
    await connection.close();
    throw error;
  });
  let disposed: Promise<void> | undefined;
  return {
    system,
    transport,
    connection,
    [Symbol.asyncDispose]: () =>
      (disposed ??= (async () => {
        hung.get(nodeId)?.();
        await system.shutdown();
        await connection.close();
      })()),
  };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

const heldShards = (node: Node): number[] => node.transport.status().shards.map((s) => s.shard);

describe('cluster - NATS transport', () => {
  let nats: TestNatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats[Symbol.asyncDispose]();
  });

  it('cluster - two nodes split the shards; asks from a gateway reach the owner, with its lease epoch', async () => {
    await using a = await startNode(nats.url, 'node-a', { prefix: 'split' });
    await using b = await startNode(nats.url, 'node-b', { prefix: 'split' });
    await using gateway = await startNode(nats.url, 'gateway', { prefix: 'split', hostsEntities: false });
    await until(
      () => heldShards(a).length + heldShards(b).length === SHARDS && heldShards(a).length === SHARDS / 2,
      10_000,
      'balanced shards',
    );
    assert.deepEqual(heldShards(gateway), []);

    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const answers = await Promise.all(
      ids.map((id) =>
        gateway.system.entity<ProbeMessage>('probe', id).ask({ type: 'where' }, { timeout: 10_000 }),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      const shard = shardOf('probe', ids[i]!, SHARDS);
      const owner = heldShards(a).includes(shard) ? 'node-a' : 'node-b';
      assert.equal(answer.node, owner, `probe ${ids[i]} on shard ${shard}`);
      const epoch = (owner === 'node-a' ? a : b).transport
        .status()
        .shards.find((s) => s.shard === shard)?.epoch;
      assert.equal(answer.epoch, epoch);
      assert.ok(answer.epoch! > 0);
      assert.equal(loadedUnder.get(`${owner}/${ids[i]}`), epoch, 'its state was loaded under that epoch');
    }
    // Same entity again: one activation, its state kept.
    const again = await gateway.system
      .entity<ProbeMessage>('probe', 'p0')
      .ask({ type: 'where' }, { timeout: 10_000 });
    assert.equal(again.count, 2);
  });

  it('cluster - a drained node hands its shards over at once, and the new owner answers with a higher epoch', async () => {
    // Leases live 30 s, but the nodes look at them every 200 ms: balancing is quick, expiry is not. (The
    // nodes of one cluster must agree on the lease time: it is the buckets' max_age, set by the first.)
    const leases = { prefix: 'drain', leaseTtl: '30s', renewInterval: '200ms' } as const;
    await using a = await startNode(nats.url, 'drain-a', leases);
    await using b = await startNode(nats.url, 'drain-b', leases);
    await until(
      () => heldShards(a).length === SHARDS / 2 && heldShards(b).length === SHARDS / 2,
      10_000,
      'balanced shards',
    );
    const onA = Array.from({ length: 100 }, (_, i) => `d${i}`).find((id) =>
      heldShards(a).includes(shardOf('probe', id, SHARDS)),
    )!;
    const before = await b.system
      .entity<ProbeMessage>('probe', onA)
      .ask({ type: 'where' }, { timeout: 10_000 });
    assert.equal(before.node, 'drain-a');

    await a.transport.drain();
    // The hand-over must not wait for the 30 s expiry.
    const took = await until(() => heldShards(b).length === SHARDS, 5_000, 'B to hold every shard');
    assert.ok(took < 5_000);
    const afterDrain = await b.system
      .entity<ProbeMessage>('probe', onA)
      .ask({ type: 'where' }, { timeout: 10_000 });
    assert.equal(afterDrain.node, 'drain-b');
    assert.ok(afterDrain.epoch! > before.epoch!, `epoch ${afterDrain.epoch} > ${before.epoch}`);
  });

  it("cluster - a node with another lease time than the live nodes' is refused; with none live, it changes the cluster's", async () => {
    await using a = await startNode(nats.url, 'ttl-a', { prefix: 'ttl' });
    await until(() => heldShards(a).length === SHARDS, 10_000, 'the shards');
    await assert.rejects(
      async () => {
        await using _ = await startNode(nats.url, 'ttl-b', { prefix: 'ttl', leaseTtl: '5s' });
      },
      (error: unknown) =>
        error instanceof ClusterError &&
        /'ttl-b' has a lease time of 5000 ms, but the cluster's is 2000 ms \(nodes live now: ttl-a\)/.test(
          error.message,
        ),
    );
    await a.transport.drain();
    await using b = await startNode(nats.url, 'ttl-b', { prefix: 'ttl', leaseTtl: '5s' });
    const kv = await new Kvm(b.connection).open('ttl_leases');
    assert.equal((await kv.status()).ttl, 5000);
    await until(() => heldShards(b).length === SHARDS, 10_000, 'B to take the shards');
  });

  it("cluster - a node or gateway with another shard count than the live nodes' is refused", async () => {
    await using a = await startNode(nats.url, 'count-a', { prefix: 'count' });
    await until(() => heldShards(a).length === SHARDS, 10_000, 'the shards');
    for (const [node, hostsEntities] of [
      ['count-b', true],
      ['count-gateway', false],
    ] as const) {
      await assert.rejects(
        async () => {
          await using _ = await startNode(nats.url, node, {
            prefix: 'count',
            shards: SHARDS * 2,
            hostsEntities,
          });
        },
        (error: unknown) =>
          error instanceof ClusterError &&
          error.message.startsWith(
            `node '${node}' has ${SHARDS * 2} shards, but live nodes have ${SHARDS} (count-a)`,
          ),
      );
    }
    assert.equal(heldShards(a).length, SHARDS, 'the live node kept its shards');
  });

  it('cluster - a second process under a live node id is refused; a killed run under it is waited out', async () => {
    await using a = await startNode(nats.url, 'twin', { prefix: 'twin' });
    await until(() => heldShards(a).length === SHARDS, 10_000, 'the shards');
    await assert.rejects(
      async () => {
        await using _ = await startNode(nats.url, 'twin', { prefix: 'twin' });
      },
      (error: unknown) =>
        error instanceof ClusterError &&
        /^node id 'twin' is in use by another live process/.test(error.message),
    );
    assert.equal(heldShards(a).length, SHARDS, 'the live node kept its shards');

    // A run of 'ghost' that died without leaving: its entry stays until the lease time (2 s) passes.
    const kv = await new Kvm(a.connection).open('twin_nodes');
    await kv.put(
      'ghost',
      JSON.stringify({ draining: false, takesShards: true, shards: SHARDS, at: Date.now() }),
    );
    const started = Date.now();
    await using ghost = await startNode(nats.url, 'ghost', { prefix: 'twin' });
    assert.ok(Date.now() - started >= 1000, 'it waited for the old entry to lapse');
    await until(() => heldShards(ghost).length === SHARDS / 2, 10_000, 'the new ghost to take its half');
  });

  it('cluster - a turn slower than the ack wait is kept by in-progress acks, not delivered again', async () => {
    await using a = await startNode(nats.url, 'slow-a', { prefix: 'slow', shards: 1, ackWait: '1s' });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const runs = await a.system
      .entity<ProbeMessage>('probe', 'sloth')
      .ask({ type: 'slow', id: 'slow-1', ms: 3500 }, { timeout: 15_000 });
    assert.equal(runs, 1);
    // A redelivery would have queued behind the first run; give it the time to show.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(slowRuns.get('slow-1'), 1, 'handled once: the ack wait (1 s) never ran out');
  });

  it('cluster - a message that keeps failing is dead-lettered and the asker gets RemoteActorError', async () => {
    await using a = await startNode(nats.url, 'dlq-a', { prefix: 'dlq', maxDeliver: 2, shards: 1 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    await assert.rejects(
      a.system.entity<ProbeMessage>('probe', 'x').ask({ type: 'boom' }, { timeout: 15_000 }),
      (error: unknown) => error instanceof RemoteActorError && /probe exploded/.test(error.message),
    );
    const jsm = await jetstreamManager(a.connection);
    const dead = await jsm.streams.getMessage('DLQ_DEAD', { last_by_subj: 'dlq.dead.0' });
    assert.match(dead!.header.get('Parley-Dead-Reason'), /failed 2 times: .*probe exploded/);
    assert.equal(dead!.header.get('Parley-Kind'), 'probe');

    const [letter, ...others] = await listDeadLetters(a.connection, 'dlq');
    assert.equal(others.length, 0);
    assert.equal(letter!.entity, 'probe/x');
    assert.equal(letter!.subject, 'dlq.in.0');
    // Replayed: out of the dead-letter stream, through the shard again (it fails again: a new dead letter).
    await replayDeadLetter(a.connection, letter!.seq, 'dlq');
    let again: Awaited<ReturnType<typeof listDeadLetters>> = [];
    for (let i = 0; i < 100 && again.length === 0; i++) {
      again = await listDeadLetters(a.connection, 'dlq');
      if (again.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(again.length, 1);
    assert.ok(again[0]!.seq > letter!.seq, 'a new dead letter, the old one removed');
    assert.equal(again[0]!.entity, 'probe/x');
  });

  it('cluster - a message its nodes die of is dead-lettered after maxDeliver deaths; one queued behind it is answered', async () => {
    const options = { prefix: 'crash', shards: 1, maxDeliver: 2 };
    await using gateway = await startNode(nats.url, 'crash-gw', { ...options, hostsEntities: false });
    await using a = await startNode(nats.url, 'crash-a', options);
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const bomb = gateway.system.entity<ProbeMessage>('probe', 'bomb');
    const exploded = bomb.ask({ type: 'crash' }, { timeout: 30_000 });
    // Queued behind the crash in its entity's line: an innocent suspect, never run by the nodes that died.
    const behind = bomb.ask({ type: 'where' }, { timeout: 30_000 });
    await until(() => crashed.includes('crash-a'), 10_000, 'the first node to die');

    // The next owner runs the message alone, counted, and dies of it too.
    await using _b = await startNode(nats.url, 'crash-b', options);
    await until(() => crashed.includes('crash-b'), 15_000, 'the second node to die');

    // The third does not run it: two nodes stopped while handling it.
    await using c = await startNode(nats.url, 'crash-c', options);
    await assert.rejects(
      exploded,
      (error: unknown) =>
        error instanceof RemoteActorError && /its node stopped 2 times while handling it/.test(error.message),
    );
    const where = await behind;
    assert.equal(where.node, 'crash-c', 'the message behind it was answered by the survivor');
    assert.deepEqual(crashed, ['crash-a', 'crash-b']);
    const [letter, ...others] = await listDeadLetters(c.connection, 'crash');
    assert.equal(others.length, 0, 'only the message that ended the nodes is dead-lettered');
    assert.equal(letter!.entity, 'probe/bomb');
    assert.match(letter!.reason, /its node stopped 2 times/);
    // And the shard carries on.
    const after = await gateway.system.entity<ProbeMessage>('probe', 'fine').ask({ type: 'where' });
    assert.equal(after.node, 'crash-c');
  });

  it('cluster - a node that loses a shard and takes it back does not count its unfinished messages as crashes', async () => {
    await using a = await startNode(nats.url, 'own-a', { prefix: 'own', shards: 1 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const firstEpoch = a.transport.status().shards[0]!.epoch;
    const answer = a.system
      .entity<ProbeMessage>('probe', 'tortoise')
      .ask({ type: 'slow', id: 'own-1', ms: 3000 }, { timeout: 30_000 });
    await until(() => slowRuns.get('own-1') === 1, 10_000, 'the slow turn to start');
    // The lease vanishes under the node mid-turn (as when it lapses while the node is cut off): the node
    // loses the shard, then takes it back, and finds its own consumer with the turn unacknowledged.
    await (await new Kvm(a.connection).open('own_leases')).delete('shard.0');
    await until(
      () => (a.transport.status().shards[0]?.epoch ?? firstEpoch) > firstEpoch,
      10_000,
      'the shard taken back',
    );
    assert.ok((await answer) >= 1);
    const counted = await (await jetstreamManager(a.connection)).streams.info('KV_own_crashes');
    assert.equal(counted.state.last_seq, 0, 'nothing was counted in the crash bucket');
  });

  it('cluster - a message without entity headers is dead-lettered at once, and the shard carries on', async () => {
    await using a = await startNode(nats.url, 'poison-a', { prefix: 'poison', shards: 1 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const jsm = await jetstreamManager(a.connection);
    const js = jsm.jetstream();
    const h = headers();
    h.set('Nats-Msg-Id', 'poison-1');
    await js.publish('poison.in.0', new TextEncoder().encode('{not json'), { headers: h });
    let dead;
    for (let i = 0; i < 50 && !dead; i++) {
      dead = await jsm.streams
        .getMessage('POISON_DEAD', { last_by_subj: 'poison.dead.0' })
        .catch(() => undefined);
      if (!dead) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(dead, 'dead letter stored');
    assert.match(dead.header.get('Parley-Dead-Reason'), /undecodable/);
    assert.equal(dead.header.get('Parley-Original-Id'), 'poison-1');
    const answer = await a.system
      .entity<ProbeMessage>('probe', 'fine')
      .ask({ type: 'where' }, { timeout: 10_000 });
    assert.equal(answer.node, 'poison-a');
  });

  /**
   * A singleton running on A, B ready to take it; `letGo(a)` makes A give it up. It must stop on A before
   * it starts on B, and B must have it within `withinMs`.
   */
  async function singletonMoves(
    prefix: string,
    leases: ClusterOptions,
    letGo: (a: Node) => Promise<void>,
    withinMs: number,
  ): Promise<void> {
    const running: string[] = [];
    const events: string[] = [];
    const run = (node: string) => (epoch: number) => {
      running.push(node);
      events.push(`start ${node} ${epoch}`);
      return Promise.resolve(() => {
        running.splice(running.indexOf(node), 1);
        events.push(`stop ${node}`);
        return Promise.resolve();
      });
    };
    const [nodeA, nodeB] = [`${prefix}-a`, `${prefix}-b`];
    await using a = await startNode(nats.url, nodeA, { prefix, ...leases });
    a.transport.singleton('poller', run(nodeA));
    await until(() => running.length === 1, 10_000, 'the singleton to start');
    await using b = await startNode(nats.url, nodeB, { prefix, ...leases });
    b.transport.singleton('poller', run(nodeB));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(running, [nodeA], 'one instance in the cluster');

    await letGo(a);
    await until(() => running.length === 1 && running[0] === nodeB, withinMs, 'the singleton to move to B');
    assert.deepEqual(
      events.map((event) => event.replace(/ \d+$/, '')),
      [`start ${nodeA}`, `stop ${nodeA}`, `start ${nodeB}`],
      'stopped on A before it started on B',
    );
  }

  it('cluster - a singleton runs on exactly one node and moves when that node drains', async () => {
    // Rounds 8 s apart: B can take over within 5 s only because it watches for the released lease.
    await singletonMoves(
      'single',
      { shards: 2, leaseTtl: '30s', renewInterval: '8s' },
      (a) => a.transport.drain(),
      5_000,
    );
  });

  it('cluster - a singleton whose node is cut off stops there and starts on another node after the lease time', async () => {
    // A loses NATS for good (as if its network went): it cannot renew, so it must stop the singleton
    // before its lease can pass to B.
    await singletonMoves('cutoff', { shards: 2, leaseTtl: '2s' }, (a) => a.connection.close(), 10_000);
  });

  it('cluster - an ask sent again under an id already answered (a client resending) is answered again', async () => {
    await using a = await startNode(nats.url, 'again-a', { prefix: 'again', shards: 1 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const probe = a.system.entity<ProbeMessage>('probe', 'r');
    const first = (await probe.ask({ type: 'where', id: 'client-msg-1' }, { timeout: 10_000 })) as Where;
    // Same id within JetStream's duplicate window: NATS drops the publish, the transport sends it again.
    const again = (await probe.ask({ type: 'where', id: 'client-msg-1' }, { timeout: 10_000 })) as Where;
    assert.equal(first.node, 'again-a');
    assert.equal(again.node, 'again-a');
  });

  it("cluster - a message that fails and is retried still comes before its entity's later messages", async () => {
    await using a = await startNode(nats.url, 'order-a', { prefix: 'order', shards: 1, maxDeliver: 3 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const entity = a.system.entity<ProbeMessage>('probe', 'o');
    const answers = await Promise.all(
      [1, 2, 3].map((n) => entity.ask({ type: 'ordered', n, failFirst: n === 1 }, { timeout: 20_000 })),
    );
    assert.deepEqual(answers, [1, 2, 3]);
    assert.deepEqual(handledInOrder.get('o'), [1, 2, 3], 'the retried first message before the others');
  });

  it('cluster - a passing failure is retried past maxDeliver and answered, not dead-lettered', async () => {
    await using a = await startNode(nats.url, 'flaky-a', { prefix: 'flaky', shards: 1, maxDeliver: 2 });
    await until(() => heldShards(a).length === 1, 10_000, 'the shard');
    const answer = await a.system
      .entity<ProbeMessage>('probe', 'f')
      .ask({ type: 'flaky', failures: 3 }, { timeout: 20_000 });
    assert.equal(answer, 4, 'three failed deliveries, then the fourth answered');
    assert.deepEqual(await listDeadLetters(a.connection, 'flaky'), []);
  });
});
