/**
 * Cluster benchmark: conversations through `core` nodes over NATS, beside raw JetStream doing the same
 * round trip with nothing behind it, and the failover time after `kill -9`. Run with `make bench-cluster`
 * (= `npm run bench:cluster`); figures go to docs/benchmarks.md ("Cluster").
 *
 * Method:
 * - A private nats-server (JetStream, temp store) and a fresh Postgres database; core nodes are real
 *   `parley start` processes (role `core`, 32 shards, lease time 5 s, one inference thread each); this
 *   process is the gateway.
 * - Closed loop: `CONCURRENCY` conversations each send a message and wait for its answer before sending
 *   the next; each row warms up, then runs `PARLEY_BENCH_SECONDS` (default 10). Latency is per message,
 *   gateway send to answer: JetStream publish, the turn (rules + intent model + skill), the Postgres
 *   transaction, the answer's publish.
 * - Raw JetStream: the same publishes (work-queue stream, `Nats-Msg-Id`, reply subject header) answered
 *   by `jetstream-echo.ts` in its own process: publish the answer through JetStream, then ack.
 * - Failover: with 3 nodes under the same load, one node is `kill -9`ed and a new conversation on one of
 *   its shards is sent a message at once; the time is from the kill to that message's answer (by the
 *   shard's new owner). Lease time bounds it from above; a few runs are taken.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { shardOf } from '../../runtime/index.js';
import { CONVERSATION_KIND } from '../../actors/conversation/index.js';
import { createTestDatabase, startNatsServer } from '../testkit/index.js';
import {
  leaseOwners,
  loadMessage,
  reportClusterFailure,
  resetCluster,
  clusterStarters,
  until,
  type CoreNode,
  type TestGateway,
} from '../e2e/cluster-kit.js';

const SHARDS = 32;
const LEASE_TTL = '5s';
const CONCURRENCY = 64;
const MEASURE_MS = Number(process.env.PARLEY_BENCH_SECONDS ?? '10') * 1000;
const WARMUP_MS = 3000;
const FAILOVER_RUNS = 3;
const ECHO = fileURLToPath(new URL('./jetstream-echo.ts', import.meta.url));

interface Row {
  readonly setup: string;
  readonly messagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly messages: number;
}

/** `concurrency` conversations in a closed loop for `ms`; `call(worker, k)` sends worker's k-th message. */
async function closedLoop(
  concurrency: number,
  ms: number,
  call: (worker: number, k: number) => Promise<unknown>,
): Promise<{ count: number; seconds: number; p50Ms: number; p99Ms: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + ms;
  const counters = new Array<number>(concurrency).fill(0);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call(worker, counters[worker]!++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { count: latencies.length, seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function measure(setup: string, call: (worker: number, k: number) => Promise<unknown>): Promise<Row> {
  await closedLoop(CONCURRENCY, WARMUP_MS, (worker, k) => call(worker, k));
  // Message numbers go on after the warm-up's: an id sent again would be a duplicate, not new work.
  const offset = 1_000_000;
  const m = await closedLoop(CONCURRENCY, MEASURE_MS, (worker, k) => call(worker, offset + k));
  const row = {
    setup,
    messagesPerSecond: m.count / m.seconds,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    messages: m.count,
  };
  console.error(`${setup}: ${Math.round(row.messagesPerSecond)} msg/s`);
  return row;
}

async function rawJetStream(natsUrl: string): Promise<Row> {
  // The same connection option as Parley's connections (app/cluster.ts): no stack capture per request.
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_IN', subjects: ['bench.in.*'], retention: RetentionPolicy.Workqueue });
  await jsm.streams.add({ name: 'BENCH_OUT', subjects: ['bench.out.>'] });
  await jsm.consumers.add('BENCH_IN', {
    durable_name: 'echo',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1024,
  });
  const echo = spawn(process.execPath, ['--import', 'tsx', ECHO, natsUrl], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [ready] = (await once(createInterface({ input: echo.stdout }), 'line')) as [string];
  if (ready !== 'ready') throw new Error(`jetstream-echo said ${ready}`);

  const js = jetstream(nc);
  const waiting = new Map<string, () => void>();
  nc.subscribe('bench.out.web.bench', {
    callback: (_error, msg) => {
      const id = msg.headers?.get('Parley-Correlation') ?? '';
      waiting.get(id)?.();
      waiting.delete(id);
    },
  });
  const payload = new TextEncoder().encode(
    JSON.stringify({ type: 'inbound', message: loadMessage('raw', 0, 0) }),
  );
  let seq = 0;
  const row = await measure('raw JetStream publish + consume + answer (ceiling)', async (worker) => {
    const id = `raw:${seq++}`;
    const h = headers();
    h.set('Parley-Reply-To', 'bench.out.web.bench');
    const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
    await js.publish(`bench.in.${worker % SHARDS}`, payload, { msgID: id, headers: h });
    await answered;
  });
  echo.stdin.end();
  await once(echo, 'exit');
  await nc.close();
  return row;
}

function conversationLoad(
  gateway: TestGateway,
  run: string,
): (worker: number, k: number) => Promise<unknown> {
  return (worker, k) => gateway.send(loadMessage(run, worker, k), 60_000);
}

async function waitForOwners(nc: NatsConnection, nodes: number): Promise<void> {
  await until(
    async () => {
      const owners = await leaseOwners(nc, 5000);
      return owners.size === SHARDS && new Set(owners.values()).size === nodes;
    },
    60_000,
    `${nodes} node(s) to share every shard`,
  );
}

async function failover(gateway: TestGateway, victim: CoreNode, round: number): Promise<number> {
  const owners = await leaseOwners(gateway.nc, 5000);
  // A conversation no one has talked to yet, on a shard of the node about to die.
  let c = 0;
  while (
    owners.get(
      `shard.${shardOf(CONVERSATION_KIND, loadMessage(`fo${round}`, c, 0).conversationId, SHARDS)}`,
    ) !== victim.nodeId
  )
    c++;
  const background = closedLoop(16, 30_000, conversationLoad(gateway, `bg${round}`));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  victim.child.kill('SIGKILL');
  const killedAt = performance.now();
  await gateway.send(loadMessage(`fo${round}`, c, 0), 60_000);
  const ms = performance.now() - killedAt;
  await background;
  return ms;
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpus();
  console.log(
    `node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'} x${cpu.length}; ${SHARDS} shards, lease ${LEASE_TTL}, ` +
      `${CONCURRENCY} conversations in a closed loop, ${MEASURE_MS / 1000} s a row after ${WARMUP_MS / 1000} s warm-up`,
  );
  await using nats = await startNatsServer();
  await using database = await createTestDatabase();
  const rows: Row[] = [];

  const nodes: CoreNode[] = [];
  const start = clusterStarters({
    natsUrl: nats.url,
    databaseUrl: database.url,
    shards: SHARDS,
    leaseTtl: LEASE_TTL,
  });
  let gateway: TestGateway | undefined;
  const failovers: number[] = [];
  try {
    await resetCluster(nats.url);
    nodes.push(await start.core(0));
    gateway = await start.gateway('gateway');
    await waitForOwners(gateway.nc, 1);
    rows.push(await measure('Parley, 1 core node', conversationLoad(gateway, 'one')));
    nodes.push(...(await Promise.all([1, 2].map(start.core))));
    await waitForOwners(gateway.nc, 3);
    rows.push(await measure('Parley, 3 core nodes', conversationLoad(gateway, 'three')));

    for (let round = 0; round < FAILOVER_RUNS; round++) {
      const victim = nodes[1 + (round % 2)]!;
      failovers.push(await failover(gateway, victim, round));
      console.error(`failover ${round + 1}: ${Math.round(failovers.at(-1)!)} ms`);
      // Back to three nodes for the next round.
      await victim[Symbol.asyncDispose]();
      nodes[nodes.indexOf(victim)] = await start.core(nodes.indexOf(victim));
      await waitForOwners(gateway.nc, 3);
    }
  } catch (error) {
    await reportClusterFailure({ label: 'bench', nodes, gateway });
    throw error;
  } finally {
    await gateway?.[Symbol.asyncDispose]();
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
  }

  // The ceiling last, on its own streams, once the cluster is gone.
  rows.unshift(await rawJetStream(nats.url));

  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log('');
  console.log('| setup | messages/s | p50 ms | p99 ms | messages | of the raw ceiling |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const ceiling = rows[0]!.messagesPerSecond;
  for (const row of rows) {
    console.log(
      `| ${row.setup} | ${int(row.messagesPerSecond)} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} | ` +
        `${int(row.messages)} | ${((row.messagesPerSecond / ceiling) * 100).toFixed(1)}% |`,
    );
  }
  console.log('');
  console.log(
    `failover after kill -9 (kill to the first answer by the new owner), ${FAILOVER_RUNS} runs: ` +
      failovers.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ') +
      ` (lease ${LEASE_TTL}; Akka sharding 7-30 s, Orleans ~90 s)`,
  );
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
