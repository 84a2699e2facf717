/**
 * Parley's configuration: one schema, validated once at start-up. Values come from (lowest to highest
 * precedence) the defaults here, a JSON config file, and environment variables.
 */
import { z } from 'zod';
import { parseDuration, type Duration } from '../runtime/index.js';

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration like "500ms", "10s", "5m" or "1h"')
  .transform((value) => value as Duration);

/** The parts of Parley a process runs. `all` is the embedded, zero-setup default. */
export const Roles = ['all', 'gateway', 'core', 'inference'] as const;
export type Role = (typeof Roles)[number];

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, e.g. "127.0.0.1:50051"');

export const LogLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const configSchema = z
  .object({
    /** Which parts this process runs. @default 'all' */
    role: z.enum(Roles).default('all'),
    /** Where the embedded store (PGlite) and other local state live. @default './data' */
    dataDir: z.string().min(1).default('./data'),
    /** Postgres URL; when set, Postgres replaces the embedded PGlite store. */
    databaseUrl: z
      .url({ protocol: /^postgres(ql)?$/, error: 'a postgres:// or postgresql:// URL' })
      .optional(),
    http: z
      .object({
        /** @default '127.0.0.1' (only this machine; set '0.0.0.0' behind a TLS proxy) */
        host: z.string().min(1).default('127.0.0.1'),
        /** @default 8787 */
        port: z.number().int().min(0).max(65535).default(8787),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        /** @default 'info' */
        level: z.enum(LogLevels).default('info'),
        /** Human-readable lines instead of JSON. @default true when stdout is a terminal */
        pretty: z.boolean().optional(),
      })
      .strict()
      .prefault({}),
    plugins: z
      .object({
        /** Folders holding one plugin folder each. @default ['<parley>/plugins'] (the built-ins) */
        dirs: z.array(z.string().min(1)).optional(),
        /** Longest a skill may take for one call. @default '5s' */
        callTimeout: duration.default('5s'),
      })
      .strict()
      .prefault({}),
    conversation: z
      .object({
        /** Longest a turn may spend understanding and running a skill before Parley apologises. @default '10s' */
        processingTimeout: duration.default('10s'),
        /** A conversation's actor is passivated (state saved, memory freed) after this long idle. @default '5m' */
        idleTimeout: duration.default('5m'),
      })
      .strict()
      .prefault({}),
    webChat: z
      .object({
        /** Largest WebSocket frame accepted, bytes. @default 65536 */
        maxFrameBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
        /** Longest message text accepted, characters. @default 4000 */
        maxTextChars: z.number().int().min(1).max(100_000).default(4000),
      })
      .strict()
      .prefault({}),
    inference: z
      .object({
        /**
         * `host:port` of a `parley serve inference` service. When set, this process classifies through it
         * (gRPC client with coalescing and a cache); otherwise the model runs in-process on worker threads.
         */
        address: hostPort.optional(),
        /** Where `parley serve inference` listens. @default '127.0.0.1:50051' */
        listen: hostPort.default('127.0.0.1:50051'),
        /** Worker threads running the model. @default cores - 1 (at least 1) in-process; all cores for `parley serve inference` */
        threads: z.number().int().min(1).max(256).optional(),
        /** Which export of the model runs. @default 'int8' */
        precision: z.enum(['int8', 'fp32']).default('int8'),
        /** Most texts in one model batch; 1 turns batching off. @default 128 */
        maxBatch: z.number().int().min(1).max(4096).default(128),
        /** Longest a text waits for company while every worker is busy, microseconds. @default 500 */
        maxQueueDelayMicros: z.number().int().min(0).max(1_000_000).default(500),
        /** Most texts waiting for a worker; more are refused (RESOURCE_EXHAUSTED). @default 8192 */
        maxQueue: z.number().int().min(1).max(1_000_000).default(8192),
        /** Longest text classified, in UTF-16 code units; longer ones are refused (INVALID_ARGUMENT). @default 4096 */
        maxTextChars: z.number().int().min(1).max(100_000).default(4096),
        /** Most texts in one `ClassifyBatch` call to `parley serve inference`. @default 4096 */
        maxBatchTexts: z.number().int().min(1).max(65_536).default(4096),
        /** Deadline of one classification through the service. @default '2s' */
        deadline: duration.default('2s'),
        /** Answers kept in memory by the client (0: none); Redis (REDIS_URL) is the shared layer. @default 10000 */
        cacheSize: z.number().int().min(0).max(10_000_000).default(10_000),
        /**
         * TLS: on the server its certificate and key, and the CA of client certificates; on a client the CA
         * of the server's certificate, and its own certificate and key for mutual TLS. PEM file paths.
         */
        tls: z
          .object({
            ca: z.string().min(1).optional(),
            cert: z.string().min(1).optional(),
            key: z.string().min(1).optional(),
            /** Server: refuse clients without a certificate signed by `ca` (mutual TLS). @default false */
            requireClientCert: z.boolean().default(false),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    /** Redis URL (`redis://host:port`): the inference client's shared answer cache. */
    redisUrl: z.url({ protocol: /^rediss?$/, error: 'a redis:// or rediss:// URL' }).optional(),
    /** IANA time zone for "what time is it". @default the system's */
    /** NATS server(s) with JetStream, e.g. `nats://127.0.0.1:4222`: the cluster transport of `core` and `gateway` nodes. */
    natsUrl: z
      .string()
      .regex(
        /^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/,
        'nats://host:port (comma-separated for several)',
      )
      .optional(),
    cluster: z
      .object({
        /** This node's id in the cluster (letters, digits, _ and -). @default `<hostname>-<pid>-<random>` */
        nodeId: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
          .max(64)
          .optional(),
        /** Shards of the cluster; every node must agree, and it must never change for a running cluster. @default 128 */
        shards: z.number().int().min(1).max(4096).default(128),
        /** A shard lease's lifetime without renewal: the longest a dead node's conversations wait. @default '5s' */
        leaseTtl: duration
          .refine((value) => parseDuration(value) >= 1000, 'at least 1s (renewals run every fifth of it)')
          .default('5s'),
        /** Deliveries of a failing message before it goes to the dead-letter stream. @default 5 */
        maxDeliver: z.number().int().min(1).max(100).default(5),
        /** How long a drain (SIGTERM) waits for in-flight turns before it releases the shards anyway. @default '30s' */
        drainTimeout: duration.default('30s'),
      })
      .strict()
      .prefault({}),
    timezone: z.string().refine(isTimeZone, 'a known IANA time zone, e.g. "Europe/Paris"').optional(),
  })
  .strict()
  .refine((config) => (config.role !== 'core' && config.role !== 'gateway') || config.natsUrl, {
    path: ['natsUrl'],
    message: "is required for role 'core' and 'gateway' (set NATS_URL, e.g. nats://127.0.0.1:4222)",
  })
  .refine((config) => config.role !== 'core' || config.databaseUrl, {
    path: ['databaseUrl'],
    message: "is required for role 'core': the nodes of a cluster share one Postgres (set DATABASE_URL)",
  })
  .refine((config) => !config.inference.tls || config.inference.tls.ca || config.inference.tls.cert, {
    path: ['inference', 'tls'],
    message: 'needs a CA (to verify the peer) or a certificate and key (to present one)',
  })
  .refine((config) => !config.inference.tls?.cert === !config.inference.tls?.key, {
    path: ['inference', 'tls'],
    message: 'a certificate needs its key, and a key its certificate',
  })
  .refine((config) => !config.inference.tls?.requireClientCert || config.inference.tls.ca, {
    path: ['inference', 'tls', 'requireClientCert'],
    message: 'mutual TLS needs the CA that signs client certificates (inference.tls.ca)',
  })
  .refine(
    (config) =>
      parseDuration(config.plugins.callTimeout) < parseDuration(config.conversation.processingTimeout),
    {
      path: ['plugins', 'callTimeout'],
      message:
        'must be shorter than conversation.processingTimeout, so a slow skill fails before the turn times out',
    },
  );

/** Accepts every zone ICU knows, aliases like `US/Eastern` included (not only the canonical list). */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The validated configuration: what the rest of the app sees. */
export type Config = z.output<typeof configSchema>;
/** What a config file may contain. */
export type ConfigInput = z.input<typeof configSchema>;
