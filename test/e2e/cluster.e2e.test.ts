/**
 * The cluster end to end: a real nats-server (JetStream, temp store) and Postgres, three `parley start`
 * processes in role `core`, and this process as the gateway sending 1,000 conversations x 10 messages
 * (each conversation's messages sent at once, so JetStream carries them in order). Mid-load one run
 * `kill -9`s a node, one drains a node with SIGTERM, one restarts nats-server. Then every message must have
 * been answered exactly once (counted in the OUT stream), recorded once and in order per conversation, and
 * the store's fencing records must show no conversation written by two nodes at once.
 *
 * PARLEY_TEST_CLUSTER_CONVERSATIONS scales the load (default 1000).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createActorSystem, createNatsTransport, readLeases, type ActorSystem } from '../../runtime/index.js';
import {
  CONVERSATION_KIND,
  type ConversationMessage,
  type TurnResult,
} from '../../actors/conversation/index.js';
import type { InboundMessage } from '../../actors/umm.js';
import { createStore } from '../../store/index.js';
import {
  createTestDatabase,
  startNatsServer,
  type TestDatabase,
  type TestNatsServer,
} from '../testkit/index.js';
import { startParley, type ParleyProcess } from './parley-process.js';

const CONVERSATIONS = Number(process.env.PARLEY_TEST_CLUSTER_CONVERSATIONS ?? '1000');
const MESSAGES = 10;
const SHARDS = 32;
const TEXTS = ['hello', 'help', 'thanks', 'what time is it', 'bye'];

interface Cluster {
  readonly nats: TestNatsServer;
  readonly database: TestDatabase;
  readonly nodes: ParleyProcess[];
  readonly dataDirs: string[];
}

async function startCore(
  cluster: Pick<Cluster, 'nats' | 'database'>,
  index: number,
  dataDir: string,
): Promise<ParleyProcess> {
  return startParley({
    PARLEY_ROLE: 'core',
    NATS_URL: cluster.nats.url,
    DATABASE_URL: cluster.database.url,
    PARLEY_NODE_ID: `core-${index}`,
    PARLEY_DATA_DIR: dataDir,
    PARLEY_CLUSTER_SHARDS: String(SHARDS),
    PARLEY_CLUSTER_LEASE_TTL: '3s',
    PARLEY_INFERENCE_THREADS: '1',
    PARLEY_DRAIN_TIMEOUT: '20s',
  });
}

async function leaseOwners(nc: NatsConnection): Promise<Map<string, string>> {
  const kv = await new Kvm(nc).open('parley_leases');
  const owners = new Map<string, string>();
  for (const [key, view] of await readLeases(kv, 3000)) owners.set(key, view.node);
  return owners;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function message(conversation: number, k: number, run: string): InboundMessage {
  return {
    id: `load:${run}:c${conversation}:${k}`,
    channel: 'web',
    conversationId: `web:${run}-c${conversation}`,
    sender: { id: `${run}-u${conversation}` },
    content: { type: 'text', text: TEXTS[(conversation + k) % TEXTS.length]! },
    sentAt: Date.now(),
    receivedAt: Date.now(),
  };
}

/** Runs the load through a gateway in this process; `disrupt` runs once a third of it is answered. */
async function runLoad(
  gateway: ActorSystem,
  run: string,
  disrupt: () => Promise<void>,
): Promise<Map<string, TurnResult>> {
  const results = new Map<string, TurnResult>();
  const total = CONVERSATIONS * MESSAGES;
  let disrupted: Promise<void> | undefined;
  const asks: Promise<void>[] = [];
  for (let c = 0; c < CONVERSATIONS; c++) {
    const ref = gateway.entity<ConversationMessage>(CONVERSATION_KIND, `web:${run}-c${c}`);
    for (let k = 0; k < MESSAGES; k++) {
      const inbound = message(c, k, run);
      asks.push(
        ref.ask({ type: 'inbound', message: inbound }, { timeout: Number(process.env.PARLEY_TEST_CLUSTER_ASK_TIMEOUT_MS ?? 240_000) }).then((result) => {
          results.set(inbound.id, result);
          if (results.size === Math.floor(total / 3)) disrupted = disrupt();
        }),
      );
    }
  }
  await Promise.all(asks);
  await disrupted;
  return results;
}

/** Answers per inbound message id in the OUT stream (the record of everything the cluster answered). */
async function answersInOutStream(nc: NatsConnection, run: string): Promise<Map<string, number>> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('PARLEY_OUT');
  const counts = new Map<string, number>();
  const consumer = await js.consumers.get('PARLEY_OUT', { deliver_policy: DeliverPolicy.All });
  const last = info.state.last_seq;
  if (last === 0) return counts;
  const messages = await consumer.consume();
  for await (const msg of messages) {
    const correlation = msg.headers?.get('Parley-Correlation') ?? '';
    if (correlation.startsWith(`load:${run}:`)) counts.set(correlation, (counts.get(correlation) ?? 0) + 1);
    if (msg.seq >= last) break;
  }
  await messages.close();
  return counts;
}

async function verify(
  cluster: Cluster,
  nc: NatsConnection,
  run: string,
  results: Map<string, TurnResult>,
): Promise<void> {
  // Every ask answered with the replies of its turn.
  assert.equal(results.size, CONVERSATIONS * MESSAGES, 'every ask answered');
  for (const [id, result] of results) assert.ok(result.replies.length >= 1, `${id} has replies`);

  // Exactly one answer per message in the OUT stream.
  const answers = await answersInOutStream(nc, run);
  assert.equal(answers.size, CONVERSATIONS * MESSAGES, 'an answer for every message in the OUT stream');
  const repeated = [...answers].filter(([, n]) => n !== 1);
  assert.deepEqual(repeated, [], 'no message answered twice');

  // Recorded once, in order, and never by two nodes at once.
  await using store = await openStore(cluster.database.url);
  const writerOfEpoch = new Map<number, string>();
  for (let c = 0; c < CONVERSATIONS; c++) {
    const log = await store.conversations.turnLog(`web:${run}-c${c}`);
    assert.deepEqual(
      log.map((entry) => entry.idempotencyId),
      Array.from({ length: MESSAGES }, (_, k) => `load:${run}:c${c}:${k}`),
      `conversation ${c}: each message recorded once, in the order sent`,
    );
    let epoch = 0;
    for (const entry of log) {
      assert.ok(entry.epoch !== undefined && entry.writer !== undefined, 'every turn fenced');
      assert.ok(
        entry.epoch >= epoch,
        `conversation ${c}: epochs never go back (${entry.epoch} after ${epoch})`,
      );
      epoch = entry.epoch;
      const writer = writerOfEpoch.get(entry.epoch);
      assert.ok(
        writer === undefined || writer === entry.writer,
        `epoch ${entry.epoch} held by one node only`,
      );
      writerOfEpoch.set(entry.epoch, entry.writer);
    }
  }
}

async function openStore(url: string) {
  const store = await createStore({ databaseUrl: url });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

describe('cluster end to end (3 core nodes, NATS, Postgres)', { timeout: 600_000 }, () => {
  let nats: TestNatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats[Symbol.asyncDispose]();
  });

  const scenarios: Array<{ name: string; disrupt: (cluster: Cluster) => Promise<void> }> = [
    {
      name: 'cluster - kill -9 of a node mid-load: every message answered once, in order, single activation',
      disrupt: (cluster) => {
        cluster.nodes[1]!.child.kill('SIGKILL');
        return Promise.resolve();
      },
    },
    {
      name: 'cluster - graceful drain of a node mid-load: its shards move at once, nothing lost',
      disrupt: async (cluster) => {
        const node = cluster.nodes[2]!;
        const timer = setTimeout(() => {
          const tail = node.logs.slice(-20).map((entry) => JSON.stringify(entry).slice(0, 400));
          console.error(`core-2 did not exit 60 s after SIGTERM; its last logs:\n${tail.join('\n')}`);
        }, 60_000);
        try {
          assert.equal(await node.stop('SIGTERM'), 0, 'drained node exits 0');
        } finally {
          clearTimeout(timer);
        }
      },
    },
    {
      name: 'cluster - nats-server restart mid-load: work pauses and resumes, nothing lost',
      disrupt: async (cluster) => {
        await cluster.nats.restart();
      },
    },
  ];

  for (const [index, scenario] of scenarios.entries()) {
    it(scenario.name, async () => {
      const run = `r${index}`;
      // A fresh database and streams per run; the NATS server is shared, so clear what a run left.
      await using database = await createTestDatabase();
      const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      const jsm = await jetstreamManager(nc);
      for (const stream of [
        'PARLEY_IN',
        'PARLEY_OUT',
        'PARLEY_DEAD',
        'KV_parley_leases',
        'KV_parley_nodes',
      ]) {
        await jsm.streams.delete(stream).catch(() => undefined);
      }
      const dataDirs = await Promise.all([0, 1, 2].map((i) => mkdtemp(join(tmpdir(), `parley-core-${i}-`))));
      const cluster: Cluster = { nats, database, nodes: [], dataDirs };
      const transport = createNatsTransport({
        connection: nc,
        nodeId: `gateway-${run}`,
        shards: SHARDS,
        leaseTtl: '3s',
        hostsEntities: false,
        messageIdOf: (_t, m) =>
          (m as ConversationMessage).type === 'inbound'
            ? (m as { message: InboundMessage }).message.id
            : undefined,
        replyTokenOf: () => 'web',
      });
      const gateway = createActorSystem({ name: `gateway-${run}`, transport });
      try {
        // The first node migrates the database; the others join once it is up.
        cluster.nodes.push(await startCore(cluster, 0, dataDirs[0]!));
        cluster.nodes.push(...(await Promise.all([1, 2].map((i) => startCore(cluster, i, dataDirs[i]!)))));
        await transport.start();
        await until(
          async () => {
            const owners = await leaseOwners(nc);
            return owners.size === SHARDS && new Set(owners.values()).size === 3;
          },
          30_000,
          'three nodes to share every shard',
        );

        const results = await runLoad(gateway, run, () => scenario.disrupt(cluster));
        await verify(cluster, nc, run, results);
      } catch (error) {
        // What the nodes said about it: their warnings and errors.
        for (const [i, node] of cluster.nodes.entries()) {
          for (const entry of node.logs.filter((e) => Number(e.level) >= 40).slice(-15)) {
            console.error(`core-${i}: ${JSON.stringify(entry).slice(0, 600)}`);
          }
        }
        throw error;
      } finally {
        await gateway.shutdown();
        await nc.close();
        await Promise.all(cluster.nodes.map((node) => node[Symbol.asyncDispose]()));
        await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
      }
    });
  }
});
