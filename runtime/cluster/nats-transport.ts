/**
 * The cluster transport: entity messages travel through JetStream, each to the node that holds its shard.
 *
 * Sending (any node): `send` publishes to `<prefix>.in.<shard>` with `Nats-Msg-Id` = the message's
 * idempotency id, so NATS drops a duplicate publish. An ask's sink waits under that id for the answer on
 * `<prefix>.out.<token>.<this node>` (the reply is also kept in the OUT stream as the record of what was
 * answered).
 *
 * Hosting (nodes that take shards): for each shard it holds the lease of, the node recreates the shard's
 * durable consumer (the IN stream is a work queue, so the new consumer starts at the oldest message not
 * yet acknowledged: the previous owner's unfinished turns come first, in order) and delivers every message
 * to its entity with the lease's epoch. The message is acknowledged only after the entity answered, which
 * for a conversation is after its turn is stored; while it works, in-progress acks keep JetStream from
 * redelivering. A failure is retried with a delay; after `maxDeliver` deliveries (or at once when the
 * message cannot be decoded) it moves to the dead-letter stream and the asker gets the error.
 *
 * A message that kills the process handling it is not counted by JetStream across owners (each owner's
 * consumer counts deliveries from 1), so it would take the cluster down node after node. A shard's new
 * owner therefore treats the messages another node received and never finished as suspects: it runs each
 * alone on the node the first time (for up to {@link SUSPECT_ALONE_MS}), counted first in the crash
 * bucket, and dead-letters one whose owners stopped `maxDeliver` times (2 at least) while it was
 * unfinished. A node that releases a shard gracefully deletes its consumer once idle, and a node taking
 * back a shard it held itself knows it did not stop; so suspects come from an owner that died, lost its
 * lease (cut off from NATS longer than the lease allows) or timed out draining.
 *
 * Drain: stop taking shards; for each held shard stop fetching, wait for its in-flight messages, evict its
 * entities, delete the lease (another node takes it at once).
 */
import { headers as natsHeaders, nuid, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { ReplySink } from '../ask.js';
import { silentLogger, type RuntimeLogger } from '../logger.js';
import { shardOf } from '../sharding.js';
import type { EntityAddress, Transport, TransportHost } from '../transport.js';
import {
  compileClusterOptions,
  type ClusterOptions,
  type CompiledClusterOptions,
} from './cluster-options.js';
import { ActorStoppedError, SystemShutDownError } from '../errors.js';
import { ClusterError, RemoteActorError } from './errors.js';
import { LeaseManager, readNodes, shardKey, type LeaseClaim } from './leases.js';
import { JetStreamPublisher } from './publisher.js';

/** Headers of the cluster's messages. */
export const ClusterHeader = {
  Kind: 'Parley-Kind',
  Id: 'Parley-Id',
  /** On an inbound ask: the subject its answer goes to. */
  ReplyTo: 'Parley-Reply-To',
  /** On an answer: the inbound message id it answers. */
  Correlation: 'Parley-Correlation',
  /** On an answer: `ok` or `error`. */
  Status: 'Parley-Status',
  /** On a dead letter: why it is there, and where it came from. */
  Reason: 'Parley-Dead-Reason',
  OriginalSubject: 'Parley-Original-Subject',
  OriginalId: 'Parley-Original-Id',
} as const;

/** How messages are turned into bytes and back. @default JSON */
export interface MessageCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export const jsonCodec: MessageCodec = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value ?? null)),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
};

export interface NatsTransportOptions extends ClusterOptions {
  /** A connection to a NATS server with JetStream; the transport does not close it. */
  readonly connection: NatsConnection;
  readonly logger?: RuntimeLogger;
  /** The message's idempotency id (its `Nats-Msg-Id`). @default a fresh unique id per send */
  readonly messageIdOf?: (target: EntityAddress, message: unknown) => string | undefined;
  /** The token of an ask's reply subject `<prefix>.out.<token>.<node>`, e.g. the channel. @default 'reply' */
  readonly replyTokenOf?: (target: EntityAddress, message: unknown) => string;
  readonly codec?: MessageCodec;
  /**
   * Failures that are not the message's fault (the database is restarting): retried with backoff for as
   * long as they last, never dead-lettered. @default none
   */
  readonly isTransient?: (error: Error) => boolean;
}

/** What one node sees of the cluster and of itself. */
export interface NodeStatus {
  readonly nodeId: string;
  readonly draining: boolean;
  readonly shards: ReadonlyArray<{
    shard: number;
    epoch: number;
    inFlight: number;
    state: 'held' | 'releasing';
  }>;
  readonly pendingAsks: number;
}

export interface NatsTransport extends Transport {
  readonly nodeId: string;
  readonly options: CompiledClusterOptions;
  /** Creates or updates the streams and buckets, listens for answers, and starts taking shards. */
  start(): Promise<void>;
  /** Releases every shard after its in-flight messages are answered; takes no more. Idempotent. */
  drain(): Promise<void>;
  /** Runs `run` on exactly one node of the cluster at a time; it moves when its node fails or drains. */
  singleton(name: string, run: (epoch: number) => Promise<() => Promise<void>>): void;
  status(): NodeStatus;
}

export function createNatsTransport(options: NatsTransportOptions): NatsTransport {
  return new JetStreamTransport(options);
}

interface PendingAsk {
  readonly sinks: ReplySink[];
  readonly since: number;
}

/** One consumer read until `stopped()`; see `#consumeWhile`. */
interface ConsumeLoop {
  readonly stream: string;
  readonly durable: string;
  readonly maxMessages: number;
  opened(messages: ConsumerMessages): void;
  handle(msg: JsMsg): void;
  stopped(): boolean;
  /** Makes the consumer again when opening it failed (e.g. it no longer exists). */
  recreate?(): Promise<void>;
}

/** A shard this node consumes. */
interface HostedShard {
  readonly shard: number;
  readonly epoch: number;
  /**
   * Messages up to this stream sequence reached an earlier owner that never finished them: suspects of
   * having ended that owner (see the module comment). 0 for none.
   */
  readonly suspectsUpTo: number;
  /** Suspects this owner has counted once already (a redelivery here is not counted again). */
  readonly counted: Set<number>;
  messages: ConsumerMessages | undefined;
  /** Released or lost: messages still buffered are left for the next owner. */
  closing: boolean;
  inFlight: number;
  idle: (() => void)[];
  /**
   * Per entity (`kind/id`), the last of its messages handed to it: the next one waits for it, so a
   * message that fails and is retried still comes before the entity's later ones.
   */
  readonly lines: Map<string, Promise<void>>;
}

/** What one delivery of a message to its entity came to. */
type Delivery =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

/** Pause before a consumer whose pull ended unexpectedly is opened again. */
const CONSUMER_RETRY_MS = 250;
/** Pause before the lease watch is opened again after it ended or failed. */
const WATCH_RETRY_MS = 1000;

/** How long a send keeps retrying its publish while NATS is unreachable (a restart, a failover). */
const PUBLISH_RETRY_MS = 60_000;

/** How long an unanswered ask's sink is kept (the asker's own deadline has long passed by then). */
const PENDING_ASK_MAX_MS = 10 * 60_000;

/** How long the crash bucket keeps a count: longer than any message stays unfinished in a live cluster. */
const CRASH_COUNT_TTL_MS = 7 * 24 * 3_600_000;

/**
 * How long a suspect has the node to itself. A crash comes within moments of the message that causes it;
 * a suspect still running after this (a slow turn, a hung one) lets the next one start beside it.
 */
const SUSPECT_ALONE_MS = 5_000;

class JetStreamTransport implements NatsTransport {
  readonly name = 'nats';
  readonly options: CompiledClusterOptions;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #publisher: JetStreamPublisher;
  readonly #logger: RuntimeLogger;
  readonly #codec: MessageCodec;
  readonly #messageIdOf: (target: EntityAddress, message: unknown) => string | undefined;
  readonly #replyTokenOf: (target: EntityAddress, message: unknown) => string;
  readonly #isTransient: (error: Error) => boolean;
  readonly #pending = new Map<string, PendingAsk>();
  readonly #shards = new Map<number, HostedShard>();
  /** The tail of each entity's chain of publishes, while one is under way. */
  readonly #publishing = new Map<string, Promise<void>>();
  #host: TransportHost | undefined;
  #jsm: JetStreamManager | undefined;
  #leases: LeaseManager | undefined;
  #crashes: KV | undefined;
  /** Consumers this process created: one it finds again on taking a shard back leaves no suspects. */
  readonly #ownConsumers = new Set<string>();
  /** The tail of the node's one-at-a-time line of suspect messages. */
  #suspects: Promise<unknown> = Promise.resolve();
  #replies: ConsumerMessages | undefined;
  #leaseWatch: { stop(): void } | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  readonly #singletons: Array<{ name: string; run: (epoch: number) => Promise<() => Promise<void>> }> = [];

  constructor(options: NatsTransportOptions) {
    this.options = compileClusterOptions(options);
    this.#nc = options.connection;
    this.#js = jetstream(this.#nc);
    this.#publisher = new JetStreamPublisher(this.#nc);
    this.#logger = options.logger ?? silentLogger;
    this.#codec = options.codec ?? jsonCodec;
    this.#messageIdOf = options.messageIdOf ?? (() => undefined);
    this.#replyTokenOf = options.replyTokenOf ?? (() => 'reply');
    this.#isTransient = options.isTransient ?? (() => false);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  attach(host: TransportHost): void {
    if (this.#host !== undefined && this.#host !== host) {
      throw new ClusterError(
        `the NATS transport of node '${this.nodeId}' is already attached to an actor system`,
      );
    }
    this.#host = host;
  }

  async start(): Promise<void> {
    const { names, leaseTtlMs } = this.options;
    this.#jsm = await jetstreamManager(this.#nc);
    await ensureStream(this.#jsm, {
      name: names.inStream,
      subjects: [`${this.options.prefix}.in.*`],
      retention: RetentionPolicy.Workqueue,
    });
    await ensureStream(this.#jsm, {
      name: names.outStream,
      subjects: [`${this.options.prefix}.out.>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(24 * 3_600_000),
    });
    await ensureStream(this.#jsm, {
      name: names.deadStream,
      subjects: [`${this.options.prefix}.dead.*`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(30 * 24 * 3_600_000),
    });
    const [leases, nodes] = await this.#leaseBuckets();
    if (this.options.hostsEntities) {
      this.#crashes = await new Kvm(this.#js).create(names.crashBucket, {
        ttl: CRASH_COUNT_TTL_MS,
        history: 1,
      });
    }
    // Answers are read from the OUT stream through this node's own durable consumer, not a plain
    // subscription: one published while this node was cut off from NATS (a server restart) is still
    // delivered when it is back. An ephemeral (ordered) consumer would die with the server.
    const answersConsumer = `answers-${this.nodeId}`;
    const createAnswersConsumer = async (): Promise<void> => {
      await this.#jsm!.consumers.add(names.outStream, {
        durable_name: answersConsumer,
        filter_subject: names.outSubject('*', this.nodeId),
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.New,
        // A node that went away for good leaves no consumer behind.
        inactive_threshold: nanos(3_600_000),
      });
    };
    await this.#jsm.consumers.delete(names.outStream, answersConsumer).catch(() => undefined);
    await createAnswersConsumer();
    void this.#consumeWhile({
      stream: names.outStream,
      durable: answersConsumer,
      maxMessages: 1024,
      opened: (messages) => (this.#replies = messages),
      handle: (msg) => this.#settle(msg),
      stopped: () => this.#closed,
      // Gone (the stream was recreated, or the node was away past the inactivity limit): make it again.
      recreate: createAnswersConsumer,
    });
    this.#sweeper = setInterval(() => this.#sweepPending(), 30_000);
    this.#sweeper.unref();
    this.#leases = new LeaseManager({
      leases,
      nodes,
      jsm: this.#jsm,
      nodeId: this.nodeId,
      shards: this.options.shards,
      leaseTtlMs,
      renewIntervalMs: this.options.renewIntervalMs,
      takesShards: this.options.hostsEntities,
      shardClaim: (shard) => this.#shardClaim(shard),
      logger: this.#logger,
    });
    for (const { name, run } of this.#singletons) this.#addSingleton(name, run);
    await this.#leases.start();
    // A lease (shard or singleton) deleted elsewhere (a drain) is free now: look at once instead of at the
    // next round.
    void this.#watchReleases(leases);
    this.#logger.info(
      { node: this.nodeId, shards: this.options.shards, hostsEntities: this.options.hostsEntities },
      'joined the cluster',
    );
  }

  /**
   * The lease and node buckets, whose `max_age` is the cluster's lease time. Every node must use the same
   * one: a node renewing less often than the buckets forget would lose its leases and vanish from the node
   * list. A different lease time is refused while other nodes are live; with none live, it becomes the
   * cluster's (that is how it is changed: stop every node, start them with the new one). So is a shard
   * count other than the live nodes': the same conversation would map to two shards, owned by two nodes.
   */
  async #leaseBuckets(): Promise<[KV, KV]> {
    const { names, leaseTtlMs, shards } = this.options;
    const kvm = new Kvm(this.#js);
    const [leases, nodes] = (await Promise.all(
      [names.leaseBucket, names.nodeBucket].map((name) => kvm.create(name, { ttl: leaseTtlMs, history: 1 })),
    )) as [KV, KV];
    const { ttl } = await leases.status();
    const live = (await readNodes(nodes, this.#jsm!, ttl)).filter((node) => node.node !== this.nodeId);
    const otherCounts = live.filter((node) => node.shards !== undefined && node.shards !== shards);
    if (otherCounts.length > 0) {
      throw new ClusterError(
        `node '${this.nodeId}' has ${shards} shards, but live nodes have ` +
          `${otherCounts.map((node) => `${node.shards} (${node.node})`).join(', ')}: give every node the same ` +
          'shard count (PARLEY_CLUSTER_SHARDS); it must never change while the cluster holds messages',
      );
    }
    await this.#refuseTwin(nodes, ttl);
    if (ttl === leaseTtlMs) return [leases, nodes];
    if (live.length > 0) {
      throw new ClusterError(
        `node '${this.nodeId}' has a lease time of ${leaseTtlMs} ms, but the cluster's is ${ttl} ms ` +
          `(nodes live now: ${live.map((node) => node.node).join(', ')}): give every node the same ` +
          'lease time (PARLEY_CLUSTER_LEASE_TTL), or stop them all to change it',
      );
    }
    this.#logger.warn(
      { node: this.nodeId, from: ttl, to: leaseTtlMs },
      "no node is live: the cluster lease time changes to this node's",
    );
    for (const bucket of [leases, nodes]) {
      const { streamInfo } = await bucket.status();
      await this.#jsm!.streams.update(streamInfo.config.name, { max_age: nanos(leaseTtlMs) });
    }
    return [leases, nodes];
  }

  /**
   * A live entry under this node's id is this node's previous run (killed, so it never left the list) or
   * another process given the same id. Joining beside a live one would make the two take each other's
   * leases and share one answers consumer. So the entry is watched until it lapses (then this node joins),
   * and if it is renewed meanwhile, this node is refused.
   */
  async #refuseTwin(nodes: KV, ttl: number): Promise<void> {
    const seen = await nodes.get(this.nodeId);
    if (seen === null || seen.operation !== 'PUT') return;
    const lapsesAt = seen.created.getTime() + ttl;
    if (Date.now() > lapsesAt) return;
    this.#logger.info(
      { node: this.nodeId, waitMs: lapsesAt - Date.now() },
      'an entry under this node id is live: waiting for it to lapse (this node killed before?) or be renewed (another process with this id)',
    );
    while (Date.now() <= lapsesAt) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, this.options.renewIntervalMs / 2)));
      const now = await nodes.get(this.nodeId);
      if (now === null || now.operation !== 'PUT') return;
      if (now.revision !== seen.revision) {
        throw new ClusterError(
          `node id '${this.nodeId}' is in use by another live process (it renewed its entry while this ` +
            'one waited): give each node its own id (PARLEY_NODE_ID)',
        );
      }
    }
  }

  send(target: EntityAddress, message: unknown, reply: ReplySink | undefined): void {
    const shard = shardOf(target.kind, target.id, this.options.shards);
    const id = this.#messageIdOf(target, message) ?? nuid.next();
    const headers = natsHeaders();
    headers.set(ClusterHeader.Kind, target.kind);
    headers.set(ClusterHeader.Id, target.id);
    if (reply) {
      headers.set(
        ClusterHeader.ReplyTo,
        this.options.names.outSubject(this.#replyTokenOf(target, message), this.nodeId),
      );
      const pending = this.#pending.get(id);
      if (pending) pending.sinks.push(reply);
      else this.#pending.set(id, { sinks: [reply], since: Date.now() });
    }
    let data: Uint8Array;
    try {
      data = this.#codec.encode(message);
    } catch (error) {
      this.#failSend(
        id,
        reply,
        new ClusterError(`cannot encode a message for ${target.kind}/${target.id}`, { cause: error }),
      );
      return;
    }
    // One entity's messages are published one after another, so retries during a NATS outage cannot
    // reorder them in the stream.
    const key = `${target.kind}/${target.id}`;
    const previous = this.#publishing.get(key) ?? Promise.resolve();
    const published = previous
      .then(async () => {
        const duplicate = await this.#publish(shard, data, id, headers);
        if (duplicate && reply) await this.#resend(shard, data, id, headers, reply);
      })
      .then(
        () => undefined,
        (error: unknown) => {
          this.#failSend(
            id,
            reply,
            new ClusterError(`could not publish a message for ${key} to JetStream`, { cause: error }),
          );
        },
      );
    this.#publishing.set(key, published);
    void published.then(() => {
      if (this.#publishing.get(key) === published) this.#publishing.delete(key);
    });
  }

  /**
   * An ask whose id JetStream has already taken (within its duplicate window), with no earlier ask for it
   * waiting here: a client sending again a message it got no answer to (the web page after a reconnect).
   * The first answer went to an ask that is gone, so the message is published once more under a fresh id;
   * its entity sees the same message again and answers with what it answered the first time.
   */
  async #resend(
    shard: number,
    data: Uint8Array,
    id: string,
    headers: MsgHdrs,
    reply: ReplySink,
  ): Promise<void> {
    const pending = this.#pending.get(id);
    if (pending?.sinks.length !== 1 || pending.sinks[0] !== reply) return;
    const again = `${id}~again~${nuid.next()}`;
    this.#pending.delete(id);
    this.#pending.set(again, pending);
    await this.#publish(shard, data, again, headers);
  }

  /**
   * Publishes to the shard's stream, retrying while NATS is unreachable (up to `PUBLISH_RETRY_MS`).
   * Resolves whether JetStream had the id already from an earlier send (not from a retry of this one).
   */
  async #publish(shard: number, data: Uint8Array, id: string, headers: MsgHdrs): Promise<boolean> {
    const giveUpAt = Date.now() + PUBLISH_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.#publisher.publish(this.options.names.inSubject(shard), data, id, headers);
        return ack.duplicate && attempt === 1;
      } catch (error) {
        if (Date.now() > giveUpAt || this.#nc.isClosed()) throw error;
        if (attempt === 1) {
          this.#logger.warn(
            { err: error, shard, messageId: id },
            'publish failed; retrying while NATS is back',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  drain(): Promise<void> {
    this.#draining ??= (async () => {
      this.#logger.info({ node: this.nodeId, shards: this.#shards.size }, 'draining: releasing shards');
      await this.#leases?.drain();
      this.#logger.info({ node: this.nodeId }, 'drained');
    })();
    return this.#draining;
  }

  singleton(name: string, run: (epoch: number) => Promise<() => Promise<void>>): void {
    this.#singletons.push({ name, run });
    if (this.#leases) this.#addSingleton(name, run);
  }

  status(): NodeStatus {
    return {
      nodeId: this.nodeId,
      draining: this.#draining !== undefined,
      shards: [...this.#shards.values()]
        .map((hosted) => ({
          shard: hosted.shard,
          epoch: hosted.epoch,
          inFlight: hosted.inFlight,
          state:
            this.#leases?.held().find((lease) => lease.key === shardKey(hosted.shard))?.state ?? 'releasing',
        }))
        .sort((a, b) => a.shard - b.shard),
      pendingAsks: this.#pending.size,
    };
  }

  async close(): Promise<void> {
    await this.drain();
    this.#closed = true;
    this.#leaseWatch?.stop();
    this.#replies?.stop();
    clearInterval(this.#sweeper);
    this.#publisher.close();
    await this.#jsm?.consumers
      .delete(this.options.names.outStream, `answers-${this.nodeId}`)
      .catch(() => undefined);
  }

  // ---- hosting --------------------------------------------------------------------------------------

  #shardClaim(shard: number): LeaseClaim {
    return {
      key: shardKey(shard),
      acquired: (epoch) => this.#host_(shard, epoch),
      releasing: async () => {
        const hosted = this.#shards.get(shard);
        if (!hosted) return;
        hosted.closing = true;
        hosted.messages?.stop();
        await this.#whenIdle(hosted, this.options.drainTimeoutMs);
        await this.#unhost(hosted);
        // Finished with: the next owner finds no consumer, so nothing it receives is a suspect. Messages
        // still in flight after the drain timeout stay suspects.
        if (hosted.inFlight === 0) {
          const consumer = this.options.names.consumer(shard, hosted.epoch);
          await this.#jsm?.consumers.delete(this.options.names.inStream, consumer).catch(() => undefined);
          this.#ownConsumers.delete(consumer);
        }
      },
      lost: async () => {
        const hosted = this.#shards.get(shard);
        if (!hosted) return;
        hosted.closing = true;
        // stop(), not close(): no round trip to a server that may be unreachable right now.
        hosted.messages?.stop();
        await this.#unhost(hosted);
      },
    };
  }

  async #host_(shard: number, epoch: number): Promise<void> {
    const jsm = this.#jsm!;
    const { names } = this.options;
    // A fresh consumer starts at the oldest unacknowledged message (work queue): the previous owner's
    // unfinished messages are delivered now, in order, instead of after their ack wait. It is named for
    // this lease's epoch, so an earlier owner's pull (say, one resuming after a NATS outage) can never
    // take messages from it out of order. An old consumer not made by this process that was delivered
    // messages it never acknowledged (a work queue drops acknowledged ones) belonged to an owner that
    // stopped: it died, lost its lease or timed out draining (a drain in time deletes its consumer).
    let suspectsUpTo = 0;
    for await (const info of jsm.consumers.list(names.inStream)) {
      // The lister yields null for a consumer deleted while it pages.
      if (info?.config?.filter_subject === names.inSubject(shard)) {
        if (!this.#ownConsumers.delete(info.name) && info.delivered.stream_seq > info.ack_floor.stream_seq) {
          suspectsUpTo = Math.max(suspectsUpTo, info.delivered.stream_seq);
        }
        await jsm.consumers.delete(names.inStream, info.name).catch(() => undefined);
      }
    }
    const durable = names.consumer(shard, epoch);
    await jsm.consumers.add(names.inStream, {
      durable_name: durable,
      filter_subject: names.inSubject(shard),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs),
      max_ack_pending: this.options.maxInFlightPerShard,
      max_deliver: -1,
    });
    this.#ownConsumers.add(durable);
    const hosted: HostedShard = {
      shard,
      epoch,
      suspectsUpTo,
      counted: new Set(),
      messages: undefined,
      closing: false,
      inFlight: 0,
      idle: [],
      lines: new Map(),
    };
    this.#shards.set(shard, hosted);
    void this.#consumeWhile({
      stream: names.inStream,
      durable,
      maxMessages: this.options.maxInFlightPerShard,
      opened: (messages) => {
        hosted.messages = messages;
        // Lost or released while the consumer was being set up.
        if (hosted.closing) messages.stop();
      },
      handle: (msg) => this.#handle(hosted, msg),
      stopped: () => hosted.closing,
    });
  }

  /**
   * Consumes `durable` until `stopped()`. A pull that ends without being stopped (JetStream answered
   * "not found" or went quiet while a server restarted) is opened again, so a stream never stalls.
   */
  async #consumeWhile(loop: ConsumeLoop): Promise<void> {
    while (!loop.stopped()) {
      try {
        const consumer = await this.#js.consumers.get(loop.stream, loop.durable);
        const messages = await consumer.consume({ max_messages: loop.maxMessages });
        loop.opened(messages);
        for await (const msg of messages) loop.handle(msg);
      } catch (error) {
        if (loop.stopped()) return;
        this.#logger.warn({ err: error, consumer: loop.durable }, 'consumer failed; opening it again');
        await loop.recreate?.().catch(() => undefined);
      }
      if (!loop.stopped()) await new Promise((resolve) => setTimeout(resolve, CONSUMER_RETRY_MS));
    }
  }

  async #unhost(hosted: HostedShard): Promise<void> {
    if (this.#shards.get(hosted.shard) === hosted) this.#shards.delete(hosted.shard);
    const { shards } = this.options;
    const evicted = this.#host?.evict(
      (address) => shardOf(address.kind, address.id, shards) === hosted.shard,
    );
    // An entity stuck in a message must not hold the shard forever: its late write is fenced anyway, once
    // the next owner has loaded the entity (a store that claims the epoch on load, as conversations do).
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.drainTimeoutMs);
    });
    if ((await Promise.race([evicted, timedOut])) === 'timeout') {
      this.#logger.warn(
        { shard: hosted.shard, timeoutMs: this.options.drainTimeoutMs },
        'entities of a released shard did not stop in time; handing the shard over anyway',
      );
    }
    clearTimeout(timer);
  }

  #handle(hosted: HostedShard, msg: JsMsg): void {
    // Left unacknowledged: the shard's next owner recreates the consumer and gets it at once.
    if (hosted.closing) return;
    const kind = msg.headers?.get(ClusterHeader.Kind) ?? '';
    const id = msg.headers?.get(ClusterHeader.Id) ?? '';
    let message: unknown;
    try {
      if (kind === '' || id === '') throw new Error(`no ${ClusterHeader.Kind}/${ClusterHeader.Id} headers`);
      message = this.#codec.decode(msg.data);
    } catch (error) {
      void this.#deadLetter(hosted, msg, `undecodable: ${describe(error)}`);
      return;
    }
    hosted.inFlight++;
    // In-progress acks from now on: a message waiting behind its entity's earlier one is not redelivered.
    const working = setInterval(() => msg.working(), Math.max(500, this.options.ackWaitMs / 3));
    const key = `${kind}/${id}`;
    const line: Promise<void> = (hosted.lines.get(key) ?? Promise.resolve())
      .then(() => this.#process(hosted, msg, kind, id, message))
      .catch((error: unknown) => {
        this.#logger.error({ err: error, entity: key, shard: hosted.shard }, 'handling a message failed');
      })
      .finally(() => {
        clearInterval(working);
        if (hosted.lines.get(key) === line) hosted.lines.delete(key);
        hosted.inFlight--;
        if (hosted.inFlight === 0) for (const wake of hosted.idle.splice(0)) wake();
      });
    hosted.lines.set(key, line);
  }

  /**
   * Hands a message to its entity and settles it: answered and acked; or, when it fails, delivered again
   * here after a delay (the entity's next message waits meanwhile, so order holds), until it succeeds or,
   * unless the failure is a passing one (`isTransient`), `maxDeliver` deliveries have failed: then it is
   * dead-lettered and the asker gets the error. A node that stops or gives the shard up leaves the message
   * unacknowledged for the next owner.
   */
  async #process(hosted: HostedShard, msg: JsMsg, kind: string, id: string, message: unknown): Promise<void> {
    const expectsAnswer = msg.headers?.has(ClusterHeader.ReplyTo);
    // A message an earlier owner never finished runs alone on this node the first time, counted first:
    // should this node stop too, the next owner knows (a previous owner's deliveries are not in
    // `deliveryCount`, which each owner's consumer counts from 1). Keyed by sequence and time: a stream
    // deleted and made again numbers its messages from 1 again.
    const suspect = msg.seq <= hosted.suspectsUpTo ? `in.${msg.seq}.${msg.info.timestampNanos}` : undefined;
    // Earlier deliveries by this shard's consumer count too (an ack wait that ran out, an answer that could
    // not be published).
    for (let delivery = msg.info.deliveryCount; ; delivery++) {
      if (hosted.closing) return;
      const outcome =
        suspect !== undefined && !hosted.counted.has(msg.seq)
          ? await this.#alone(() =>
              this.#deliverSuspect(hosted, msg, suspect, kind, id, message, expectsAnswer),
            )
          : await this.#deliver(hosted, kind, id, message, expectsAnswer);
      if (outcome === 'dead-lettered') return;
      if (outcome.ok) {
        try {
          await this.#answer(msg, 'ok', outcome.value);
          msg.ack();
          if (suspect !== undefined) {
            hosted.counted.delete(msg.seq);
            void this.#crashes?.delete(suspect).catch(() => undefined);
          }
        } catch (error) {
          // The turn is stored: its redelivery is answered from the store.
          this.#logger.warn({ err: error, shard: hosted.shard }, 'could not publish an answer; redelivering');
          msg.nak(1000);
        }
        return;
      }
      const { error } = outcome;
      // Not the message's fault: this node is stopping or gave the shard up; the next owner gets it.
      if (hosted.closing || error instanceof SystemShutDownError) return;
      if (error instanceof ActorStoppedError) {
        // Nor this: the entity was stopping (an activation evicted with a shard this node has taken again,
        // still finishing an earlier delivery). Returning would let the entity's next message overtake
        // this one; it is delivered again, in its place, once the entity can take it.
        delivery--;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const transient = this.#isTransient(error);
      if (!transient && delivery >= this.options.maxDeliver) {
        if (await this.#deadLetter(hosted, msg, `failed ${delivery} times: ${describe(error)}`)) {
          await this.#answer(msg, 'error', { name: error.name, message: error.message }).catch(
            () => undefined,
          );
        }
        return;
      }
      const delay = Math.min(transient ? 5_000 : 30_000, 500 * 2 ** (Math.min(delivery, 10) - 1));
      this.#logger.warn(
        { err: error, entity: `${kind}/${id}`, shard: hosted.shard, delivery, retryInMs: delay },
        transient
          ? 'message failed on a passing problem; delivering it again until that is over'
          : 'message failed; delivering it again',
      );
      const until = Date.now() + delay;
      while (!hosted.closing && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
      }
    }
  }

  /**
   * Runs `work` once the node's earlier suspect messages are done, or have run for {@link SUSPECT_ALONE_MS}:
   * one suspect at a time.
   */
  #alone<T>(work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const previous = this.#suspects;
    this.#suspects = new Promise<void>((resolve) => (release = resolve));
    return previous.then(() => {
      const timer = setTimeout(release, SUSPECT_ALONE_MS).unref();
      const finish = (): void => {
        clearTimeout(timer);
        release();
      };
      const done = work();
      done.then(finish, finish);
      return done;
    });
  }

  /**
   * The first delivery of a suspect message here (`key` in the crash bucket): counted as a run its node
   * may not survive, then delivered; or dead-lettered, when its owners already stopped `maxDeliver` times
   * (2 at least) while it was unfinished (the owner that left it a suspect, plus each counted run).
   * Without the bucket (NATS failing) it is delivered uncounted. A tell is in its entity's mailbox, not
   * done, when this returns (conversation messages are asks).
   */
  async #deliverSuspect(
    hosted: HostedShard,
    msg: JsMsg,
    key: string,
    kind: string,
    id: string,
    message: unknown,
    expectsAnswer: boolean | undefined,
  ): Promise<Delivery | 'dead-lettered'> {
    // Given up while it waited for its turn: the next owner gets it.
    if (hosted.closing) return { ok: false, error: new ClusterError('the shard was given up') };
    const limit = Math.max(2, this.options.maxDeliver);
    let stopped: number | undefined;
    try {
      const entry = await this.#crashes!.get(key);
      stopped = Number(entry?.string() || '0') + 1;
    } catch (error) {
      this.#logger.warn(
        { err: error, shard: hosted.shard, seq: msg.seq },
        'could not read the count of a message left unfinished by an earlier owner; delivering it uncounted',
      );
    }
    if (stopped !== undefined && stopped >= limit) {
      const reason = `its node stopped ${stopped} times while handling it (does it crash the process?)`;
      // Not dead-lettered (NATS failing): it comes back here, still uncounted, to try again.
      if (!(await this.#deadLetter(hosted, msg, reason))) return 'dead-lettered';
      await this.#answer(msg, 'error', {
        name: 'Error',
        message: `the message was dead-lettered: ${reason}`,
      }).catch(() => undefined);
      void this.#crashes!.delete(key).catch(() => undefined);
      return 'dead-lettered';
    }
    if (stopped !== undefined) {
      await this.#crashes!.put(key, String(stopped)).catch((error: unknown) => {
        this.#logger.warn(
          { err: error, shard: hosted.shard, seq: msg.seq },
          'could not count a message left unfinished by an earlier owner; delivering it uncounted',
        );
      });
      if (stopped > 1) {
        this.#logger.warn(
          { entity: `${kind}/${id}`, shard: hosted.shard, seq: msg.seq, stopped },
          'delivering a message whose earlier owners stopped while it was unfinished',
        );
      }
    }
    hosted.counted.add(msg.seq);
    return this.#deliver(hosted, kind, id, message, expectsAnswer);
  }

  /** One delivery to the entity: its answer (a tell: once it is in the mailbox) or its failure. */
  #deliver(
    hosted: HostedShard,
    kind: string,
    id: string,
    message: unknown,
    expectsAnswer: boolean | undefined,
  ): Promise<Delivery> {
    return new Promise((resolve) => {
      const sink: ReplySink = {
        resolve: (value) => resolve({ ok: true, value }),
        reject: (error) => resolve({ ok: false, error }),
      };
      try {
        this.#host!.deliver({ kind, id }, message, sink, hosted.epoch);
      } catch (error) {
        resolve({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
      }
      if (!expectsAnswer) resolve({ ok: true, value: undefined });
    });
  }

  /** Moves `msg` to the dead-letter stream; false when it could not (it is delivered again later). */
  async #deadLetter(hosted: HostedShard, msg: JsMsg, reason: string): Promise<boolean> {
    const headers = natsHeaders();
    for (const [key, values] of headerEntries(msg.headers))
      for (const value of values) headers.append(key, value);
    headers.set(ClusterHeader.Reason, reason);
    headers.set(ClusterHeader.OriginalSubject, msg.subject);
    const originalId = msg.headers?.get('Nats-Msg-Id');
    if (originalId) headers.set(ClusterHeader.OriginalId, originalId);
    headers.delete('Nats-Msg-Id');
    try {
      await this.#js.publish(this.options.names.deadSubject(hosted.shard), msg.data, { headers });
      // Acknowledged, not terminated: nats-server 2.9 keeps a terminated message in a work-queue stream,
      // where the shard's next consumer (a new owner's) would deliver it again.
      msg.ack();
      this.#logger.error(
        { shard: hosted.shard, seq: msg.seq, reason },
        'message moved to the dead-letter stream (inspect and replay with `parley cluster dead-letters`)',
      );
      return true;
    } catch (error) {
      this.#logger.error(
        { err: error, shard: hosted.shard, seq: msg.seq },
        'could not dead-letter a message; redelivering',
      );
      msg.nak(5000);
      return false;
    }
  }

  /** Publishes the answer of an inbound ask (nothing for a tell), deduplicated by the inbound id. */
  async #answer(msg: JsMsg, status: 'ok' | 'error', value: unknown): Promise<void> {
    const replyTo = msg.headers?.get(ClusterHeader.ReplyTo);
    if (!replyTo) return;
    const correlation = msg.headers?.get('Nats-Msg-Id') ?? `${msg.info.stream}:${msg.seq}`;
    const headers = natsHeaders();
    headers.set(ClusterHeader.Correlation, correlation);
    headers.set(ClusterHeader.Status, status);
    await this.#publisher.publish(replyTo, this.#codec.encode(value), `${correlation}:answer`, headers);
  }

  #whenIdle(hosted: HostedShard, timeoutMs: number): Promise<void> {
    if (hosted.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#logger.warn(
          { shard: hosted.shard, inFlight: hosted.inFlight, timeoutMs },
          'drain timeout: releasing the shard with messages in flight (they will be redelivered)',
        );
        resolve();
      }, timeoutMs);
      hosted.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #addSingleton(name: string, run: (epoch: number) => Promise<() => Promise<void>>): void {
    let stop: (() => Promise<void>) | undefined;
    const halt = async (): Promise<void> => {
      const current = stop;
      stop = undefined;
      await current?.();
    };
    this.#leases!.addSingleton(name, {
      acquired: async (epoch) => {
        stop = await run(epoch);
        this.#logger.info({ singleton: name, node: this.nodeId, epoch }, 'singleton started here');
      },
      releasing: halt,
      lost: halt,
    });
  }

  async #watchReleases(leases: KV): Promise<void> {
    // A closed connection does not come back (reconnects happen under it): nothing to watch any more.
    while (!this.#closed && !this.#nc.isClosed()) {
      try {
        const watch = await leases.watch();
        this.#leaseWatch = watch;
        if (this.#closed) {
          watch.stop();
          return;
        }
        for await (const entry of watch) {
          if (this.#closed) break;
          if (entry.operation !== 'PUT' && !this.#draining) this.#leases?.nudge();
        }
        if (this.#closed) return;
        this.#logger.warn(
          { node: this.nodeId },
          'lease watch ended; opening it again (until then, released shards wait a round)',
        );
      } catch (error) {
        if (this.#closed || this.#nc.isClosed()) return;
        this.#logger.warn(
          { err: error },
          'lease watch failed; opening it again (until then, released shards wait a round)',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
    }
  }

  // ---- asking ---------------------------------------------------------------------------------------

  #settle(msg: JsMsg): void {
    const correlation = msg.headers?.get(ClusterHeader.Correlation);
    if (!correlation) return;
    const pending = this.#pending.get(correlation);
    if (!pending) return; // answered already (a redelivered turn's answer) or given up
    this.#pending.delete(correlation);
    let value: unknown;
    try {
      value = this.#codec.decode(msg.data);
    } catch (error) {
      for (const sink of pending.sinks) sink.reject(new ClusterError('undecodable answer', { cause: error }));
      return;
    }
    if (msg.headers?.get(ClusterHeader.Status) === 'error') {
      const { name, message } = value as { name: string; message: string };
      for (const sink of pending.sinks) sink.reject(new RemoteActorError(name, message));
    } else for (const sink of pending.sinks) sink.resolve(value);
  }

  #failSend(id: string, reply: ReplySink | undefined, error: ClusterError): void {
    if (reply === undefined) {
      this.#logger.error({ err: error }, 'a message could not be sent');
      return;
    }
    const pending = this.#pending.get(id);
    if (pending) {
      const index = pending.sinks.indexOf(reply);
      if (index >= 0) pending.sinks.splice(index, 1);
      if (pending.sinks.length === 0) this.#pending.delete(id);
    }
    reply.reject(error);
  }

  #sweepPending(): void {
    const cutoff = Date.now() - PENDING_ASK_MAX_MS;
    for (const [id, pending] of this.#pending) if (pending.since < cutoff) this.#pending.delete(id);
  }
}

/** Creates the stream, or updates it to this configuration when it exists. */
async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  const full: Partial<StreamConfig> & { name: string } = {
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
    ...config,
  };
  try {
    await jsm.streams.info(config.name);
  } catch {
    await jsm.streams.add(full);
    return;
  }
  await jsm.streams.update(config.name, full);
}

function headerEntries(headers: MsgHdrs | undefined): Array<[string, string[]]> {
  if (!headers) return [];
  return headers.keys().map((key) => [key, headers.values(key)]);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function nanos(ms: number): number {
  return ms * 1_000_000;
}
