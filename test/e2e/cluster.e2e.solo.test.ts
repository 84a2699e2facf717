/**
 * The cluster end to end: a real nats-server (JetStream, temp store) and Postgres, three `parley start`
 * processes in role `core`, and this process as the gateway sending 1,000 conversations x 10 messages
 * (each conversation's messages sent at once, so JetStream carries them in order). Mid-load one run
 * `kill -9`s a node, one drains a node with SIGTERM, one restarts nats-server, one stops Postgres (a server
 * of its own) for 3 s. Then every message must have been answered exactly once (counted in the OUT
 * stream), recorded once and in order per conversation, and the store's fencing records must show no
 * conversation written by two nodes at once.
 *
 * PARLEY_TEST_CLUSTER_CONVERSATIONS scales the load (default 1000).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { TurnResult } from '../../actors/conversation/index.js';
import { createStore } from '../../store/index.js';
import {
  createTestDatabase,
  startNatsServer,
  startPostgresServer,
  type TestNatsServer,
  type TestPostgresServer,
} from '../testkit/index.js';
import {
  leaseOwners,
  loadMessage,
  logLine,
  reportClusterFailure,
  resetCluster,
  clusterStarters,
  until,
  type CoreNode,
  type TestGateway,
} from './cluster-kit.js';

const CONVERSATIONS = Number(process.env.PARLEY_TEST_CLUSTER_CONVERSATIONS ?? '1000');
const MESSAGES = 10;
const SHARDS = 32;
const LEASE_TTL = '5s';

interface Cluster {
  readonly nats: TestNatsServer;
  readonly database: { readonly url: string };
  /** The scenario's own Postgres server, when it stops the database. */
  readonly postgres: TestPostgresServer | undefined;
  readonly nodes: CoreNode[];
}

/** Runs the load through a gateway in this process; `disrupt` runs once a third of it is answered. */
async function runLoad(
  gateway: TestGateway,
  run: string,
  disrupt: () => Promise<void>,
): Promise<Map<string, TurnResult>> {
  const results = new Map<string, TurnResult>();
  const total = CONVERSATIONS * MESSAGES;
  let disrupted: Promise<void> | undefined;
  const asks: Promise<void>[] = [];
  const timeoutMs = Number(process.env.PARLEY_TEST_CLUSTER_ASK_TIMEOUT_MS ?? 240_000);
  for (let c = 0; c < CONVERSATIONS; c++) {
    for (let k = 0; k < MESSAGES; k++) {
      const inbound = loadMessage(run, c, k);
      asks.push(
        gateway.send(inbound, timeoutMs).then((result) => {
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
  const jsm = await jetstreamManager(nc);
  const { first_seq: first, last_seq: last } = (await jsm.streams.info('PARLEY_OUT')).state;
  const counts = new Map<string, number>();
  // Read message by message (in parallel batches): simple, and exactly the stored messages.
  for (let from = first; from <= last && last > 0; from += 200) {
    const batch = Array.from({ length: Math.min(200, last - from + 1) }, (_, i) =>
      jsm.streams.getMessage('PARLEY_OUT', { seq: from + i }).catch(() => null),
    );
    for (const stored of await Promise.all(batch)) {
      const correlation = stored?.header.get('Parley-Correlation') ?? '';
      if (correlation.startsWith(`load:${run}:`)) counts.set(correlation, (counts.get(correlation) ?? 0) + 1);
    }
  }
  return counts;
}

async function verify(
  cluster: Cluster,
  run: string,
  results: Map<string, TurnResult>,
  step: (what: string) => void,
  ownersChangeOnlyByLease: boolean,
): Promise<void> {
  // Every ask answered with the replies of its turn.
  assert.equal(results.size, CONVERSATIONS * MESSAGES, 'every ask answered');
  for (const [id, result] of results) assert.ok(result.replies.length >= 1, `${id} has replies`);

  // Exactly one answer per message in the OUT stream, read on a connection of its own (the gateway's has
  // been through whatever the scenario did to NATS).
  const nc = await connect({ servers: cluster.nats.url });
  let answers: Map<string, number>;
  try {
    answers = await answersInOutStream(nc, run);
  } finally {
    await nc.close();
  }
  step('OUT stream read');
  assert.equal(answers.size, CONVERSATIONS * MESSAGES, 'an answer for every message in the OUT stream');
  const repeated = [...answers].filter(([, n]) => n !== 1);
  assert.deepEqual(repeated, [], 'no message answered twice');

  // Recorded once, in order, and never by two nodes at once.
  await using store = await openStore(cluster.database.url);
  step('store open');
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

  // Single activation, seen from the nodes: an owner claims a conversation's epoch as it loads it, so a
  // node still running a conversation that another node had taken would have a turn refused as stale.
  // Where shards change hands only by lease expiry or release (not by a node cut off from NATS, which may
  // legitimately finish a turn late and be fenced), no node may have met that refusal.
  if (ownersChangeOnlyByLease) {
    const refused = cluster.nodes.flatMap((node) =>
      node.logs
        .filter((entry) => JSON.stringify(entry).includes('stale write to conversation'))
        .map((entry) => `${node.nodeId}: ${logLine(entry)}`),
    );
    assert.deepEqual(refused, [], 'no node wrote to a conversation another node had taken');
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

  const scenarios: Array<{
    name: string;
    /** Runs on a Postgres server of its own (it stops the database). */
    privatePostgres?: boolean;
    /** Shards can change hands while their owner still runs (it was cut off from NATS). */
    ownerCutOff?: boolean;
    disrupt: (cluster: Cluster) => Promise<void>;
  }> = [
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
          const tail = node.logs.slice(-20).map(logLine);
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
      ownerCutOff: true,
      disrupt: async (cluster) => {
        await cluster.nats.restart();
      },
    },
    {
      name: 'cluster - Postgres down for 3 s mid-load: turns wait for it and resume, nothing lost',
      privatePostgres: true,
      disrupt: async (cluster) => {
        await cluster.postgres!.stop();
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await cluster.postgres!.start();
      },
    },
  ];

  for (const [index, scenario] of scenarios.entries()) {
    it(scenario.name, { timeout: 240_000 }, async () => {
      const run = `r${index}`;
      await using postgres = scenario.privatePostgres ? await startPostgresServer() : undefined;
      await using shared = postgres ? undefined : await createTestDatabase();
      const database = { url: postgres ? await postgres.createDatabase(`parley_${run}`) : shared!.url };
      const cluster: Cluster = { nats, database, postgres, nodes: [] };
      const start = clusterStarters({
        natsUrl: nats.url,
        databaseUrl: database.url,
        shards: SHARDS,
        leaseTtl: LEASE_TTL,
      });
      let gateway: TestGateway | undefined;
      const step = (what: string): void => console.error(`${new Date().toISOString()} ${run}: ${what}`);
      try {
        // The NATS server is shared by the runs: start each from no streams and no leases.
        await resetCluster(nats.url);
        step('streams reset; starting core nodes');
        // The first node migrates the database; the others join once it is up.
        cluster.nodes.push(await start.core(0));
        // Each pushed as soon as it runs, so a failing start leaves nothing behind.
        await Promise.all([1, 2].map(async (i) => void cluster.nodes.push(await start.core(i))));
        gateway = await start.gateway(`gateway-${run}`);
        const nc = gateway.nc;
        step('core nodes and gateway up');
        await until(
          async () => {
            const owners = await leaseOwners(nc, 5000);
            return owners.size === SHARDS && new Set(owners.values()).size === 3;
          },
          30_000,
          'three nodes to share every shard',
        );

        step('shards shared; load');
        const results = await runLoad(gateway, run, () => {
          step('disrupting');
          return scenario.disrupt(cluster).then(() => step('disrupted'));
        });
        step('load answered; verifying');
        await verify(cluster, run, results, step, scenario.ownerCutOff !== true);
        step('verified');
      } catch (error) {
        await reportClusterFailure({ label: run, nodes: cluster.nodes, gateway, logDir: tmpdir() });
        throw error;
      } finally {
        await gateway?.[Symbol.asyncDispose]();
        step('gateway stopped');
        await Promise.all(cluster.nodes.map((core) => core[Symbol.asyncDispose]()));
        step('nodes stopped');
      }
    });
  }
});
