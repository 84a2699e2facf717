/**
 * Loads Parley's configuration: defaults, then a JSON file (`--config FILE` or `PARLEY_CONFIG`), then
 * environment variables. Unknown keys and bad values are rejected with the key's path and where the
 * value came from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, type Config } from './config-schema.js';
import { ConfigError, ConfigErrorCodes, type ConfigIssue } from './errors.js';

type EnvParser = (raw: string) => unknown;
const asString: EnvParser = (raw) => raw;
const asNumber: EnvParser = (raw) => (/^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw);
const asBoolean: EnvParser = (raw) =>
  ({ true: true, '1': true, yes: true, false: false, '0': false, no: false })[raw.toLowerCase()] ?? raw;
const asList: EnvParser = (raw) => raw.split(':').filter(Boolean);

/** Environment variables and the config key each one sets. */
export const environmentVariables: Readonly<Record<string, { path: readonly string[]; parse: EnvParser }>> = {
  PARLEY_ROLE: { path: ['role'], parse: asString },
  PARLEY_DATA_DIR: { path: ['dataDir'], parse: asString },
  DATABASE_URL: { path: ['databaseUrl'], parse: asString },
  PARLEY_HTTP_HOST: { path: ['http', 'host'], parse: asString },
  PARLEY_HTTP_PORT: { path: ['http', 'port'], parse: asNumber },
  PARLEY_LOG_LEVEL: { path: ['log', 'level'], parse: asString },
  PARLEY_LOG_PRETTY: { path: ['log', 'pretty'], parse: asBoolean },
  PARLEY_PLUGIN_DIRS: { path: ['plugins', 'dirs'], parse: asList },
  PARLEY_PLUGIN_CALL_TIMEOUT: { path: ['plugins', 'callTimeout'], parse: asString },
  PARLEY_PROCESSING_TIMEOUT: { path: ['conversation', 'processingTimeout'], parse: asString },
  PARLEY_IDLE_TIMEOUT: { path: ['conversation', 'idleTimeout'], parse: asString },
  PARLEY_TIMEZONE: { path: ['timezone'], parse: asString },
  PARLEY_INFERENCE_ADDRESS: { path: ['inference', 'address'], parse: asString },
  PARLEY_INFERENCE_LISTEN: { path: ['inference', 'listen'], parse: asString },
  PARLEY_INFERENCE_THREADS: { path: ['inference', 'threads'], parse: asNumber },
  PARLEY_INFERENCE_PRECISION: { path: ['inference', 'precision'], parse: asString },
  PARLEY_INFERENCE_MAX_BATCH: { path: ['inference', 'maxBatch'], parse: asNumber },
  PARLEY_INFERENCE_MAX_QUEUE_DELAY_US: { path: ['inference', 'maxQueueDelayMicros'], parse: asNumber },
  PARLEY_INFERENCE_MAX_QUEUE: { path: ['inference', 'maxQueue'], parse: asNumber },
  PARLEY_INFERENCE_DEADLINE: { path: ['inference', 'deadline'], parse: asString },
  PARLEY_INFERENCE_CACHE_SIZE: { path: ['inference', 'cacheSize'], parse: asNumber },
  PARLEY_INFERENCE_MAX_TEXT_CHARS: { path: ['inference', 'maxTextChars'], parse: asNumber },
  PARLEY_INFERENCE_MAX_BATCH_TEXTS: { path: ['inference', 'maxBatchTexts'], parse: asNumber },
  PARLEY_INFERENCE_TLS_CA: { path: ['inference', 'tls', 'ca'], parse: asString },
  PARLEY_INFERENCE_TLS_CERT: { path: ['inference', 'tls', 'cert'], parse: asString },
  PARLEY_INFERENCE_TLS_KEY: { path: ['inference', 'tls', 'key'], parse: asString },
  PARLEY_INFERENCE_TLS_REQUIRE_CLIENT_CERT: {
    path: ['inference', 'tls', 'requireClientCert'],
    parse: asBoolean,
  },
  REDIS_URL: { path: ['redisUrl'], parse: asString },
  NATS_URL: { path: ['natsUrl'], parse: asString },
  PARLEY_NODE_ID: { path: ['cluster', 'nodeId'], parse: asString },
  PARLEY_CLUSTER_SHARDS: { path: ['cluster', 'shards'], parse: asNumber },
  PARLEY_CLUSTER_LEASE_TTL: { path: ['cluster', 'leaseTtl'], parse: asString },
  PARLEY_CLUSTER_MAX_DELIVER: { path: ['cluster', 'maxDeliver'], parse: asNumber },
  PARLEY_DRAIN_TIMEOUT: { path: ['cluster', 'drainTimeout'], parse: asString },
};

/** Variables that belong to tooling, not to the running assistant. */
const ignoredVariables = new Set(['PARLEY_CONFIG']);
const ignoredPrefixes = ['PARLEY_TEST_', 'PARLEY_BENCH_'];

export interface LoadConfigOptions {
  /** Path of a JSON config file; overrides `PARLEY_CONFIG`. */
  file?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

type Json = Record<string, unknown>;

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sources = new Map<string, string>();
  const fileName = options.file ?? env.PARLEY_CONFIG;

  let input: Json = {};
  if (fileName) {
    const file = resolve(cwd, fileName);
    input = readConfigFile(file);
    for (const path of leafPaths(input)) sources.set(path, file);
  }

  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === '') continue;
    const variable = environmentVariables[name];
    if (variable) {
      setPath(input, variable.path, variable.parse(raw));
      sources.set(variable.path.join('.'), name);
    } else if (
      name.startsWith('PARLEY_') &&
      !ignoredVariables.has(name) &&
      !ignoredPrefixes.some((prefix) => name.startsWith(prefix))
    ) {
      issues.push({
        path: name,
        source: 'environment',
        message: `unknown variable; known ones are ${Object.keys(environmentVariables).join(', ')}`,
      });
    }
  }

  const parsed = configSchema.safeParse(input);
  if (!parsed.success) issues.push(...parsed.error.issues.map((issue) => toIssue(issue, input, sources)));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(ConfigErrorCodes.invalid, issues);

  const config = parsed.data;
  return { ...config, dataDir: resolve(cwd, config.dataDir) };
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      ConfigErrorCodes.unreadableFile,
      [{ path: '(file)', source: file, message: `cannot read the config file: ${(error as Error).message}` }],
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      ConfigErrorCodes.unreadableFile,
      [{ path: '(file)', source: file, message: `not valid JSON: ${(error as Error).message}` }],
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(ConfigErrorCodes.unreadableFile, [
      { path: '(file)', source: file, message: 'expected a JSON object at the top level' },
    ]);
  }
  return value as Json;
}

function toIssue(issue: z.core.$ZodIssue, input: Json, sources: ReadonlyMap<string, string>): ConfigIssue {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
  const base = issue.path.map(String);
  const paths = keys.map((key) => [...base, ...(key === undefined ? [] : [key])].join('.') || '(root)');
  const path = paths.join(', ');
  const source = sources.get(paths[0] ?? '') ?? findSource(base, sources) ?? 'defaults';
  if (issue.code === 'unrecognized_keys') return { path, source, message: 'unknown key' };
  const value = getPath(input, base);
  const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  return { path, source, message: `${issue.message}${got}` };
}

/** The nearest recorded source at or above `path` (an unknown nested key comes from its parent's file). */
function findSource(path: readonly string[], sources: ReadonlyMap<string, string>): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const source = sources.get(path.slice(0, length).join('.'));
    if (source) return source;
  }
  return [...sources.values()][0];
}

function getPath(target: Json, path: readonly string[]): unknown {
  let node: unknown = target;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function leafPaths(value: Json, prefix: readonly string[] = []): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    typeof child === 'object' && child !== null && !Array.isArray(child)
      ? [[...prefix, key].join('.'), ...leafPaths(child as Json, [...prefix, key])]
      : [[...prefix, key].join('.')],
  );
}
