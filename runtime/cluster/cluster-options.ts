import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseDuration, type Duration } from '../duration.js';
import { InvalidOptionsError } from '../errors.js';

/** How a node takes part in a cluster. Every node of one cluster must agree on `shards` and `prefix`. */
export interface ClusterOptions {
  /**
   * This node's id: unique in the cluster, letters, digits, `_` and `-` (it is a NATS subject token).
   * @default `<hostname>-<pid>-<random>`
   */
  nodeId?: string;
  /** Shards of the cluster, fixed for its life: entity `kind/id` lives on shard `shardOf(kind, id, shards)`. @default 128 */
  shards?: number;
  /** First token of subjects, and the base name of streams and buckets. @default 'parley' */
  prefix?: string;
  /**
   * How long a shard lease lives without renewal: the bucket's `max_age`. A node that dies holding a shard
   * delays that shard's conversations by up to this long.
   * @default '5s'
   */
  leaseTtl?: Duration;
  /** How often leases are renewed and shards rebalanced. @default a fifth of `leaseTtl` */
  renewInterval?: Duration;
  /** Ack wait of an inbound message; a turn in progress sends in-progress acks every third of it. @default '30s' */
  ackWait?: Duration;
  /**
   * Deliveries of a message that fails before it goes to the dead-letter stream; also how many nodes may
   * stop while handling one message (a message that crashes its process; 2 at least) before it does.
   * @default 5
   */
  maxDeliver?: number;
  /** Unacknowledged inbound messages per shard on one node. @default 256 */
  maxInFlightPerShard?: number;
  /** How long a drain waits for a shard's in-flight turns before it releases the shard anyway. @default '30s' */
  drainTimeout?: Duration;
  /** Whether this node hosts entities (takes shards); a gateway only sends. @default true */
  hostsEntities?: boolean;
}

export interface CompiledClusterOptions {
  readonly nodeId: string;
  readonly shards: number;
  readonly prefix: string;
  readonly leaseTtlMs: number;
  readonly renewIntervalMs: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxInFlightPerShard: number;
  readonly drainTimeoutMs: number;
  readonly hostsEntities: boolean;
  /** Stream and bucket names derived from `prefix`. */
  readonly names: ClusterNames;
}

/** Where a cluster keeps things in NATS, all derived from its prefix. */
export interface ClusterNames {
  /** Work-queue stream of inbound messages, subjects `<prefix>.in.<shard>`. */
  readonly inStream: string;
  /** Stream of replies, subjects `<prefix>.out.<token>.<node>`. */
  readonly outStream: string;
  /** Stream of messages that failed `maxDeliver` times, subjects `<prefix>.dead.<shard>`. */
  readonly deadStream: string;
  /** KV bucket of leases: `shard.<n>` and `singleton.<name>`. */
  readonly leaseBucket: string;
  /** KV bucket of live nodes, one key per node. */
  readonly nodeBucket: string;
  /**
   * KV bucket of inbound messages whose node stopped while handling them, by stream sequence and time
   * (`in.<seq>.<nanoseconds>`): how many times that happened (see `NatsTransport`).
   */
  readonly crashBucket: string;
  inSubject(shard: number): string;
  deadSubject(shard: number): string;
  outSubject(token: string, node: string): string;
  /** The durable consumer of `shard` under the lease of `epoch`. */
  consumer(shard: number, epoch: number): string;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

export function clusterNames(prefix: string): ClusterNames {
  const upper = prefix.toUpperCase();
  return {
    inStream: `${upper}_IN`,
    outStream: `${upper}_OUT`,
    deadStream: `${upper}_DEAD`,
    leaseBucket: `${prefix}_leases`,
    nodeBucket: `${prefix}_nodes`,
    crashBucket: `${prefix}_crashes`,
    inSubject: (shard) => `${prefix}.in.${shard}`,
    deadSubject: (shard) => `${prefix}.dead.${shard}`,
    outSubject: (token, node) => `${prefix}.out.${token}.${node}`,
    consumer: (shard, epoch) => `shard-${shard}-${epoch}`,
  };
}

export function compileClusterOptions(options: ClusterOptions = {}): CompiledClusterOptions {
  const nodeId =
    options.nodeId ??
    `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!TOKEN.test(nodeId)) {
    throw new InvalidOptionsError('cluster nodeId', nodeId, 'letters, digits, _ and - only');
  }
  const prefix = options.prefix ?? 'parley';
  if (!TOKEN.test(prefix)) {
    throw new InvalidOptionsError('cluster prefix', prefix, 'letters, digits, _ and - only');
  }
  const shards = options.shards ?? 128;
  if (!Number.isInteger(shards) || shards < 1 || shards > 4096) {
    throw new InvalidOptionsError('cluster shards', shards, 'an integer from 1 to 4096');
  }
  const leaseTtlMs = parseDuration(options.leaseTtl ?? '5s', 'cluster leaseTtl');
  if (leaseTtlMs < 1000) {
    throw new InvalidOptionsError('cluster leaseTtl', options.leaseTtl, 'at least 1s');
  }
  const renewIntervalMs =
    options.renewInterval === undefined
      ? leaseTtlMs / 5
      : parseDuration(options.renewInterval, 'cluster renewInterval');
  if (renewIntervalMs <= 0 || renewIntervalMs > leaseTtlMs / 3) {
    throw new InvalidOptionsError(
      'cluster renewInterval',
      options.renewInterval,
      `a positive duration of at most a third of leaseTtl (${leaseTtlMs / 3} ms)`,
    );
  }
  const ackWaitMs = parseDuration(options.ackWait ?? '30s', 'cluster ackWait');
  if (ackWaitMs < 1000) throw new InvalidOptionsError('cluster ackWait', options.ackWait, 'at least 1s');
  const maxDeliver = options.maxDeliver ?? 5;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) {
    throw new InvalidOptionsError('cluster maxDeliver', maxDeliver, 'an integer >= 1');
  }
  const maxInFlightPerShard = options.maxInFlightPerShard ?? 256;
  if (!Number.isInteger(maxInFlightPerShard) || maxInFlightPerShard < 1) {
    throw new InvalidOptionsError('cluster maxInFlightPerShard', maxInFlightPerShard, 'an integer >= 1');
  }
  return {
    nodeId,
    shards,
    prefix,
    leaseTtlMs,
    renewIntervalMs,
    ackWaitMs,
    maxDeliver,
    maxInFlightPerShard,
    drainTimeoutMs: parseDuration(options.drainTimeout ?? '30s', 'cluster drainTimeout'),
    hostsEntities: options.hostsEntities ?? true,
    names: clusterNames(prefix),
  };
}
