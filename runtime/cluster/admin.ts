/**
 * Operators' view of a cluster, read straight from NATS: who is alive, who owns which shard, and the
 * dead-letter stream with a way to send its messages back.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { clusterNames } from './cluster-options.js';
import { ClusterError } from './errors.js';
import { readLeases, readNodes, type LeaseView, type NodeView } from './leases.js';
import { ClusterHeader } from './nats-transport.js';

export interface ClusterStatus {
  readonly nodes: readonly NodeView[];
  /** Live leases by key (`shard.<n>`, `singleton.<name>`). */
  readonly leases: ReadonlyMap<string, LeaseView>;
  /** Messages waiting in the inbound stream, and in the dead-letter stream. */
  readonly inbound: number;
  readonly deadLetters: number;
}

/**
 * The cluster as NATS holds it now. Leases and node entries older than the cluster's lease time (the
 * lease bucket's `max_age`, not whatever the reader was configured with) are not live.
 */
export async function readClusterStatus(
  nc: NatsConnection,
  options: { prefix?: string } = {},
): Promise<ClusterStatus> {
  const names = clusterNames(options.prefix ?? 'parley');
  const kvm = new Kvm(nc);
  const [leases, nodes] = await Promise.all([kvm.open(names.leaseBucket), kvm.open(names.nodeBucket)]).catch(
    (error: unknown) => {
      throw new ClusterError('no cluster found on this NATS server (has a core node started yet?)', {
        cause: error,
      });
    },
  );
  const leaseTtlMs = (await leases.status()).ttl;
  const jsm = await jetstreamManager(nc);
  const count = async (stream: string): Promise<number> =>
    (await jsm.streams.info(stream).catch(() => undefined))?.state.messages ?? 0;
  return {
    nodes: await readNodes(nodes, jsm, leaseTtlMs),
    leases: await readLeases(leases, jsm, leaseTtlMs),
    inbound: await count(names.inStream),
    deadLetters: await count(names.deadStream),
  };
}

/** A message that failed `maxDeliver` times or could not be decoded. */
export interface DeadLetteredMessage {
  /** Its sequence in the dead-letter stream: what `replayDeadLetter` takes. */
  readonly seq: number;
  readonly at: Date;
  readonly entity: string;
  readonly reason: string;
  /** The inbound subject it came from (its shard). */
  readonly subject: string;
  readonly messageId: string | undefined;
  readonly bytes: number;
}

export async function listDeadLetters(nc: NatsConnection, prefix = 'parley'): Promise<DeadLetteredMessage[]> {
  const names = clusterNames(prefix);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.deadStream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const letters: DeadLetteredMessage[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const stored = await jsm.streams.getMessage(names.deadStream, { seq }).catch(() => null);
    if (stored) letters.push(toDeadLetter(stored));
  }
  return letters;
}

/**
 * Publishes dead letter `seq` again to the shard it came from, then removes it from the dead-letter
 * stream. Its idempotency id is kept inside the message, so a turn that did get stored is not run twice.
 */
export async function replayDeadLetter(
  nc: NatsConnection,
  seq: number,
  prefix = 'parley',
): Promise<DeadLetteredMessage> {
  const names = clusterNames(prefix);
  const jsm = await jetstreamManager(nc);
  const stored = await jsm.streams.getMessage(names.deadStream, { seq }).catch(() => null);
  if (!stored) throw new ClusterError(`no dead letter with sequence ${seq}`);
  const letter = toDeadLetter(stored);
  const headers = natsHeaders();
  for (const key of stored.header.keys()) {
    if (
      key === ClusterHeader.Reason ||
      key === ClusterHeader.OriginalSubject ||
      key === ClusterHeader.OriginalId
    )
      continue;
    for (const value of stored.header.values(key)) headers.append(key, value);
  }
  // A fresh Nats-Msg-Id: the original one may still be inside the stream's duplicate window.
  await jetstream(nc).publish(letter.subject, stored.data, {
    headers,
    msgID: `${letter.messageId ?? 'dead'}:replay:${seq}`,
  });
  await jsm.streams.deleteMessage(names.deadStream, seq);
  return letter;
}

function toDeadLetter(stored: StoredMsg): DeadLetteredMessage {
  const header = (key: string): string | undefined => {
    const value = stored.header.get(key);
    return value === '' ? undefined : value;
  };
  return {
    seq: stored.seq,
    at: stored.time,
    entity: `${header(ClusterHeader.Kind) ?? '?'}/${header(ClusterHeader.Id) ?? '?'}`,
    reason: header(ClusterHeader.Reason) ?? '',
    subject: header(ClusterHeader.OriginalSubject) ?? '',
    messageId: header(ClusterHeader.OriginalId),
    bytes: stored.data.length,
  };
}
