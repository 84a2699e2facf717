/**
 * Runs the real `parley` command as a child process for end-to-end tests: the same entry point a person
 * uses, on a temporary data directory and a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PARLEY_BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

export interface ParleyProcess extends AsyncDisposable {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every log line so far (JSON objects). */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** Sends SIGTERM and resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `parley start` and resolves once it logged its URL. */
export async function startParley(env: Record<string, string>): Promise<ParleyProcess> {
  const child = spawn(process.execPath, [PARLEY_BIN, 'start'], {
    env: {
      ...process.env,
      PARLEY_HTTP_PORT: '0',
      PARLEY_LOG_PRETTY: 'false',
      PARLEY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`parley did not start in 60s; stderr:\n${stderr}`)),
      60_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley exited with ${code} before starting; stderr:\n${stderr}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill(signal);
    const [code] = await exited;
    return code;
  };
  return { url, child, logs, stop, [Symbol.asyncDispose]: async () => void (await stop('SIGKILL')) };
}

/** Runs `parley chat` with the given lines on stdin; resolves everything it printed. */
export async function runChat(
  env: Record<string, string>,
  lines: readonly string[],
  args: readonly string[] = [],
): Promise<string> {
  const child = spawn(process.execPath, [PARLEY_BIN, 'chat', ...args], {
    env: { ...process.env, PARLEY_LOG_PRETTY: 'false', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // One line at a time, each after the previous answer, as a person would type.
  for (const line of lines) {
    const before = output.length;
    child.stdin.write(`${line}\n`);
    if (line === '/quit') break;
    await waitFor(
      () => output.length > before && output.slice(before).trimEnd().endsWith('>'),
      30_000,
      () => `no answer to "${line}"; output:\n${output}\nstderr:\n${stderr}`,
    );
  }
  child.stdin.end();
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`parley chat exited with ${code}; stderr:\n${stderr}`);
  return output;
}

async function waitFor(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
