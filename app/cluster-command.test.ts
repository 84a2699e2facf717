import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { createActorSystem, createNatsTransport } from '../runtime/index.js';
import { startNatsServer, type TestNatsServer } from '../test/testkit/index.js';
import { loadConfig } from './config.js';
import { ClusterUsageError, runClusterCommand } from './cluster-command.js';
import { ClusterConnectError } from './errors.js';

describe('parley cluster', () => {
  let nats: TestNatsServer;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats[Symbol.asyncDispose]();
  });

  it("cluster command - status lists the nodes and the shards each owns, by the cluster's lease time; no dead letters", async () => {
    const nc = await connect({ servers: nats.url });
    // Renewed every 10 s: when status runs, the entries are older than the CLI's own lease time (5 s by
    // default), and live by the cluster's (30 s).
    const transport = createNatsTransport({
      connection: nc,
      nodeId: 'core-7',
      shards: 4,
      leaseTtl: '30s',
      renewInterval: '10s',
    });
    const system = createActorSystem({ name: 'status', transport });
    await transport.start();
    try {
      while (transport.status().shards.length < 4) await new Promise((resolve) => setTimeout(resolve, 50));
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
    } finally {
      await system.shutdown();
      await nc.close();
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
