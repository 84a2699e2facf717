/**
 * Cluster benchmark: conversations through `core` nodes over NATS, beside raw JetStream doing the same
 * round trip with nothing behind it, and the failover time after `kill -9`. Run with `make bench-cluster`
 * (= `npm run bench:cluster`); figures go to docs/benchmarks.md ("Cluster").
 *
 * Method:
 * - A private nats-server (JetStream, temp store) and a fresh Postgres database; core nodes are real
 *   `parley start` processes (role `core`, 32 shards, lease time 5 s, one inference thread each); this
 *   process is the gateway.
 * - Closed loop: `CONCURRENCY` conversations (`PARLEY_BENCH_CONVERSATIONS`, default 64) each send a
 *   message and wait for its answer before sending the next. Latency is per message, gateway send to
 *   answer: JetStream publish, the turn (rules + intent model + skill), the Postgres transaction, the
 *   answer's publish.
 * - Each Parley setup is measured side by side with the raw echoes (`sideBySide`): a warm-up each, then
 *   `ROUNDS` rounds of one slice each (`PARLEY_BENCH_SECONDS`, default 12, split in slices), every
 *   process up throughout. The raw round trip is the same publish (work-queue stream,
 *   `Nats-Msg-Id`, reply-subject header) answered by `jetstream-echo.ts` in its own process (publish the
 *   answer through JetStream, then ack; both sides publish as Parley does, with `JetStreamPublisher`):
 *   once with the least JetStream machinery (one consumer, answers on a plain subscription) and once in
 *   Parley's layout (a consumer per shard, answers through a durable consumer), so the gap splits into
 *   what the layout costs and what the turn costs. A third echo in Parley's layout inserts each message
 *   into Postgres before it answers (grouped as Parley groups its turns): the durable echo, the least a
 *   service can do that stores every message before answering it, which splits the turn's cost into
 *   that and the rest.
 * - CPU a message by process, read from `/proc` (Linux) around each slice: this process (the gateway, or
 *   the raw publisher), nats-server, every Postgres process, and the answering side (the core nodes, or
 *   `jetstream-echo.ts`). The machine is otherwise idle, so these are nearly all of the CPU spent.
 * - Failover: with 3 nodes under the same load, one node is `kill -9`ed and a new conversation on one of
 *   its shards is sent a message at once; the time is from the kill to that message's answer (by the
 *   shard's new owner). Lease time bounds it from above; a few runs are taken.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { JetStreamPublisher, shardOf } from '../../runtime/index.js';
import { CONVERSATION_KIND } from '../../actors/conversation/index.js';
import { createTestDatabase, startNatsServer } from '../testkit/index.js';
import { pidsOf, processCpuSeconds } from './process-cpu.js';
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
const CONCURRENCY = Number(process.env.PARLEY_BENCH_CONVERSATIONS ?? '64');
/** Seconds each setup is measured, in `ROUNDS` slices (after a warm-up). */
const MEASURE_MS = Number(process.env.PARLEY_BENCH_SECONDS ?? '12') * 1000;
const ROUNDS = 4;
const SLICE_MS = MEASURE_MS / ROUNDS;
const WARMUP_MS = 3000;
const FAILOVER_RUNS = 3;
const ECHO = fileURLToPath(new URL('./jetstream-echo.ts', import.meta.url));
/** How this benchmark and its echo run TypeScript: as `parley` does (`bin/parley.js`). */
const REGISTER_HOOKS = fileURLToPath(new URL('../../bin/register.mjs', import.meta.url));

interface Row {
  readonly setup: string;
  readonly messagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly messages: number;
  /** CPU µs a message by process group. */
  readonly cpuPerMessage: Record<CpuGroup, number>;
}

type Call = (worker: number, k: number) => Promise<unknown>;

/** A setup of `sideBySide`: its load, and the pids of the processes that answer it. */
interface Setup {
  readonly setup: string;
  readonly call: Call;
  readonly answerers: () => readonly number[];
}

/** The process groups whose CPU is read: see `readCpu`. */
const CPU_GROUPS = ['gateway', 'nats-server', 'postgres', 'answerers'] as const;
type CpuGroup = (typeof CPU_GROUPS)[number];

/** CPU seconds used so far by each process of each group, by pid. */
type CpuReading = Record<CpuGroup, Map<number, number>>;

/**
 * Reads the CPU used so far by each group: this process, the benchmark's nats-server (the one whose store
 * is `natsStoreDir`), every Postgres process, and the setup's answerers.
 */
function readCpu(answerers: readonly number[], natsStoreDir: string): CpuReading {
  const read = (pids: readonly number[]): Map<number, number> =>
    new Map(pids.map((pid) => [pid, processCpuSeconds(pid)]));
  const own = process.cpuUsage();
  return {
    gateway: new Map([[process.pid, (own.user + own.system) / 1e6]]),
    'nats-server': read(pidsOf('nats-server', (args) => args.includes(natsStoreDir))),
    postgres: read(pidsOf('postgres')),
    answerers: read(answerers),
  };
}

/**
 * CPU seconds each group used between two readings. A process that started meanwhile counts whole; one
 * that ended meanwhile (a Postgres backend whose connection closed) is missed for that stretch.
 */
function cpuBetween(before: CpuReading, after: CpuReading): Record<CpuGroup, number> {
  const used = (group: CpuGroup): number =>
    [...after[group]].reduce((total, [pid, seconds]) => total + seconds - (before[group].get(pid) ?? 0), 0);
  return Object.fromEntries(CPU_GROUPS.map((group) => [group, used(group)])) as Record<CpuGroup, number>;
}

/**
 * `concurrency` conversations in a closed loop for `ms`; `call(worker, k)` sends worker's k-th message,
 * k going on from `counters[worker]` (a message id sent again would be a duplicate, not new work).
 */
async function closedLoop(
  concurrency: number,
  ms: number,
  call: Call,
  counters = new Array<number>(concurrency).fill(0),
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call(worker, counters[worker]!++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/**
 * Setups measured side by side: after a warm-up each, `ROUNDS` rounds of one `SLICE_MS` slice per setup,
 * the order reversed every other round. The machine's speed drifts by tens of percent within minutes, so
 * a ceiling measured minutes away from the setup it is compared with would compare moments, not code.
 */
async function sideBySide(setups: readonly Setup[], natsStoreDir: string): Promise<Row[]> {
  const sides = setups.map((setup) => ({
    ...setup,
    counters: new Array<number>(CONCURRENCY).fill(0),
    latencies: [] as number[],
    seconds: 0,
    cpu: Object.fromEntries(CPU_GROUPS.map((group) => [group, 0])) as Record<CpuGroup, number>,
  }));
  for (const side of sides) await closedLoop(CONCURRENCY, WARMUP_MS, side.call, side.counters);
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const answerers = side.answerers();
      const before = readCpu(answerers, natsStoreDir);
      const slice = await closedLoop(CONCURRENCY, SLICE_MS, side.call, side.counters);
      const used = cpuBetween(before, readCpu(answerers, natsStoreDir));
      for (const group of CPU_GROUPS) side.cpu[group] += used[group];
      side.latencies.push(...slice.latencies);
      side.seconds += slice.seconds;
    }
  }
  return sides.map(({ setup, latencies, seconds, cpu }) => {
    latencies.sort((a, b) => a - b);
    const at = (q: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const row = {
      setup,
      messagesPerSecond: latencies.length / seconds,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      messages: latencies.length,
      cpuPerMessage: Object.fromEntries(
        CPU_GROUPS.map((group) => [group, (cpu[group] / latencies.length) * 1e6]),
      ) as Record<CpuGroup, number>,
    };
    console.error(`${setup}: ${Math.round(row.messagesPerSecond)} msg/s`);
    return row;
  });
}

/** How the raw ceiling uses JetStream: see `startRawJetStream`. */
type RawLayout = 'plain' | 'parley' | 'durable';

const RAW_SETUP: Record<RawLayout, string> = {
  plain: 'raw JetStream publish + consume + answer (ceiling)',
  parley: "raw JetStream in Parley's layout (a consumer per shard, answers through a durable consumer)",
  durable:
    "raw JetStream in Parley's layout + a Postgres insert per message before its answer (durable echo)",
};

/**
 * The raw round trip with nothing behind it, answered by `jetstream-echo.ts` in its own process. `plain`:
 * one consumer takes every message and the answers come back on a plain subscription, the least JetStream
 * can do for this load. `parley`: as a core node and the gateway use it, a consumer per shard (filtered,
 * explicit acks) and the answers read through the gateway's durable consumer on the answers stream.
 */
async function startRawJetStream(
  natsUrl: string,
  layout: RawLayout,
  databaseUrl?: string,
): Promise<Omit<Setup, 'setup'> & AsyncDisposable> {
  // The same connection option as Parley's connections (app/cluster.ts): no stack capture per request.
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const prefix = `bench_${layout}`;
  const [inStream, outStream] = [`${prefix}_IN`.toUpperCase(), `${prefix}_OUT`.toUpperCase()];
  const outSubject = `${prefix}.out.web.gateway`;
  await jsm.streams.add({
    name: inStream,
    subjects: [`${prefix}.in.*`],
    retention: RetentionPolicy.Workqueue,
  });
  await jsm.streams.add({ name: outStream, subjects: [`${prefix}.out.>`] });
  const consumers = layout === 'plain' ? ['echo'] : Array.from({ length: SHARDS }, (_, s) => `shard-${s}`);
  for (const [s, name] of consumers.entries()) {
    await jsm.consumers.add(inStream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ...(layout === 'plain'
        ? { max_ack_pending: 1024 }
        : { filter_subject: `${prefix}.in.${s}`, deliver_policy: DeliverPolicy.All, max_ack_pending: 256 }),
    });
  }
  const echo = spawn(process.execPath, ['--import', REGISTER_HOOKS, ECHO, natsUrl, inStream, ...consumers], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: layout === 'durable' ? { ...process.env, ECHO_DATABASE_URL: databaseUrl } : process.env,
  });
  const [ready] = (await once(createInterface({ input: echo.stdout }), 'line')) as [string];
  if (ready !== 'ready') throw new Error(`jetstream-echo said ${ready}`);

  const js = jetstream(nc);
  // As Parley's gateway publishes: acknowledgements matched on one inbox, not a request each.
  const publisher = new JetStreamPublisher(nc);
  const waiting = new Map<string, () => void>();
  const settle = (msg: Msg | JsMsg): void => {
    const id = msg.headers?.get('Parley-Correlation') ?? '';
    waiting.get(id)?.();
    waiting.delete(id);
  };
  let answers: ConsumerMessages | undefined;
  if (layout === 'plain') {
    nc.subscribe(outSubject, { callback: (_error, msg) => settle(msg) });
  } else {
    await jsm.consumers.add(outStream, {
      durable_name: 'answers-gateway',
      filter_subject: `${prefix}.out.*.gateway`,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.New,
    });
    const consumer = await js.consumers.get(outStream, 'answers-gateway');
    answers = await consumer.consume({ max_messages: 1024 });
    void (async () => {
      for await (const msg of answers) settle(msg);
    })();
  }
  const payload = new TextEncoder().encode(
    JSON.stringify({ type: 'inbound', message: loadMessage('raw', 0, 0) }),
  );
  // Its own numbering: a setup's message numbers start again at each `sideBySide`, and an id sent again
  // would be dropped as a duplicate, never answered.
  let seq = 0;
  return {
    async call(worker) {
      const id = `raw:${seq++}`;
      const h = headers();
      h.set('Parley-Reply-To', outSubject);
      const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
      await publisher.publish(`${prefix}.in.${worker % SHARDS}`, payload, id, h);
      await answered;
    },
    answerers: () => (echo.pid === undefined ? [] : [echo.pid]),
    async [Symbol.asyncDispose]() {
      await answers?.close();
      publisher.close();
      echo.stdin.end();
      await once(echo, 'exit');
      await nc.close();
    },
  };
}

function conversationLoad(gateway: TestGateway, run: string): Call {
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
  // Up throughout (idle while another setup runs), so each Parley setup is measured beside them.
  await using plain = await startRawJetStream(nats.url, 'plain');
  await using laidOut = await startRawJetStream(nats.url, 'parley');
  await using durable = await startRawJetStream(nats.url, 'durable', database.url);
  const nodes: CoreNode[] = [];
  const beside = (setup: string, call: Call): Promise<Row[]> =>
    sideBySide(
      [
        { setup: RAW_SETUP.plain, ...plain },
        { setup: RAW_SETUP.parley, ...laidOut },
        { setup: RAW_SETUP.durable, ...durable },
        { setup, call, answerers: () => nodes.flatMap((node) => node.child.pid ?? []) },
      ],
      nats.storeDir,
    );
  const runs: Row[][] = [];

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
    runs.push(await beside('Parley, 1 core node', conversationLoad(gateway, 'one')));
    nodes.push(...(await Promise.all([1, 2].map(start.core))));
    await waitForOwners(gateway.nc, 3);
    runs.push(await beside('Parley, 3 core nodes', conversationLoad(gateway, 'three')));

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

  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  const percent = (n: number, of: Row): string => `${((n / of.messagesPerSecond) * 100).toFixed(1)}%`;
  console.log('');
  console.log(
    '| setup | messages/s | p50 ms | p99 ms | messages | of the raw ceiling | ' +
      "of raw in Parley's layout | of the durable echo |",
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [ceiling, layout, durableEcho, parley] of runs as Array<[Row, Row, Row, Row]>) {
    for (const row of [ceiling, layout, durableEcho, parley]) {
      console.log(
        `| ${row.setup} | ${int(row.messagesPerSecond)} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} | ` +
          `${int(row.messages)} | ${percent(row.messagesPerSecond, ceiling)} | ` +
          `${row === ceiling ? '-' : percent(row.messagesPerSecond, layout)} | ` +
          `${row === parley ? percent(row.messagesPerSecond, durableEcho) : '-'} |`,
      );
    }
  }
  console.log('');
  console.log(
    '| CPU µs a message (from /proc) | gateway / publisher | nats-server | Postgres | core nodes / echo | all |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const row of runs.flat()) {
    const cpu = row.cpuPerMessage;
    const all = CPU_GROUPS.reduce((total, group) => total + cpu[group], 0);
    console.log(`| ${row.setup} | ${CPU_GROUPS.map((group) => int(cpu[group])).join(' | ')} | ${int(all)} |`);
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
