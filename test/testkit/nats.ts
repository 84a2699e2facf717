/**
 * A real `nats-server` per test: a free port on 127.0.0.1, JetStream with a temp store dir, and
 * stop/start/restart for reconnect and durability tests. The idea of nats.js's `nst/src/launcher.ts`, cut
 * down to what Parley's tests need.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A `nats-server` process owned by one test; `await using` stops it and removes its store dir. */
export interface TestNatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** JetStream store dir (temp, removed on dispose). It outlives stop() and restart(). */
  readonly storeDir: string;
  /** Stops the server gracefully (SIGTERM, SIGKILL after 10 s) and waits for exit. No-op when stopped. */
  stop(): Promise<void>;
  /**
   * Starts it again on the same port and store dir (after stop()); resolves when it accepts connections.
   * No-op while it runs; rejects after dispose.
   */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
}

export interface TestNatsServerOptions {
  /** Enables JetStream (`-js`), stored in {@link TestNatsServer.storeDir}. @default true */
  readonly jetstream?: boolean;
}

const HOST = '127.0.0.1';
const READY_LINE = 'Server is ready';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const CONNECT_POLL_MS = 25;
const LAUNCH_ATTEMPTS = 3;
const BUSY_PORT_RETRY_MS = 200;
const OUTPUT_LINES = 40;

/**
 * Starts `nats-server` (found on PATH) on a free port of 127.0.0.1 and resolves once it logged
 * "Server is ready" and accepts TCP connections. Throws when it is not installed or does not come up
 * within 10 s (with its last output): integration tests never skip silently.
 *
 * A server the test forgets to dispose does not keep the test process alive, and every server still
 * running is killed when the process exits, even on an uncaught error or SIGINT/SIGTERM/SIGHUP.
 *
 * @example
 * ```ts
 * await using server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * await server.restart(); // same port, same JetStream store
 * ```
 */
export async function startNatsServer(options: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const binary = findNatsServerBinary();
  const jetstream = options.jetstream ?? true;
  installExitHooks();
  const storeDir = await mkdtemp(join(tmpdir(), 'parley-nats-'));
  undisposedStoreDirs.add(storeDir);
  let first: Launched;
  try {
    first = await launchOnFreePort(binary, storeDir, jetstream);
  } catch (error) {
    undisposedStoreDirs.delete(storeDir);
    await rm(storeDir, { recursive: true, force: true });
    throw error;
  }
  const { port } = first;
  let state: ServerState = { status: 'running', server: first.server };

  // One operation at a time: a restart() racing a dispose must not leave a server behind.
  let queue = Promise.resolve();
  const serialized = (operation: () => Promise<void>): Promise<void> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };

  const stopNow = async (): Promise<void> => {
    if (state.status !== 'running') return;
    await terminate(state.server);
    state = { status: 'stopped' };
  };

  const startNow = async (): Promise<void> => {
    switch (state.status) {
      case 'running':
        if (isAlive(state.server.child)) return;
        break; // it crashed: launch it again
      case 'stopped':
        break;
      case 'disposed':
        throw new Error(`the nats-server on ${HOST}:${port} was disposed; start a new one`);
      default:
        return assertNever(state);
    }
    state = { status: 'running', server: await launchOnPort(binary, port, storeDir, jetstream) };
  };

  return {
    url: `nats://${HOST}:${port}`,
    port,
    storeDir,
    stop: () => serialized(stopNow),
    start: () => serialized(startNow),
    restart: () =>
      serialized(async () => {
        await stopNow();
        await startNow();
      }),
    [Symbol.asyncDispose]: () =>
      serialized(async () => {
        if (state.status === 'disposed') return;
        await stopNow();
        state = { status: 'disposed' };
        undisposedStoreDirs.delete(storeDir);
        await rm(storeDir, { recursive: true, force: true });
      }),
  };
}

/** Where a handle is in its life. */
type ServerState =
  /** A process was launched and accepted connections (it may have crashed since). */
  | { readonly status: 'running'; readonly server: ServerProcess }
  /** stop() ended the process; start() launches a new one on the same port. */
  | { readonly status: 'stopped' }
  /** The store dir is gone; nothing starts again. */
  | { readonly status: 'disposed' };

interface ServerProcess {
  readonly child: ChildProcess;
  /** Settles (never rejects) once the process has exited and its stderr is closed. */
  readonly exited: Promise<void>;
}

interface Launched {
  readonly port: number;
  readonly server: ServerProcess;
}

/** What one launch came to; any other failure is thrown. */
type LaunchResult =
  /** Logged "Server is ready" and accepts connections. */
  | { readonly type: 'ready'; readonly server: ServerProcess }
  /** Exited because another process holds the port. */
  | { readonly type: 'port-in-use'; readonly error: Error };

async function launchOnFreePort(binary: string, storeDir: string, jetstream: boolean): Promise<Launched> {
  // The free port may be taken again between closing our probe and nats-server binding it: pick another.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < LAUNCH_ATTEMPTS; attempt++) {
    const port = await freePort();
    const result = await launch(binary, port, storeDir, jetstream);
    if (result.type === 'ready') return { port, server: result.server };
    lastError = result.error;
  }
  throw new Error(`nats-server found no free port on ${HOST} in ${LAUNCH_ATTEMPTS} attempts`, {
    cause: lastError,
  });
}

async function launchOnPort(
  binary: string,
  port: number,
  storeDir: string,
  jetstream: boolean,
): Promise<ServerProcess> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < LAUNCH_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(BUSY_PORT_RETRY_MS);
    const result = await launch(binary, port, storeDir, jetstream);
    if (result.type === 'ready') return result.server;
    lastError = result.error;
  }
  throw new Error(`cannot start nats-server again: another process holds ${HOST}:${port}`, {
    cause: lastError,
  });
}

async function launch(
  binary: string,
  port: number,
  storeDir: string,
  jetstream: boolean,
): Promise<LaunchResult> {
  const args = ['-a', HOST, '-p', String(port), ...(jetstream ? ['-js', '-sd', storeDir] : [])];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  liveChildren.add(child);
  // Only the exit hooks hold on to a running server; see startNatsServer.
  child.unref();
  const output = new OutputTail();
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const stderr = child.stderr;
  if (stderr instanceof Socket) stderr.unref();
  stderr?.setEncoding('utf8');
  stderr?.on('data', (chunk: string) => {
    if (output.append(chunk).some((line) => line.includes(READY_LINE))) markReady();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', (error) => {
      output.append(`\n${error.message}\n`);
      if (child.pid === undefined) resolve(); // spawning failed: no 'close' is coming
    });
  }).finally(() => liveChildren.delete(child));
  const server: ServerProcess = { child, exited };

  const polling = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => acceptsConnections(port, polling.signal)).then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  polling.abort();

  switch (outcome) {
    case 'ready':
      return { type: 'ready', server };
    case 'exited': {
      const error = new Error(
        `nats-server exited (${describeExit(child)}) before accepting connections on ${HOST}:${port}; ` +
          `last output:\n${output.toString()}`,
      );
      if (/address already in use/i.test(output.toString())) return { type: 'port-in-use', error };
      throw error;
    }
    case 'timeout':
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `nats-server did not accept connections on ${HOST}:${port} within ${READY_TIMEOUT_MS / 1000} s; ` +
          `last output:\n${output.toString()}`,
      );
    default:
      return assertNever(outcome);
  }
}

async function terminate({ child, exited }: ServerProcess): Promise<void> {
  if (isAlive(child)) child.kill('SIGTERM');
  // Also keeps the event loop alive while we wait for the unref'd child.
  const escalation = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(escalation);
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function describeExit(child: ChildProcess): string {
  if (child.signalCode !== null) return `signal ${child.signalCode}`;
  return child.exitCode === null ? 'failed to spawn' : `code ${child.exitCode}`;
}

function findNatsServerBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error('nats-server not found on PATH; install it with `apt-get install nats-server`');
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, HOST);
  await once(probe, 'listening');
  const address = probe.address();
  await new Promise<void>((resolve, reject) => probe.close((error) => (error ? reject(error) : resolve())));
  if (address === null || typeof address === 'string') throw new Error(`no TCP port from ${HOST}:0`);
  return address.port;
}

/** Polls a TCP connect until it succeeds or `signal` aborts. */
async function acceptsConnections(port: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && !(await canConnect(port))) await sleep(CONNECT_POLL_MS);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The last lines a process printed, for error messages. */
class OutputTail {
  readonly #lines: string[] = [];
  #partial = '';

  /** Adds a chunk and returns the lines it completed. */
  append(chunk: string): string[] {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    this.#lines.push(...lines);
    this.#lines.splice(0, Math.max(0, this.#lines.length - OUTPUT_LINES));
    return lines;
  }

  toString(): string {
    return [...this.#lines, this.#partial].join('\n').trim() || '(no output)';
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

// Module-wide so the exit hooks reach every server, disposed or not.
const liveChildren = new Set<ChildProcess>();
const undisposedStoreDirs = new Set<string>();
let exitHooksInstalled = false;

function killEverything(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of undisposedStoreDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // An exit hook must not throw; a leftover temp dir is harmless.
    }
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' also covers uncaught errors and process.exit(); a fatal signal skips it, hence the listeners.
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killEverything();
      // Alone, this listener would swallow the signal: step aside and let its default action end the process.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
