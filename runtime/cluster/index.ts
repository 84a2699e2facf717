/**
 * Clustering: entities spread over nodes by shard, shards owned through leases in a NATS KV bucket, and
 * messages carried by JetStream. `createNatsTransport` is the entry point; pass it to `createActorSystem`.
 */
export { clusterNames, compileClusterOptions } from './cluster-options.js';
export type { ClusterNames, ClusterOptions, CompiledClusterOptions } from './cluster-options.js';
export { ClusterError, RemoteActorError } from './errors.js';
export { assignShards, readLeases, readNodes } from './leases.js';
export type { LeaseView, NodeView } from './leases.js';
export { ClusterHeader, createNatsTransport, jsonCodec } from './nats-transport.js';
export type { MessageCodec, NatsTransport, NatsTransportOptions, NodeStatus } from './nats-transport.js';
export { JetStreamPublisher } from './publisher.js';
export type { PubAck } from './publisher.js';
export { listDeadLetters, readClusterStatus, replayDeadLetter } from './admin.js';
export type { ClusterStatus, DeadLetteredMessage } from './admin.js';
