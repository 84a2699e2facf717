/**
 * The `parley` command line.
 *
 *   parley [start]            run the assistant (embedded defaults: PGlite in ./data, web chat on :8787)
 *   parley chat [--url URL]   chat in the terminal, with a running assistant or an in-process one
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ChatClosedError,
  ChatRequestError,
  ChatTimeoutError,
  connectWebSocketChat,
  createInProcessChat,
  runTerminalChat,
} from '../actors/gateway/index.js';
import { StoreError } from '../store/index.js';
import { ClusterError, InvalidOptionsError } from '../runtime/index.js';
import { DatasetError, ModelRegistryError } from '../models/index.js';
import { InferenceError } from '../models/serve/index.js';
import { loadConfig } from './config.js';
import type { Config } from './config-schema.js';
import { ClusterConnectError, ConfigError, PortInUseError, UnsupportedRoleError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { loadSkills, startAssistant } from './assistant.js';
import { startInferenceService } from './inference.js';
import { MODEL_USAGE, ModelUsageError, runModelCommand } from './model-command.js';
import { CLUSTER_USAGE, ClusterUsageError, runClusterCommand } from './cluster-command.js';
import { STORE_USAGE, StoreUsageError, runStoreCommand } from './store-command.js';

const USAGE = `Usage: parley [command] [options]

Commands:
  start                 Run the assistant (default). Web chat on http://127.0.0.1:8787
  chat                  Chat in this terminal (with the running assistant, or an in-process one)
  serve inference       Serve the intent model over gRPC (PARLEY_INFERENCE_LISTEN, default 127.0.0.1:50051)
  cluster ...           Inspect a cluster: nodes, shard owners, dead letters (see below)
  model ...             Train, evaluate and inspect intent models (see below)
  store ...             One-off changes to the store (see below)

Options:
  -c, --config FILE     JSON config file (also PARLEY_CONFIG)
      --url URL         chat: the assistant's address (default: from config)
      --user NAME       chat: who you are (default: your OS user name)
  -h, --help            Show this help
  -v, --version         Show the version

Environment: PARLEY_DATA_DIR, PARLEY_HTTP_PORT, PARLEY_HTTP_HOST, DATABASE_URL, PARLEY_LOG_LEVEL, ...
(see README.md, "Configuration").

${MODEL_USAGE}

${CLUSTER_USAGE}

${STORE_USAGE}`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      data: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      seed: { type: 'string' },
      precision: { type: 'string' },
    },
  });
  if (values.help) return print(USAGE);
  if (values.version) return print(version());

  const command = positionals[0] ?? 'start';
  const config = loadConfig(values.config === undefined ? {} : { file: values.config });
  switch (command) {
    case 'start':
      return start(config);
    case 'chat':
      return chat(config, { url: values.url, user: values.user });
    case 'serve':
      if (positionals[1] !== 'inference') {
        process.stderr.write(`parley: 'serve' takes what to serve: 'parley serve inference'\n`);
        return 2;
      }
      return serveInference({ ...config, role: 'inference' });
    case 'model':
      return runModelCommand(positionals[1], values, config);
    case 'cluster':
      return runClusterCommand(positionals.slice(1), config);
    case 'store':
      return runStoreCommand(positionals.slice(1), config);
    default:
      process.stderr.write(`parley: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

async function start(config: Config): Promise<number> {
  if (config.role === 'inference') return serveInference(config);
  const logger = createLogger(config.log);
  // A plugin's stray promise must not take the assistant down: log it and carry on.
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection (a plugin?); continuing'),
  );
  // Listening before start-up, so a signal during migrations still shuts down cleanly afterwards.
  const stopRequested = untilSignal(logger);
  const assistant = await startAssistant(config, logger);
  logger.info(`Parley is running. Chat at ${assistant.url ?? '(no http)'} or with \`npx parley chat\``);
  await stopRequested;
  await assistant.close();
  logger.info('stopped');
  return 0;
}

async function serveInference(config: Config): Promise<number> {
  const logger = createLogger(config.log);
  const stopRequested = untilSignal(logger);
  // The plugins are loaded for their intents (the model's training data) only; no skill runs here.
  const host = await loadSkills(config, logger);
  const service = await startInferenceService(config, host.intents(), logger);
  logger.info(`Parley inference service on port ${service.port}`);
  await stopRequested;
  await service.close();
  logger.info('stopped');
  return 0;
}

async function chat(
  config: Config,
  options: { url: string | undefined; user: string | undefined },
): Promise<number> {
  const user = options.user ?? userInfo().username;
  const session = cliSession(user);
  const base = options.url ?? `http://${config.http.host}:${config.http.port}`;
  const banner = (where: string): string =>
    `Parley chat (${where}). Type a message, "help" for ideas, /quit to leave.`;

  if (options.url !== undefined || (await isRunning(base))) {
    const connection = await connectWebSocketChat(toWebSocketUrl(base), {
      session,
      channel: 'cli',
      name: user,
    });
    try {
      await runTerminalChat({
        connection,
        input: process.stdin,
        output: process.stdout,
        banner: banner(base),
      });
    } finally {
      await connection.close();
    }
    return 0;
  }
  // Nothing is listening: run the assistant inside this process, quietly (warnings to stderr).
  const logger = createLogger({
    level: 'warn',
    destination: 2,
    ...(config.log.pretty === undefined ? {} : { pretty: config.log.pretty }),
  });
  const assistant = await startAssistant(config, logger, { http: false });
  try {
    const connection = createInProcessChat({ handle: assistant.handle, user: session });
    await runTerminalChat({
      connection,
      input: process.stdin,
      output: process.stdout,
      banner: banner('in-process'),
    });
    await connection.close();
  } finally {
    await assistant.close();
  }
  return 0;
}

/**
 * The terminal chat's session (and so its conversation and notes) for a user name: the name itself when
 * it is a plain identifier, else a stable digest of it, the same whether in-process or over the socket.
 */
function cliSession(user: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(user)
    ? user
    : `u-${createHash('sha256').update(user).digest('hex').slice(0, 24)}`;
}

async function isRunning(base: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/healthz', base), { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

function toWebSocketUrl(base: string): string {
  const url = new URL('/ws', base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Resolves on the first SIGTERM or SIGINT; a second one (of either kind) exits at once. */
function untilSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSecond = (signal: NodeJS.Signals): void => {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    };
    const onFirst = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down: finishing in-flight turns');
      for (const name of STOP_SIGNALS) {
        process.off(name, onFirst);
        process.once(name, onSecond);
      }
      resolve();
    };
    for (const name of STOP_SIGNALS) process.once(name, onFirst);
  });
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `parley ${pkg.version}`;
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

/** Errors whose message says all a person needs; anything else is a bug and prints its stack. */
function isUserFacing(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const parseArgs = 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_');
  return (
    parseArgs ||
    error instanceof ConfigError ||
    error instanceof UnsupportedRoleError ||
    error instanceof PortInUseError ||
    error instanceof ClusterConnectError ||
    error instanceof ClusterUsageError ||
    error instanceof StoreUsageError ||
    error instanceof ClusterError ||
    error instanceof InvalidOptionsError ||
    error instanceof ModelUsageError ||
    error instanceof DatasetError ||
    error instanceof ModelRegistryError ||
    error instanceof InferenceError ||
    error instanceof StoreError ||
    error instanceof ChatRequestError ||
    error instanceof ChatClosedError ||
    error instanceof ChatTimeoutError
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = isUserFacing(error);
    process.stderr.write(
      `parley: ${known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = known ? 2 : 1;
  },
);
