/** `parley serve inference` as a person runs it: a real process serving the skills' model over gRPC. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, Metadata } from '@grpc/grpc-js';
import { health, nlu } from '../../proto/index.js';
import { PARLEY_BIN } from './parley-process.js';

describe('parley serve inference', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-serve-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serve inference - health SERVING, classifies over gRPC, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [PARLEY_BIN, 'serve', 'inference'], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_INFERENCE_LISTEN: '127.0.0.1:0',
        PARLEY_INFERENCE_THREADS: '1',
        PARLEY_LOG_PRETTY: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await listeningPort(child);
      const address = `127.0.0.1:${port}`;
      const healthClient = new health.HealthClient(address, credentials.createInsecure());
      const nluClient = new nlu.NluServiceClient(address, credentials.createInsecure());
      try {
        const check = await new Promise<health.HealthCheckResponse>((resolve, reject) =>
          healthClient.check({ service: 'parley.v1.NluService' }, (error, response) =>
            error ? reject(error) : resolve(response),
          ),
        );
        assert.equal(check.status, health.HealthCheckResponse_ServingStatus.SERVING);
        const answer = await new Promise<nlu.ClassifyResponse>((resolve, reject) =>
          nluClient.classify(
            { text: 'what time is it in Tokyo', topK: 2 },
            new Metadata(),
            { deadline: Date.now() + 5000 },
            (error, response) => (error ? reject(error) : resolve(response)),
          ),
        );
        assert.equal(answer.prediction?.intent, 'time.in_city');
        assert.equal(answer.prediction?.top.length, 2);
        assert.match(answer.modelVersion, /^v\d+-[0-9a-f]{8}$/);
      } finally {
        healthClient.close();
        nluClient.close();
      }
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve inference - an unreadable TLS file is a configuration error (exit 2, the key named)', () => {
    const result = spawnSync(process.execPath, [PARLEY_BIN, 'serve', 'inference'], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_INFERENCE_LISTEN: '127.0.0.1:0',
        PARLEY_INFERENCE_TLS_CERT: join(dataDir, 'missing.crt'),
        PARLEY_INFERENCE_TLS_KEY: join(dataDir, 'missing.key'),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /inference\.tls.*cannot read the TLS certificate file .*missing\.crt: .*; cannot read the TLS key file .*missing\.key/,
    );
  });

  it('serve - without what to serve is refused with usage', () => {
    const result = spawnSync(process.execPath, [PARLEY_BIN, 'serve'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /parley serve inference/);
  });
});

/** Resolves the port from the service's JSON log once it listens. */
async function listeningPort(child: ChildProcess): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no 'listening' log in 60 s; stderr:\n${stderr}`)),
      60_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { port?: unknown; msg?: unknown };
        if (entry.msg === 'inference service listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
}
