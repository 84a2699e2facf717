/**
 * Parley's HTTP listener: the web chat page at `/`, its WebSocket at `/ws`, and the probes
 * `/healthz` (the process is alive) and `/readyz` (it can take traffic: store reachable, not draining).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortInUseError } from './errors.js';
import type { Logger } from './logger.js';

/** One dependency's readiness. */
export type ReadinessCheck = () => Promise<void>;

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Named checks run by `/readyz`; each rejects when its dependency is not ready. */
  readiness: Readonly<Record<string, ReadinessCheck>>;
  /** HTML served at `/`. */
  page: () => string;
  /** Takes over WebSocket upgrades on `/ws`. */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface HttpServer {
  readonly url: string;
  /** From now on `/readyz` answers 503 so load balancers stop sending traffic. */
  drain(): void;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  let draining = false;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error({ err: error, url: req.url }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { status: 'error' });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    switch (path) {
      case '/':
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        res.end(options.page());
        return;
      case '/healthz':
        return send(res, 200, { status: 'ok' });
      case '/readyz': {
        if (draining) return send(res, 503, { status: 'draining' });
        const checks = await runChecks(options.readiness);
        const ready = Object.values(checks).every((check) => check === 'ok');
        return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
      }
      default:
        return send(res, 404, { error: `no route for ${path}` });
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/ws' && !draining) return options.upgrade(req, socket, head);
    socket.end(draining ? 'HTTP/1.1 503 Service Unavailable\r\n\r\n' : 'HTTP/1.1 404 Not Found\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(options.host, options.port, { cause: error })
          : error,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    drain: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** A check that has not answered by then counts as failed, so a hung dependency cannot hang the probe. */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

async function runChecks(checks: Readonly<Record<string, ReadinessCheck>>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READINESS_CHECK_TIMEOUT_MS} ms`)),
          READINESS_CHECK_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, error instanceof Error ? error.message : String(error)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
