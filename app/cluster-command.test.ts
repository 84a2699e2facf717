import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  createActorSystem,
  createNatsTransport,
  type ActorSystem,
  type Ask,
  type NatsTransportOptions,
} from '../runtime/index.js';
import { startNatsServer, type TestNatsServer } from '../test/testkit/index.js';
import { loadConfig } from './config.js';
import { ClusterUsageError, runClusterCommand } from './cluster-command.js';
import { ClusterConnectError } from './errors.js';

/**
 * A core node of 4 shards (lease 30 s, renewed every 10 s) on its own connection, with `register` adding
 * its entities; resolves once it holds every shard.
 */
async function startCore(
  url: string,
  nodeId: string,
  options: Partial<NatsTransportOptions> = {},
  register: (system: ActorSystem) => void = () => undefined,
): Promise<{ nc: NatsConnection; system: ActorSystem } & AsyncDisposable> {
  const nc = await connect({ servers: url });
  const transport = createNatsTransport({
    connection: nc,
    nodeId,
    shards: 4,
    leaseTtl: '30s',
    renewInterval: '10s',
    ...options,
  });
  const system = createActorSystem({ name: nodeId, transport });
  register(system);
  await transport.start();
  while (transport.status().shards.length < 4) await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    nc,
    system,
    async [Symbol.asyncDispose]() {
      await system.shutdown();
      await nc.close();
    },
  };
}

describe('parley cluster', () => {
  let nats: TestNatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats[Symbol.asyncDispose]();
  });

  it("cluster command - status lists the nodes and the shards each owns, by the cluster's lease time; no dead letters", async () => {
    // Renewed every 10 s: when status runs, the entries are older than the CLI's own lease time (5 s by
    // default), and live by the cluster's (30 s).
    await using _core = await startCore(nats.url, 'core-7');
    await new Promise((resolve) => setTimeout(resolve, 5500));
    const config = loadConfig({ env: { NATS_URL: nats.url, PARLEY_CLUSTER_SHARDS: '4' } });
    const lines: string[] = [];
    assert.equal(await runClusterCommand(['status'], config, (line) => lines.push(line)), 0);
    const text = lines.join('\n');
    assert.match(text, /nodes: 1/);
    assert.match(text, /core-7 {2}4 shards .*\[0 1 2 3\]/);
    assert.match(text, /shards: 4 of 4 owned/);
    assert.match(text, /dead letters: 0/);

    const dead: string[] = [];
    await runClusterCommand(['dead-letters'], config, (line) => dead.push(line));
    assert.deepEqual(dead, ['no dead letters']);
  });

  it('cluster command - dead-letters lists a failed message; replay sends it back and it is answered', async () => {
    let broken = true;
    await using core = await startCore(
      nats.url,
      'core-dlq',
      { maxDeliver: 1, messageIdOf: (_target, message) => (message as { id: string }).id },
      (system) =>
        system.registerEntity<{ id: string } & Ask<string>, undefined>('fragile', {
          create: () => ({
            receive(message, ctx) {
              if (broken) throw new Error('the fragile skill is broken');
              ctx.respond(message, `handled ${message.id}`);
            },
          }),
          initialState: () => undefined,
        }),
    );
    const { nc, system } = core;
    await assert.rejects(
      system.entity<{ id: string } & Ask<string>>('fragile', 'f1').ask({ id: 'm-1' }, { timeout: 10_000 }),
      /the fragile skill is broken/,
    );
    const config = loadConfig({ env: { NATS_URL: nats.url, PARLEY_CLUSTER_SHARDS: '4' } });
    const lines: string[] = [];
    assert.equal(await runClusterCommand(['dead-letters'], config, (line) => lines.push(line)), 0);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^1 {2}\S+ {2}fragile\/f1 {2}parley\.in\.\d+ {2}failed 1 times: .*the fragile skill is broken$/,
    );
    assert.match(lines[1]!, /^1 dead letters; replay with/);

    // Fixed, then replayed: the message runs again and the dead-letter stream is empty.
    broken = false;
    const replayed: string[] = [];
    assert.equal(await runClusterCommand(['replay', 'all'], config, (line) => replayed.push(line)), 0);
    assert.match(replayed.join('\n'), /^replayed 1 \(fragile\/f1\) to parley\.in\.\d+$/);
    const empty: string[] = [];
    await runClusterCommand(['dead-letters'], config, (line) => empty.push(line));
    assert.deepEqual(empty, ['no dead letters']);
    // Handled and acknowledged: the work queue is empty again.
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 10_000;
    while ((await jsm.streams.info('PARLEY_IN')).state.messages > 0) {
      assert.ok(Date.now() < deadline, 'the replayed message was not handled within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('cluster command - without NATS_URL, with a bad subcommand or an unreachable server: a clear error', async () => {
    await assert.rejects(runClusterCommand(['status'], loadConfig({ env: {} })), /set NATS_URL/);
    await assert.rejects(
      runClusterCommand(['restart'], loadConfig({ env: { NATS_URL: nats.url } })),
      (error: unknown) =>
        error instanceof ClusterUsageError && /status, dead-letters or replay/.test(error.message),
    );
    await assert.rejects(
      runClusterCommand(['replay', 'x'], loadConfig({ env: { NATS_URL: nats.url } })),
      /not a sequence number: x/,
    );
    await assert.rejects(
      runClusterCommand(['status'], loadConfig({ env: { NATS_URL: 'nats://127.0.0.1:1' } })),
      (error: unknown) => error instanceof ClusterConnectError && /nats-server running/.test(error.message),
    );
  });
});
