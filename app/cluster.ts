/**
 * Cluster membership of a `core` or `gateway` node: the NATS connection and the runtime's NATS transport,
 * configured for conversations (a message's idempotency id is its `Nats-Msg-Id`; answers come back on the
 * channel's reply subject).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createNatsTransport, parseDuration, type NatsTransport } from '../runtime/index.js';
import type { ConversationMessage } from '../actors/conversation/index.js';
import { StoreConnectionError } from '../store/index.js';
import type { Config } from './config-schema.js';
import { ClusterConnectError } from './errors.js';
import type { Logger } from './logger.js';

export interface ClusterMembership {
  readonly transport: NatsTransport;
  readonly connection: NatsConnection;
  /** Whether the NATS connection is up (for readiness). */
  connected(): boolean;
  /** Closes the connection; call after the actor system shut down (which drains the transport). */
  close(): Promise<void>;
}

export async function joinCluster(
  config: Config,
  logger: Logger,
  role: { hostsEntities: boolean },
): Promise<ClusterMembership> {
  const servers = (config.natsUrl ?? '').split(',');
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers,
      name: config.cluster.nodeId ?? `parley-${config.role}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // nats.js otherwise captures a stack trace for every request (each JetStream publish): ~4% of a
      // core node's CPU under load, for timeouts that name where they started.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new ClusterConnectError(servers.join(','), { cause: error });
  }
  let up = true;
  void (async () => {
    for await (const status of connection.status()) {
      switch (status.type) {
        case 'disconnect':
          up = false;
          logger.warn(
            { server: status.server },
            'NATS connection lost; pausing cluster work and reconnecting',
          );
          break;
        case 'reconnect':
          up = true;
          logger.info({ server: status.server }, 'NATS connection back; resuming');
          break;
        default:
          break;
      }
    }
  })();
  let transport: NatsTransport;
  try {
    transport = createNatsTransport({
      connection,
      ...(config.cluster.nodeId === undefined ? {} : { nodeId: config.cluster.nodeId }),
      shards: config.cluster.shards,
      leaseTtl: config.cluster.leaseTtl,
      maxDeliver: config.cluster.maxDeliver,
      drainTimeout: parseDuration(config.cluster.drainTimeout),
      hostsEntities: role.hostsEntities,
      logger: logger.child({ area: 'cluster' }),
      messageIdOf: (_target, message) => {
        const conversation = message as ConversationMessage;
        return conversation.type === 'inbound' ? conversation.message.id : undefined;
      },
      // The database restarting is not the message's fault: retry it until Postgres is back.
      isTransient: isDatabaseUnavailable,
      replyTokenOf: (_target, message) => {
        const conversation = message as ConversationMessage;
        return conversation.type === 'inbound' ? conversation.message.channel : 'inspect';
      },
    });
  } catch (error) {
    // Nothing owns the connection yet: left open, it would keep the process alive after the error.
    await connection.close();
    throw error;
  }
  return {
    transport,
    connection,
    connected: () => up && !connection.isClosed(),
    close: async () => {
      await connection.close();
    },
  };
}

/** Postgres is unreachable or restarting somewhere in `error`'s cause chain. */
export function isDatabaseUnavailable(error: Error): boolean {
  const codes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001']);
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 10; depth++) {
    if (cause instanceof StoreConnectionError) return true;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
    if (/Connection terminated|terminating connection due to administrator command/.test(cause.message))
      return true;
    cause = cause.cause;
  }
  return false;
}
