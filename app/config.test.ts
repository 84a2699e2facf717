import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { componentsFor } from './roles.js';

async function configFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-config-'));
  const file = join(dir, 'parley.json');
  await writeFile(file, content);
  return file;
}

function issuesOf(load: () => unknown): ConfigError['issues'] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('config', () => {
  it('config - defaults give the embedded mode', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/parley' });
    assert.equal(config.role, 'all');
    assert.equal(config.dataDir, '/srv/parley/data');
    assert.equal(config.databaseUrl, undefined);
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 8787 });
    assert.equal(config.conversation.processingTimeout, '10s');
  });

  it('config - environment overrides the file, which overrides the defaults', async () => {
    const file = await configFile(
      JSON.stringify({ http: { port: 9000, host: '0.0.0.0' }, log: { level: 'debug' } }),
    );
    const config = loadConfig({
      file,
      env: { PARLEY_HTTP_PORT: '9100', PARLEY_DATA_DIR: '/var/lib/parley' },
    });
    assert.equal(config.http.port, 9100);
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.dataDir, '/var/lib/parley');
  });

  it('config - PARLEY_CONFIG names the file', async () => {
    const file = await configFile(JSON.stringify({ timezone: 'Asia/Tokyo' }));
    assert.equal(loadConfig({ env: { PARLEY_CONFIG: file } }).timezone, 'Asia/Tokyo');
  });

  it('config - unknown keys are rejected with their path and file', async () => {
    const file = await configFile(JSON.stringify({ http: { port: 1, prot: 2 }, colour: 'blue' }));
    const issues = issuesOf(() => loadConfig({ file, env: {} }));
    assert.deepEqual(issues.map((issue) => [issue.path, issue.source, issue.message]).sort(), [
      ['colour', file, 'unknown key'],
      ['http.prot', file, 'unknown key'],
    ]);
  });

  it('config - bad values name the key, the variable and the value', () => {
    const issues = issuesOf(() =>
      loadConfig({
        env: { PARLEY_HTTP_PORT: 'eighty', PARLEY_IDLE_TIMEOUT: '5 minutes', DATABASE_URL: 'mysql://db' },
      }),
    );
    const byPath = new Map(issues.map((issue) => [issue.path, issue]));
    assert.equal(byPath.get('http.port')?.source, 'PARLEY_HTTP_PORT');
    assert.match(byPath.get('http.port')?.message ?? '', /expected number.*got "eighty"/);
    assert.equal(byPath.get('conversation.idleTimeout')?.source, 'PARLEY_IDLE_TIMEOUT');
    assert.match(byPath.get('databaseUrl')?.message ?? '', /postgres:\/\//);
  });

  it('config - an unknown PARLEY_ variable is reported, test variables are not', () => {
    const issues = issuesOf(() =>
      loadConfig({ env: { PARLEY_HTTP_PROT: '1', PARLEY_TEST_POSTGRES_URL: 'x' } }),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['PARLEY_HTTP_PROT'],
    );
  });

  it('config - an unreadable or non-JSON file is a clear error', async () => {
    const broken = await configFile('{ "http": ');
    assert.match(issuesOf(() => loadConfig({ file: broken, env: {} }))[0]?.message ?? '', /not valid JSON/);
    assert.match(
      issuesOf(() => loadConfig({ file: '/nonexistent/parley.json', env: {} }))[0]?.message ?? '',
      /cannot read the config file/,
    );
    const array = await configFile('[]');
    assert.match(issuesOf(() => loadConfig({ file: array, env: {} }))[0]?.message ?? '', /JSON object/);
  });

  it('config - a skill call timeout must be shorter than the processing timeout', () => {
    const issues = issuesOf(() =>
      loadConfig({ env: { PARLEY_PLUGIN_CALL_TIMEOUT: '20s', PARLEY_PROCESSING_TIMEOUT: '10s' } }),
    );
    assert.equal(issues[0]?.path, 'plugins.callTimeout');
    assert.match(issues[0]?.message ?? '', /shorter than conversation.processingTimeout/);
  });

  it('config - time zone aliases are accepted', () => {
    assert.equal(loadConfig({ env: { PARLEY_TIMEZONE: 'US/Eastern' } }).timezone, 'US/Eastern');
  });

  it('config - an unknown time zone is rejected', () => {
    const issues = issuesOf(() => loadConfig({ env: { PARLEY_TIMEZONE: 'Mars/Olympus_Mons' } }));
    assert.equal(issues[0]?.path, 'timezone');
  });
});

describe('roles', () => {
  it('roles - all runs core and gateway, core and gateway one each, inference only the model service', () => {
    assert.deepEqual(componentsFor('all'), { core: true, gateway: true, inference: false });
    assert.deepEqual(componentsFor('core'), { core: true, gateway: false, inference: false });
    assert.deepEqual(componentsFor('gateway'), { core: false, gateway: true, inference: false });
    assert.deepEqual(componentsFor('inference'), { core: false, gateway: false, inference: true });
  });

  it('config - cluster roles need NATS, core needs Postgres; each refusal names the key', () => {
    assert.throws(
      () => loadConfig({ env: { PARLEY_ROLE: 'gateway' } }),
      (error: unknown) => error instanceof ConfigError && /natsUrl.*NATS_URL/s.test(error.message),
    );
    assert.throws(
      () => loadConfig({ env: { PARLEY_ROLE: 'core', NATS_URL: 'nats://127.0.0.1:4222' } }),
      (error: unknown) => error instanceof ConfigError && /databaseUrl.*DATABASE_URL/s.test(error.message),
    );
    const config = loadConfig({
      env: {
        PARLEY_ROLE: 'core',
        NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
        DATABASE_URL: 'postgres://parley@db/parley',
        PARLEY_NODE_ID: 'core-1',
        PARLEY_CLUSTER_SHARDS: '64',
        PARLEY_CLUSTER_LEASE_TTL: '8s',
      },
    });
    assert.equal(config.cluster.nodeId, 'core-1');
    assert.equal(config.cluster.shards, 64);
    assert.equal(config.cluster.leaseTtl, '8s');
    assert.throws(
      () => loadConfig({ env: { NATS_URL: 'http://x:4222' } }),
      (error: unknown) => error instanceof ConfigError && /natsUrl \(NATS_URL\)/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ env: { PARLEY_NODE_ID: 'core.1' } }),
      (error: unknown) => error instanceof ConfigError && /cluster\.nodeId/.test(error.message),
    );
  });

  it('config - inference settings from the environment, and TLS settings that cannot work are refused', () => {
    const config = loadConfig({
      env: {
        PARLEY_INFERENCE_ADDRESS: '10.0.0.7:50051',
        PARLEY_INFERENCE_THREADS: '2',
        PARLEY_INFERENCE_PRECISION: 'fp32',
        PARLEY_INFERENCE_TLS_CA: 'ca.crt',
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    assert.equal(config.inference.address, '10.0.0.7:50051');
    assert.equal(config.inference.threads, 2);
    assert.equal(config.inference.precision, 'fp32');
    assert.equal(config.inference.listen, '127.0.0.1:50051');
    assert.equal(config.inference.tls?.ca, 'ca.crt');
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');

    assert.equal(
      issuesOf(() => loadConfig({ env: { PARLEY_INFERENCE_ADDRESS: 'nowhere' } }))[0]?.path,
      'inference.address',
    );
    assert.equal(issuesOf(() => loadConfig({ env: { REDIS_URL: 'http://x' } }))[0]?.path, 'redisUrl');
    const certWithoutKey = issuesOf(() => loadConfig({ env: { PARLEY_INFERENCE_TLS_CERT: 'server.crt' } }));
    assert.match(certWithoutKey[0]?.message ?? '', /certificate needs its key/);
    const mutualWithoutCa = issuesOf(() =>
      loadConfig({
        env: {
          PARLEY_INFERENCE_TLS_CERT: 's.crt',
          PARLEY_INFERENCE_TLS_KEY: 's.key',
          PARLEY_INFERENCE_TLS_REQUIRE_CLIENT_CERT: 'true',
        },
      }),
    );
    assert.equal(mutualWithoutCa[0]?.path, 'inference.tls.requireClientCert');
  });

  it('config - a cluster lease time under 1s is refused naming the setting', () => {
    const issues = issuesOf(() => loadConfig({ env: { PARLEY_CLUSTER_LEASE_TTL: '500ms' } }));
    assert.equal(issues[0]?.path, 'cluster.leaseTtl');
    assert.match(issues[0]?.message ?? '', /at least 1s/);
    assert.equal(loadConfig({ env: { PARLEY_CLUSTER_LEASE_TTL: '1s' } }).cluster.leaseTtl, '1s');
  });

  it('config - inference limits out of range, or not numbers, are refused naming the setting', () => {
    const refused: Array<[string, string, string]> = [
      ['PARLEY_INFERENCE_THREADS', '0', 'inference.threads'],
      ['PARLEY_INFERENCE_PRECISION', 'int4', 'inference.precision'],
      ['PARLEY_INFERENCE_MAX_BATCH', '0', 'inference.maxBatch'],
      ['PARLEY_INFERENCE_MAX_BATCH', 'lots', 'inference.maxBatch'],
      ['PARLEY_INFERENCE_MAX_QUEUE_DELAY_US', '-1', 'inference.maxQueueDelayMicros'],
      ['PARLEY_INFERENCE_MAX_QUEUE', '2.5', 'inference.maxQueue'],
      ['PARLEY_INFERENCE_DEADLINE', 'soon', 'inference.deadline'],
      ['PARLEY_INFERENCE_CACHE_SIZE', '-5', 'inference.cacheSize'],
      ['PARLEY_INFERENCE_MAX_TEXT_CHARS', '0', 'inference.maxTextChars'],
      ['PARLEY_INFERENCE_MAX_BATCH_TEXTS', 'many', 'inference.maxBatchTexts'],
    ];
    for (const [name, value, path] of refused) {
      const issues = issuesOf(() => loadConfig({ env: { [name]: value } }));
      assert.equal(issues[0]?.path, path, `${name}=${value}`);
      assert.ok(issues[0]?.message, `${name}=${value} says why`);
    }
    const tuned = loadConfig({
      env: {
        PARLEY_INFERENCE_MAX_BATCH: '1',
        PARLEY_INFERENCE_MAX_QUEUE_DELAY_US: '0',
        PARLEY_INFERENCE_MAX_QUEUE: '16',
        PARLEY_INFERENCE_CACHE_SIZE: '0',
        PARLEY_INFERENCE_MAX_TEXT_CHARS: '200',
        PARLEY_INFERENCE_MAX_BATCH_TEXTS: '32',
      },
    });
    assert.deepEqual([tuned.inference.maxTextChars, tuned.inference.maxBatchTexts], [200, 32]);
    assert.deepEqual(
      [
        tuned.inference.maxBatch,
        tuned.inference.maxQueueDelayMicros,
        tuned.inference.maxQueue,
        tuned.inference.cacheSize,
      ],
      [1, 0, 16, 0],
    );
  });
});
