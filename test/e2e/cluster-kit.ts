/**
 * Pieces of a real cluster for the end-to-end test and `make bench-cluster`: `core` nodes as `parley start`
 * processes, and this process as a gateway that hands conversations' messages to them over NATS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  createActorSystem,
  createNatsTransport,
  readLeases,
  type ActorSystem,
  type NatsTransport,
} from '../../runtime/index.js';
import {
  CONVERSATION_KIND,
  type ConversationMessage,
  type TurnResult,
} from '../../actors/conversation/index.js';
import type { InboundMessage } from '../../actors/umm.js';
import { startParley, type ParleyProcess } from './parley-process.js';

export interface CoreNodeOptions {
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly nodeId: string;
  readonly shards: number;
  readonly leaseTtl: string;
}

export interface CoreNode extends ParleyProcess {
  readonly nodeId: string;
}

/** Starts `parley start` as a `core` node on its own temporary data directory (for its model registry). */
export async function startCoreNode(options: CoreNodeOptions): Promise<CoreNode> {
  const dataDir = await mkdtemp(join(tmpdir(), `parley-${options.nodeId}-`));
  let node: ParleyProcess;
  try {
    node = await startParley({
      PARLEY_ROLE: 'core',
      NATS_URL: options.natsUrl,
      DATABASE_URL: options.databaseUrl,
      PARLEY_NODE_ID: options.nodeId,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_CLUSTER_SHARDS: String(options.shards),
      PARLEY_CLUSTER_LEASE_TTL: options.leaseTtl,
      PARLEY_INFERENCE_THREADS: '1',
      PARLEY_DRAIN_TIMEOUT: '20s',
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...node,
    nodeId: options.nodeId,
    [Symbol.asyncDispose]: async () => {
      await node[Symbol.asyncDispose]();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where a test cluster runs and how it is set up; every node of it gets the same. */
export interface ClusterSettings {
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly shards: number;
  readonly leaseTtl: string;
}

/** Starters of core node `core-<i>` and of gateways, for one cluster. */
export function clusterStarters(settings: ClusterSettings): {
  readonly core: (index: number) => Promise<CoreNode>;
  readonly gateway: (nodeId: string) => Promise<TestGateway>;
} {
  return {
    core: (index) => startCoreNode({ ...settings, nodeId: `core-${index}` }),
    gateway: (nodeId) => startGateway({ ...settings, nodeId }),
  };
}

/** Deletes the cluster's streams and buckets, so a run starts from nothing on a shared NATS server. */
export async function resetCluster(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [
      'PARLEY_IN',
      'PARLEY_OUT',
      'PARLEY_DEAD',
      'KV_parley_leases',
      'KV_parley_nodes',
      'KV_parley_crashes',
    ]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

/** Shard lease owners by key, as the bucket has them now. */
export async function leaseOwners(nc: NatsConnection, leaseTtlMs: number): Promise<Map<string, string>> {
  const kv = await new Kvm(nc).open('parley_leases');
  const owners = new Map<string, string>();
  for (const [key, view] of await readLeases(kv, await jetstreamManager(nc), leaseTtlMs))
    owners.set(key, view.node);
  return owners;
}

export async function until(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** This process as a gateway node: sends conversations' messages into the cluster and awaits the turns. */
export interface TestGateway extends AsyncDisposable {
  readonly nc: NatsConnection;
  /** The transport's warnings and errors, for a failing test to print. */
  readonly problems: ReadonlyArray<{ message: string; object: Record<string, unknown> }>;
  readonly system: ActorSystem;
  readonly transport: NatsTransport;
  send(message: InboundMessage, timeoutMs: number): Promise<TurnResult>;
}

export async function startGateway(options: {
  natsUrl: string;
  nodeId: string;
  shards: number;
  leaseTtl: string;
}): Promise<TestGateway> {
  const nc = await connect({
    servers: options.natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noAsyncTraces: true, // as app/cluster.ts connects
  });
  const problems: Array<{ message: string; object: Record<string, unknown> }> = [];
  const record = (object: Record<string, unknown>, message: string): void =>
    void problems.push({ message, object });
  const transport = createNatsTransport({
    connection: nc,
    logger: { debug: () => undefined, info: () => undefined, warn: record, error: record },
    nodeId: options.nodeId,
    shards: options.shards,
    leaseTtl: options.leaseTtl as `${number}s`,
    hostsEntities: false,
    messageIdOf: (_target, message) => {
      const conversation = message as ConversationMessage;
      return conversation.type === 'inbound' ? conversation.message.id : undefined;
    },
    replyTokenOf: () => 'web',
  });
  const system = createActorSystem({ name: options.nodeId, transport });
  await transport.start();
  let disposed: Promise<void> | undefined;
  return {
    nc,
    problems,
    system,
    transport,
    send: (message, timeoutMs) =>
      system
        .entity<ConversationMessage>(CONVERSATION_KIND, message.conversationId)
        .ask({ type: 'inbound', message }, { timeout: timeoutMs }),
    [Symbol.asyncDispose]: () =>
      (disposed ??= (async () => {
        await system.shutdown();
        await nc.close();
      })()),
  };
}

/** A node's log entry on one line: time, message, the fields that say which, and the error's message. */
export function logLine(entry: Record<string, unknown>): string {
  const { time, msg, err, level: _level, pid: _pid, hostname: _hostname, ...fields } = entry;
  const error = err && typeof err === 'object' && 'message' in err ? ` (${String(err.message)})` : '';
  const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  return `${at} ${String(msg)} ${JSON.stringify(fields)}${error}`.slice(0, 400);
}

/**
 * What a failing cluster run looked like, on stderr: each node's warnings and lease changes (every log
 * line also in `<logDir>/parley-cluster-<label>-<node>.log` when `logDir` is given), who owns the shards,
 * the IN and OUT streams' consumers, and the gateway's last problems.
 */
export async function reportClusterFailure(options: {
  readonly label: string;
  readonly nodes: readonly CoreNode[];
  readonly gateway: TestGateway | undefined;
  readonly logDir?: string;
}): Promise<void> {
  const { label, nodes, gateway, logDir } = options;
  for (const node of nodes) {
    if (logDir !== undefined) {
      const file = join(logDir, `parley-cluster-${label}-${node.nodeId}.log`);
      await writeFile(file, node.logs.map((entry) => JSON.stringify(entry)).join('\n'));
      console.error(`${node.nodeId}: ${node.logs.length} log lines in ${file}`);
    }
    const notable = node.logs.filter((e) => Number(e.level) >= 40 || /lease/.test(String(e.msg)));
    for (const entry of notable.slice(-12)) console.error(`${node.nodeId}: ${logLine(entry)}`);
  }
  if (gateway && !gateway.nc.isClosed()) {
    const owners = await leaseOwners(gateway.nc, 5000).catch(() => new Map<string, string>());
    const counts = new Map<string, number>();
    for (const owner of owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    console.error(`lease owners: ${JSON.stringify(Object.fromEntries(counts))}`);
    const jsm = await jetstreamManager(gateway.nc);
    const inbound = await jsm.streams.info('PARLEY_IN').catch(() => undefined);
    console.error(`PARLEY_IN: ${inbound?.state.messages} messages waiting`);
    for await (const info of jsm.consumers.list('PARLEY_IN')) {
      console.error(
        `  ${info.name}: pending ${info.num_pending}, unacked ${info.num_ack_pending}, redelivered ${info.num_redelivered}`,
      );
    }
    const out = await jsm.streams.info('PARLEY_OUT').catch(() => undefined);
    console.error(`PARLEY_OUT: ${out?.state.messages} answers`);
    for await (const info of jsm.consumers.list('PARLEY_OUT')) {
      console.error(`  ${info.name}: pending ${info.num_pending}, delivered ${info.delivered.stream_seq}`);
    }
  }
  for (const problem of gateway?.problems.slice(-10) ?? []) {
    console.error(`gateway: ${problem.message} ${JSON.stringify(problem.object).slice(0, 400)}`);
  }
}

const TEXTS = ['hello', 'help', 'thanks', 'what time is it', 'bye'];

/** Message `k` of test conversation `c` in run `run`: web channel, ids `load:<run>:c<c>:<k>`. */
export function loadMessage(run: string, c: number, k: number): InboundMessage {
  return {
    id: `load:${run}:c${c}:${k}`,
    channel: 'web',
    conversationId: `web:${run}-c${c}`,
    sender: { id: `${run}-u${c}` },
    content: { type: 'text', text: TEXTS[(c + k) % TEXTS.length]! },
    sentAt: Date.now(),
    receivedAt: Date.now(),
  };
}
