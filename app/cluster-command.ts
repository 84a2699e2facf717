/**
 * `parley cluster ...`: what an operator needs to see and fix in a running cluster, read from NATS.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { listDeadLetters, readClusterStatus, replayDeadLetter } from '../runtime/index.js';
import type { Config } from './config-schema.js';
import { ClusterConnectError } from './errors.js';

export const CLUSTER_USAGE = `Cluster (NATS_URL must point at the cluster's NATS):
  parley cluster status                 nodes, and which node owns which shard
  parley cluster dead-letters           messages that failed too often (or could not be read)
  parley cluster replay SEQ... | all    send dead letters back to their shard`;

/** A `parley cluster` invocation that cannot run as typed. */
export class ClusterUsageError extends Error {
  override readonly name = 'ClusterUsageError';
}

export async function runClusterCommand(
  args: readonly string[],
  config: Config,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'status' && sub !== 'dead-letters' && sub !== 'replay') {
    throw new ClusterUsageError(`parley cluster takes status, dead-letters or replay\n\n${CLUSTER_USAGE}`);
  }
  if (!config.natsUrl)
    throw new ClusterUsageError("set NATS_URL (or natsUrl in the config) to the cluster's NATS");
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: config.natsUrl.split(','), name: 'parley-cli' });
  } catch (error) {
    throw new ClusterConnectError(config.natsUrl, { cause: error });
  }
  try {
    switch (sub) {
      case 'status':
        await printStatus(nc, config, out);
        return 0;
      case 'dead-letters':
        await printDeadLetters(nc, out);
        return 0;
      case 'replay':
        return await replay(nc, rest, out);
    }
  } finally {
    await nc.close();
  }
}

async function printStatus(nc: NatsConnection, config: Config, out: (line: string) => void): Promise<void> {
  const shards = config.cluster.shards;
  const status = await readClusterStatus(nc);
  const owned = new Map<string, number[]>();
  for (const [key, lease] of status.leases) {
    const match = /^shard\.(\d+)$/.exec(key);
    if (match) owned.set(lease.node, [...(owned.get(lease.node) ?? []), Number(match[1])]);
  }
  out(`nodes: ${status.nodes.length}`);
  for (const node of status.nodes) {
    const mine = (owned.get(node.node) ?? []).sort((a, b) => a - b);
    const role = node.takesShards ? `${mine.length} shards` : 'gateway';
    const flags = node.draining ? ' (draining)' : '';
    out(
      `  ${node.node}  ${role}${flags}  seen ${node.seenAt.toISOString()}${mine.length ? `  [${mine.join(' ')}]` : ''}`,
    );
  }
  const taken = [...owned.values()].reduce((sum, list) => sum + list.length, 0);
  out(`shards: ${taken} of ${shards} owned${taken < shards ? ' (the rest are being taken over)' : ''}`);
  for (const [key, lease] of status.leases) {
    if (key.startsWith('singleton.')) out(`singleton ${key.slice('singleton.'.length)}: ${lease.node}`);
  }
  out(`inbound messages waiting: ${status.inbound}; dead letters: ${status.deadLetters}`);
}

async function printDeadLetters(nc: NatsConnection, out: (line: string) => void): Promise<void> {
  const letters = await listDeadLetters(nc);
  if (letters.length === 0) {
    out('no dead letters');
    return;
  }
  for (const letter of letters) {
    out(`${letter.seq}  ${letter.at.toISOString()}  ${letter.entity}  ${letter.subject}  ${letter.reason}`);
  }
  out(
    `${letters.length} dead letters; replay with \`parley cluster replay SEQ\` or \`parley cluster replay all\``,
  );
}

async function replay(
  nc: NatsConnection,
  args: readonly string[],
  out: (line: string) => void,
): Promise<number> {
  if (args.length === 0) throw new ClusterUsageError('parley cluster replay takes sequence numbers or `all`');
  const seqs =
    args[0] === 'all'
      ? (await listDeadLetters(nc)).map((letter) => letter.seq)
      : args.map((arg) => {
          const seq = Number(arg);
          if (!Number.isInteger(seq) || seq < 1) throw new ClusterUsageError(`not a sequence number: ${arg}`);
          return seq;
        });
  for (const seq of seqs) {
    const letter = await replayDeadLetter(nc, seq);
    out(`replayed ${seq} (${letter.entity}) to ${letter.subject}`);
  }
  return 0;
}
