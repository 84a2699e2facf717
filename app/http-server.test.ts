import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { pino } from 'pino';
import { startHttpServer, type HttpServerOptions } from './http-server.js';

function options(overrides: Partial<HttpServerOptions> = {}): HttpServerOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    readiness: { store: () => Promise.resolve() },
    page: () => '<!doctype html><title>Parley</title>',
    upgrade: (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n'),
    ...overrides,
  };
}

describe('http server', () => {
  it('http - serves the page, /healthz and /readyz; 404 and 405 otherwise', async () => {
    const server = await startHttpServer(options());
    try {
      const page = await fetch(server.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /Parley/);
      assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok' } });
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
      assert.equal((await fetch(server.url, { method: 'POST', body: 'x' })).status, 405);
    } finally {
      await server.close();
    }
  });

  it('http - /readyz is 503 with the failing check, and 503 while draining', async () => {
    let storeUp = false;
    const server = await startHttpServer(
      options({
        readiness: { store: () => (storeUp ? Promise.resolve() : Promise.reject(new Error('store down'))) },
      }),
    );
    try {
      const down = await fetch(`${server.url}/readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { status: 'not ready', checks: { store: 'store down' } });
      storeUp = true;
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      server.drain();
      const draining = await fetch(`${server.url}/readyz`);
      assert.equal(draining.status, 503);
      assert.deepEqual(await draining.json(), { status: 'draining' });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still alive while draining');
    } finally {
      await server.close();
    }
  });

  it('http - upgrades go to the web chat only on /ws', async () => {
    const server = await startHttpServer(options());
    const port = new URL(server.url).port;
    const statusLine = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
          ),
        );
        socket.once('data', (data) => {
          resolve(data.toString().split('\r\n')[0] ?? '');
          socket.destroy();
        });
        socket.once('error', reject);
      });
    try {
      assert.equal(await statusLine('/ws'), 'HTTP/1.1 101 Switching Protocols');
      assert.equal(await statusLine('/other'), 'HTTP/1.1 404 Not Found');
    } finally {
      await server.close();
    }
  });

  it('http - a port in use is a clear error', async () => {
    const first = await startHttpServer(options());
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(startHttpServer(options({ port })), /already in use.*PARLEY_HTTP_PORT/);
    } finally {
      await first.close();
    }
  });

  it('http - a readiness check that never answers fails the probe instead of hanging it', async () => {
    const server = await startHttpServer(options({ readiness: { store: () => new Promise(() => {}) } }));
    try {
      const response = await fetch(`${server.url}/readyz`);
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), {
        status: 'not ready',
        checks: { store: 'no answer within 2000 ms' },
      });
    } finally {
      await server.close();
    }
  });
});
