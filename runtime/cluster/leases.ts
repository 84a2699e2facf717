/**
 * Leases in a JetStream KV bucket: which node owns which shard (and which cluster singleton).
 *
 * - Take: `create` (succeeds only when the key is absent). Renew: `update` with the last revision
 *   (compare-and-set). Release: `delete` with the last revision. Expiry: the bucket's `max_age` is the
 *   lease time (the Debian nats-server 2.9 has no per-key TTL), so a lease nobody renews disappears.
 * - The revision returned by `create` is the lease's fencing epoch. Revisions grow across the whole bucket,
 *   so whoever takes a shard next has a higher epoch than every earlier owner.
 * - A node stops a shard's work once it has gone `LOSS_FRACTION` of the lease time without a successful
 *   renewal, measured from when it sent the last one that succeeded: before the lease can pass to anyone.
 * - Balance: every node computes the same assignment from the live nodes (rendezvous hashing with a cap of
 *   `ceil(shards / nodes)` each), takes the free shards assigned to it and releases the ones assigned to
 *   others. Nodes announce themselves in a second bucket with the same `max_age`.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { RuntimeLogger } from '../logger.js';
import { fnv1a32 } from '../sharding.js';

/** Fraction of the lease time after the last successful renewal at which a node gives a lease up. */
const LOSS_FRACTION = 0.6;

/** One lease this node may hold, with what to do when it gains or loses it. */
export interface LeaseClaim {
  /** Key in the lease bucket: `shard.<n>` or `singleton.<name>`. */
  readonly key: string;
  /** Start the work the lease guards; `epoch` fences it. A rejection releases the lease. */
  acquired(epoch: number): Promise<void>;
  /** Graceful: finish the work in flight and stop; the lease is deleted after it resolves. */
  releasing(): Promise<void>;
  /** Abrupt: the lease is gone or about to be (not renewed in time, or taken); stop at once. */
  lost(reason: string): Promise<void>;
}

/** A lease as everyone sees it in the bucket. */
export interface LeaseView {
  readonly key: string;
  readonly node: string;
  /** Revision of the last write (take or renewal). */
  readonly revision: number;
  readonly writtenAt: Date;
}

/** A node as it announces itself. */
export interface NodeView {
  readonly node: string;
  readonly draining: boolean;
  /** False for a node that only sends (a gateway). */
  readonly takesShards: boolean;
  /** The cluster's shard count as this node has it (every node must agree); unknown from older nodes. */
  readonly shards: number | undefined;
  readonly seenAt: Date;
}

interface HeldLease {
  readonly claim: LeaseClaim;
  readonly epoch: number;
  revision: number;
  /** Local time the last successful renewal (or the take) was sent. */
  renewedAt: number;
  state: 'held' | 'releasing';
  /** The renewal under way, if any: a release waits for it, or its delete would name a stale revision. */
  renewing?: Promise<unknown> | undefined;
}

export interface LeaseManagerOptions {
  readonly leases: KV;
  readonly nodes: KV;
  /** Lists the buckets' keys (see `listKeys`). */
  readonly jsm: JetStreamManager;
  readonly nodeId: string;
  readonly shards: number;
  readonly leaseTtlMs: number;
  readonly renewIntervalMs: number;
  /** Whether this node takes shards (a gateway takes none, but may run singletons). */
  readonly takesShards: boolean;
  /** The claim for shard `n`, made when the node wants it. */
  shardClaim(shard: number): LeaseClaim;
  readonly logger: RuntimeLogger;
}

export const shardKey = (shard: number): string => `shard.${shard}`;
export const singletonKey = (name: string): string => `singleton.${name}`;

export class LeaseManager {
  readonly #options: LeaseManagerOptions;
  readonly #held = new Map<string, HeldLease>();
  readonly #singletons = new Map<string, LeaseClaim>();
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #draining = false;
  #stopped = false;
  /** Keys being taken now. */
  readonly #taking = new Set<string>();
  /** Takes and releases under way. */
  readonly #operations = new Set<Promise<void>>();

  constructor(options: LeaseManagerOptions) {
    this.#options = options;
  }

  /** Announces the node and starts taking, renewing and balancing leases. */
  async start(): Promise<void> {
    await this.#tick();
    this.#timer = setInterval(() => void this.#tick(), this.#options.renewIntervalMs);
    this.#watchdog = setInterval(() => this.#checkDeadlines(), Math.min(250, this.#options.renewIntervalMs));
  }

  /** Runs `claim` on whichever node of the cluster takes `singleton.<name>` first, moving on failure. */
  addSingleton(name: string, claim: Omit<LeaseClaim, 'key'>): void {
    const key = singletonKey(name);
    this.#singletons.set(key, { ...claim, key });
    void this.#tick();
  }

  /** Shards (and singletons) this node holds now, with their epochs. */
  held(): Array<{ key: string; epoch: number; state: 'held' | 'releasing' }> {
    return [...this.#held.values()].map((lease) => ({
      key: lease.claim.key,
      epoch: lease.epoch,
      state: lease.state,
    }));
  }

  /** Wakes the balancer now (e.g. a lease was released elsewhere). */
  nudge(): void {
    void this.#tick();
  }

  /**
   * Stops taking leases, announces the drain, releases every held lease after its work finished (so others
   * take over without waiting for expiry), and leaves the node list.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    await this.#announce().catch(() => undefined);
    await this.#ticking;
    await Promise.all(this.#operations);
    await Promise.all([...this.#held.values()].map((lease) => this.#release(lease)));
    this.#stopTimers();
    await this.#options.nodes.delete(this.#options.nodeId).catch(() => undefined);
  }

  /** Stops renewing without releasing (the leases expire); for a node that is going away abruptly. */
  stop(): void {
    this.#stopTimers();
  }

  #stopTimers(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearInterval(this.#watchdog);
  }

  #tick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#ticking) {
      this.#again = true;
      return this.#ticking;
    }
    this.#ticking = (async () => {
      try {
        do {
          this.#again = false;
          await Promise.all([this.#announce(), this.#renewAll()]);
          if (!this.#draining) await this.#balance();
          // Not again once draining: a drain waits for this round, and renewals slower than the interval
          // would otherwise keep it going for ever. The timer still renews what is held until released.
        } while (this.#again && !this.#stopped && !this.#draining);
      } catch (error) {
        this.#options.logger.warn(
          { err: error, node: this.#options.nodeId },
          'lease upkeep failed (NATS unreachable?); retrying on the next round',
        );
      } finally {
        this.#ticking = undefined;
      }
    })();
    return this.#ticking;
  }

  async #announce(): Promise<void> {
    const view = {
      draining: this.#draining,
      takesShards: this.#options.takesShards,
      shards: this.#options.shards,
      at: Date.now(),
    };
    await this.#options.nodes.put(this.#options.nodeId, JSON.stringify(view));
  }

  async #renewAll(): Promise<void> {
    await Promise.all([...this.#held.values()].map((lease) => this.#renew(lease)));
  }

  async #renew(lease: HeldLease): Promise<void> {
    const sentAt = Date.now();
    const renewal = this.#options.leases.update(lease.claim.key, this.#value(), lease.revision);
    lease.renewing = renewal.catch(() => undefined);
    try {
      lease.revision = await renewal;
      lease.renewedAt = sentAt;
    } catch (error) {
      if (this.#held.get(lease.claim.key) !== lease) return;
      if (isWrongRevision(error)) {
        this.#track(this.#lose(lease, 'the lease was taken by another node or expired'));
      } else {
        this.#options.logger.warn(
          { err: error, lease: lease.claim.key, node: this.#options.nodeId },
          'could not renew lease; will stop its work if this lasts',
        );
      }
    }
  }

  /** Gives up leases not renewed in time, even when a renewal request hangs. */
  #checkDeadlines(): void {
    const limit = this.#options.leaseTtlMs * LOSS_FRACTION;
    const now = Date.now();
    for (const lease of this.#held.values()) {
      if (now - lease.renewedAt > limit) {
        void this.#lose(lease, `not renewed for ${now - lease.renewedAt} ms (NATS unreachable?)`);
      }
    }
  }

  async #balance(): Promise<void> {
    const [leases, nodes] = await Promise.all([this.#readLeases(), this.#readNodes()]);
    const wanted = new Set<string>(this.#singletons.keys());
    if (this.#options.takesShards) {
      const takers = nodes.filter((node) => node.takesShards && !node.draining).map((node) => node.node);
      for (const shard of assignShards(
        this.#options.shards,
        [...takers, this.#options.nodeId],
        this.#options.nodeId,
      )) {
        wanted.add(shardKey(shard));
      }
    }
    // Started, not awaited: starting or finishing a shard's work can take long (a release waits for its
    // in-flight turns), and the next round's renewals of the other leases must not wait for it.
    for (const lease of this.#held.values()) {
      if (lease.state === 'held' && !wanted.has(lease.claim.key)) this.#track(this.#release(lease));
    }
    for (const key of wanted) {
      if (!this.#held.has(key) && !this.#taking.has(key)) {
        this.#taking.add(key);
        this.#track(this.#take(key, leases.get(key)).finally(() => this.#taking.delete(key)));
      }
    }
  }

  /** Keeps `operation` until it settles, so a drain can wait for takes and releases under way. */
  #track(operation: Promise<void>): void {
    this.#operations.add(operation);
    void operation.finally(() => this.#operations.delete(operation));
  }

  async #take(key: string, current: LeaseView | undefined): Promise<void> {
    const claim = this.#claimFor(key);
    if (claim === undefined) return;
    const sentAt = Date.now();
    let revision: number;
    try {
      if (current === undefined) revision = await this.#options.leases.create(key, this.#value());
      // Ours from before a NATS outage or a restart under the same node id: take it back.
      else if (current.node === this.#options.nodeId) {
        revision = await this.#options.leases.update(key, this.#value(), current.revision);
      } else return;
    } catch (error) {
      if (!isWrongRevision(error)) {
        this.#options.logger.warn({ err: error, lease: key }, 'could not take lease');
      }
      return;
    }
    const lease: HeldLease = { claim, epoch: revision, revision, renewedAt: sentAt, state: 'held' };
    this.#held.set(key, lease);
    this.#options.logger.info({ lease: key, epoch: revision, node: this.#options.nodeId }, 'lease taken');
    try {
      await claim.acquired(revision);
    } catch (error) {
      this.#options.logger.error(
        { err: error, lease: key },
        'could not start the work of a lease; releasing it',
      );
      await this.#release(lease);
    }
  }

  async #release(lease: HeldLease): Promise<void> {
    if (lease.state === 'releasing' || this.#held.get(lease.claim.key) !== lease) return;
    lease.state = 'releasing';
    try {
      await lease.claim.releasing();
    } catch (error) {
      this.#options.logger.error({ err: error, lease: lease.claim.key }, 'releasing a lease failed');
    }
    if (this.#held.get(lease.claim.key) !== lease) return; // lost meanwhile
    this.#held.delete(lease.claim.key);
    await lease.renewing; // no renewal starts after this: the lease is no longer held
    try {
      await this.#options.leases.delete(lease.claim.key, { previousSeq: lease.revision });
      this.#options.logger.info({ lease: lease.claim.key, node: this.#options.nodeId }, 'lease released');
    } catch (error) {
      this.#options.logger.warn(
        { err: error, lease: lease.claim.key },
        'could not delete a released lease; it expires instead',
      );
    }
  }

  async #lose(lease: HeldLease, reason: string): Promise<void> {
    if (this.#held.get(lease.claim.key) !== lease) return;
    this.#held.delete(lease.claim.key);
    this.#options.logger.warn(
      { lease: lease.claim.key, epoch: lease.epoch, node: this.#options.nodeId, reason },
      'lease lost; stopping its work',
    );
    try {
      await lease.claim.lost(reason);
    } catch (error) {
      this.#options.logger.error(
        { err: error, lease: lease.claim.key },
        'stopping the work of a lost lease failed',
      );
    }
  }

  #claimFor(key: string): LeaseClaim | undefined {
    const singleton = this.#singletons.get(key);
    if (singleton) return singleton;
    const match = /^shard\.(\d+)$/.exec(key);
    return match ? this.#options.shardClaim(Number(match[1])) : undefined;
  }

  #value(): string {
    return JSON.stringify({ node: this.#options.nodeId, at: Date.now() });
  }

  // Bounded by the renew interval: the next round's renewals wait for this one, so a read that hangs (a
  // request to a server that stopped answering) must not stop them.
  #readLeases(): Promise<Map<string, LeaseView>> {
    return readLeases(
      this.#options.leases,
      this.#options.jsm,
      this.#options.leaseTtlMs,
      this.#options.renewIntervalMs,
    );
  }

  #readNodes(): Promise<NodeView[]> {
    return readNodes(
      this.#options.nodes,
      this.#options.jsm,
      this.#options.leaseTtlMs,
      this.#options.renewIntervalMs,
    );
  }
}

/** The live leases in a bucket (entries older than the lease time are about to expire and left out). */
export async function readLeases(
  bucket: KV,
  jsm: JetStreamManager,
  leaseTtlMs: number,
  timeoutMs = READ_TIMEOUT_MS,
): Promise<Map<string, LeaseView>> {
  const views = new Map<string, LeaseView>();
  for (const entry of await readAll(bucket, jsm, timeoutMs)) {
    if (Date.now() - entry.created.getTime() > leaseTtlMs) continue;
    const { node } = entry.json<{ node: string }>();
    views.set(entry.key, { key: entry.key, node, revision: entry.revision, writtenAt: entry.created });
  }
  return views;
}

/** The nodes that announced themselves within the lease time. */
export async function readNodes(
  bucket: KV,
  jsm: JetStreamManager,
  leaseTtlMs: number,
  timeoutMs = READ_TIMEOUT_MS,
): Promise<NodeView[]> {
  const views: NodeView[] = [];
  for (const entry of await readAll(bucket, jsm, timeoutMs)) {
    if (Date.now() - entry.created.getTime() > leaseTtlMs) continue;
    const { draining, takesShards, shards } = entry.json<Omit<NodeView, 'node' | 'seenAt'>>();
    views.push({ node: entry.key, draining, takesShards, shards, seenAt: entry.created });
  }
  return views.sort((a, b) => a.node.localeCompare(b.node));
}

const READ_TIMEOUT_MS = 5000;

/** Every live entry of a bucket; rejects after `timeoutMs` rather than answer with part of it. */
async function readAll(bucket: KV, jsm: JetStreamManager, timeoutMs: number): Promise<KvEntry[]> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`reading the entries of a bucket took over ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        const keys = await listKeys(bucket, jsm);
        const entries = await Promise.all(keys.map((key) => bucket.get(key)));
        return entries.filter((entry): entry is KvEntry => entry !== null && entry.operation === 'PUT');
      })(),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each bucket's stream and the prefix of its keys' subjects, asked once. */
const streamsOf = new WeakMap<KV, Promise<{ stream: string; prefix: string }>>();

/**
 * A bucket's keys, from its stream's subjects: one request. `KV.keys()` makes a consumer for each listing,
 * which the server keeps for minutes after it ends (its inactivity threshold); a node lists two buckets
 * every lease round, so hundreds of them piled up on the buckets' streams. A key whose entry expires
 * between the two reads is listed here and then not found: `readAll` leaves it out.
 */
async function listKeys(bucket: KV, jsm: JetStreamManager): Promise<string[]> {
  let stream = streamsOf.get(bucket);
  if (stream === undefined) {
    stream = bucket.status().then((status) => ({
      stream: status.streamInfo.config.name,
      prefix: `$KV.${status.bucket}.`,
    }));
    streamsOf.set(bucket, stream);
    stream.catch(() => streamsOf.delete(bucket));
  }
  const { stream: name, prefix } = await stream;
  const info = await jsm.streams.info(name, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

/**
 * The shards `node` should own among `nodes`: each shard goes to the node that ranks it highest
 * (rendezvous hashing, so few shards move when a node comes or goes) among those still under the cap of
 * `ceil(shards / nodes)`. Every node computes the same answer from the same node list.
 */
export function assignShards(shards: number, nodes: readonly string[], node: string): number[] {
  const sorted = [...new Set(nodes)].sort();
  if (!sorted.includes(node)) return [];
  const cap = Math.ceil(shards / sorted.length);
  const load = new Map(sorted.map((n) => [n, 0]));
  const mine: number[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const ranked = sorted
      .map((n) => ({ n, score: fnv1a32(`${n}/${shard}`) }))
      .sort((a, b) => b.score - a.score || a.n.localeCompare(b.n));
    const owner = ranked.find(({ n }) => (load.get(n) ?? 0) < cap)!.n;
    load.set(owner, (load.get(owner) ?? 0) + 1);
    if (owner === node) mine.push(shard);
  }
  return mine;
}

/** JetStream's answer to a compare-and-set whose expected revision is not the current one. */
function isWrongRevision(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
  return code === 10071 || /wrong last sequence|key exists/i.test(error.message);
}
