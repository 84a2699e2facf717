import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, stat } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer } from './index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NATS_TS = new URL('./nats.ts', import.meta.url).href;
const INBOX = '_INBOX.testkit';

/** Speaks just enough of the NATS text protocol for these tests; the nats.js client is not a dependency. */
interface RawNatsConnection extends AsyncDisposable {
  /** The server's `INFO {...}` banner, the first line it sends. */
  readonly info: Record<string, unknown>;
  /** Publishes a JSON payload with a reply subject and resolves with the JSON reply. */
  request(subject: string, payload: unknown): Promise<unknown>;
}

async function connectRaw(port: number): Promise<RawNatsConnection> {
  const socket = createConnection({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let buffer = Buffer.alloc(0);
  let gotInfo: (info: Record<string, unknown>) => void = () => undefined;
  const info = new Promise<Record<string, unknown>>((resolve) => (gotInfo = resolve));
  const replies: ((payload: string) => void)[] = [];
  let failure: Error | undefined;

  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.subarray(0, end).toString();
      if (line.startsWith('MSG ')) {
        const size = Number(line.split(' ').at(-1));
        if (buffer.length < end + 2 + size + 2) return;
        replies.shift()?.(buffer.subarray(end + 2, end + 2 + size).toString());
        buffer = buffer.subarray(end + 2 + size + 2);
        continue;
      }
      buffer = buffer.subarray(end + 2);
      if (line.startsWith('INFO ')) gotInfo(JSON.parse(line.slice(5)) as Record<string, unknown>);
      else if (line === 'PING') socket.write('PONG\r\n');
      else if (line.startsWith('-ERR')) failure = new Error(`server said ${line}`);
    }
  });

  const banner = await info;
  socket.write(`CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nSUB ${INBOX} 1\r\n`);
  return {
    info: banner,
    async request(subject, payload) {
      if (failure) throw failure;
      const body = Buffer.from(JSON.stringify(payload));
      const reply = new Promise<string>((resolve) => replies.push(resolve));
      socket.write(`PUB ${subject} ${INBOX} ${body.length}\r\n`);
      socket.write(Buffer.concat([body, Buffer.from('\r\n')]));
      return JSON.parse(await reply) as unknown;
    },
    [Symbol.asyncDispose]: async () => {
      socket.end();
      await once(socket, 'close');
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The port of a server that was just killed may linger for a moment: allow it a few seconds. */
async function refusesConnectionsSoon(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await canConnect(port))) return true;
    await sleep(50);
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('testkit nats', { timeout: 120_000 }, () => {
  it('testkit nats - starts a server whose INFO banner announces JetStream', async () => {
    await using server = await startNatsServer();
    assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
    assert.ok((await stat(server.storeDir)).isDirectory());
    await using connection = await connectRaw(server.port);
    assert.equal(connection.info.port, server.port);
    assert.equal(connection.info.jetstream, true);
  });

  it('testkit nats - jetstream: false starts a server without JetStream', async () => {
    await using server = await startNatsServer({ jetstream: false });
    await using connection = await connectRaw(server.port);
    assert.notEqual(connection.info.jetstream, true);
  });

  it('testkit nats - stop() refuses connections until start()', async () => {
    await using server = await startNatsServer();
    await server.stop();
    assert.equal(await canConnect(server.port), false);
    await server.stop();
    await server.start();
    await using connection = await connectRaw(server.port);
    assert.equal(connection.info.jetstream, true);
  });

  it('testkit nats - restart() keeps the port and the JetStream store', async () => {
    await using server = await startNatsServer();
    {
      await using connection = await connectRaw(server.port);
      const created = await connection.request('$JS.API.STREAM.CREATE.KEPT', {
        name: 'KEPT',
        subjects: ['kept.>'],
        storage: 'file',
      });
      assert.equal((created as { config?: { name?: string } }).config?.name, 'KEPT');
      assert.deepEqual(await connection.request('kept.one', { hello: 'world' }), { stream: 'KEPT', seq: 1 });
    }
    const { port, url } = server;

    await server.restart();

    assert.equal(server.port, port);
    assert.equal(server.url, url);
    await using connection = await connectRaw(server.port);
    assert.equal(connection.info.jetstream, true);
    const info = (await connection.request('$JS.API.STREAM.INFO.KEPT', {})) as {
      state?: { messages?: number };
    };
    assert.equal(info.state?.messages, 1);
  });

  it('testkit nats - dispose stops the server and removes the store dir', async () => {
    const server = await startNatsServer();
    await server[Symbol.asyncDispose]();
    assert.equal(await canConnect(server.port), false);
    assert.equal(await exists(server.storeDir), false);
    await server[Symbol.asyncDispose]();
    await assert.rejects(server.start(), /was disposed/);
  });

  it('testkit nats - a missing nats-server fails with the install hint', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(
        startNatsServer(),
        /^Error: nats-server not found on PATH; install it with `apt-get install nats-server`$/,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  // A child test process starts a server, reports its port, then ends as told on a line from its stdin.
  const endings = [
    { name: 'process.exit()', onStdin: 'process.exit(3)', exit: { code: 3, signal: null } },
    { name: 'an uncaught error', onStdin: "throw new Error('boom')", exit: { code: 1, signal: null } },
    {
      name: 'SIGTERM',
      onStdin: "process.kill(process.pid, 'SIGTERM')",
      exit: { code: null, signal: 'SIGTERM' },
    },
  ] as const;
  for (const ending of endings) {
    it(`testkit nats - an undisposed server dies with a process that ends by ${ending.name}`, async () => {
      const script = [
        `const { startNatsServer } = await import(${JSON.stringify(NATS_TS)});`,
        'const server = await startNatsServer();',
        'console.log(JSON.stringify({ port: server.port, storeDir: server.storeDir }));',
        `process.stdin.once('data', () => { ${ending.onStdin}; });`,
      ].join('\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const { port, storeDir } = JSON.parse(line.toString()) as { port: number; storeDir: string };
      assert.equal(await canConnect(port), true);
      assert.equal(await exists(storeDir), true);

      child.stdin.write('end\n');
      const [code, signal] = await exited;

      assert.deepEqual({ code, signal }, ending.exit);
      assert.equal(await refusesConnectionsSoon(port), true);
      assert.equal(await exists(storeDir), false);
    });
  }
});
