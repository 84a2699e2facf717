/**
 * The understanding step, wired by role: the intent model in-process on worker threads (role `all`), or
 * through a `parley serve inference` service (`inference.address` set), or served to others (role
 * `inference`). Rules from the plugins' manifests always run in this process, in front of the model.
 */
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import {
  createLayeredClassifier,
  createRuleClassifier,
  openModelRegistry,
  type IntentClassifier,
  type IntentSpec,
} from '../models/index.js';
import {
  createInferenceClient,
  createInferenceEngine,
  createPredictionCache,
  engineClassifier,
  readTlsFiles,
  startInferenceServer,
  type CacheStats,
  type InferenceEngine,
} from '../models/serve/index.js';
import { parseDuration } from '../runtime/index.js';
import type { Config } from './config-schema.js';
import { ConfigError, ConfigErrorCodes } from './errors.js';
import { ensureSkillsModel, modelRegistryDir } from './intent-model.js';
import type { Logger } from './logger.js';

/** How often the registry is checked for a newly activated version (`parley model train`). */
const REGISTRY_POLL_MS = 2000;
/** How long a core waits at start for a remote inference service before going on with rules only. */
const REMOTE_READY_MS = 5000;
/** How often a core logs its prediction cache's hit ratio (when it was asked meanwhile). */
const CACHE_REPORT_MS = 60_000;

export interface Understanding {
  readonly classifier: IntentClassifier;
  /** What serves the model, for the start-up log. */
  readonly description: string;
  /** The model version answering now (`undefined` while a remote service is unreachable). */
  readonly modelVersion: string | undefined;
  /** The prediction cache in front of a remote service (hits, misses, hit ratio); none in-process. */
  readonly cache: CacheStats | undefined;
  close(): Promise<void>;
}

/** The classifier of a core: rules, then the model (in-process, or remote when `inference.address` is set). */
export async function startUnderstanding(
  config: Config,
  intents: readonly IntentSpec[],
  logger: Logger,
): Promise<Understanding> {
  const rules = createRuleClassifier(intents);
  const onModelError = (error: unknown): void =>
    logger.warn({ err: error }, 'intent model unavailable for this message; rules only');
  const { address } = config.inference;

  if (address !== undefined) {
    const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, logger);
    const tls = await tlsFiles(config);
    const client = createInferenceClient({
      address,
      ...(tls && { tls }),
      deadlineMs: parseDuration(config.inference.deadline),
      cache: createPredictionCache({
        size: config.inference.cacheSize,
        ...(redis && { redis }),
        onError: (error) => logger.debug({ err: error }, 'inference cache: Redis failed; treated as a miss'),
      }),
      onError: (error) => logger.warn({ err: error }, 'inference service: model watch failed; retrying'),
    });
    try {
      const model = await client.ready(REMOTE_READY_MS);
      logger.info({ address, version: model.version }, `intent model ${model.version} served by ${address}`);
    } catch (error) {
      logger.warn({ err: error, address }, 'inference service not reachable yet; rules only until it is');
    }
    let reported = 0;
    const report = setInterval(() => {
      const cache = client.stats().cache;
      if (!cache || cache.hits + cache.misses === reported) return;
      reported = cache.hits + cache.misses;
      logger.info(
        { cache },
        `inference cache: ${(cache.hitRatio * 100).toFixed(1)}% of ${reported} lookups answered from it`,
      );
    }, CACHE_REPORT_MS);
    report.unref();
    return {
      classifier: createLayeredClassifier(rules, client, onModelError),
      description: `inference service at ${address}`,
      get modelVersion() {
        return client.model?.version;
      },
      get cache() {
        return client.stats().cache;
      },
      close() {
        clearInterval(report);
        client.close();
        redis?.disconnect();
        return Promise.resolve();
      },
    };
  }

  const { engine, close } = await startEngine(config, intents, logger);
  return {
    classifier: createLayeredClassifier(rules, engineClassifier(engine), onModelError),
    description: `in-process, ${engine.stats().threads} worker thread(s)`,
    get modelVersion() {
      return engine.model.version;
    },
    cache: undefined,
    close,
  };
}

/** `parley serve inference`: the model behind gRPC, until `close`. */
export async function startInferenceService(
  config: Config,
  intents: readonly IntentSpec[],
  logger: Logger,
): Promise<{ port: number; close(): Promise<void> }> {
  const tlsConfig = config.inference.tls;
  const files = await tlsFiles(config);
  if (files && (!files.cert || !files.key)) {
    throw new ConfigError(ConfigErrorCodes.invalid, [
      {
        path: 'inference.tls',
        source: 'config',
        message: 'a server needs its certificate and key (cert, key)',
      },
    ]);
  }
  // The service's main thread only does gRPC I/O (the workers featurise and run the model): one worker
  // per core, where the in-process engine leaves a core to the assistant.
  const { engine, close } = await startEngine(config, intents, logger, availableParallelism());
  try {
    const server = await startInferenceServer({
      engine,
      address: config.inference.listen,
      maxBatchTexts: config.inference.maxBatchTexts,
      logger,
      ...(files?.cert &&
        files.key && {
          tls: {
            cert: files.cert,
            key: files.key,
            ...(files.ca && { ca: files.ca }),
            requireClientCert: tlsConfig?.requireClientCert ?? false,
          },
        }),
    });
    return {
      port: server.port,
      async close() {
        await server.shutdown();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The engine on the skills' model, following the registry when another version is activated. */
async function startEngine(
  config: Config,
  intents: readonly IntentSpec[],
  logger: Logger,
  defaultThreads?: number,
): Promise<{ engine: InferenceEngine; close: () => Promise<void> }> {
  const modelLogger = logger.child({ area: 'models' });
  const entry = await ensureSkillsModel(config.dataDir, intents, modelLogger);
  const { inference } = config;
  const threads = inference.threads ?? defaultThreads;
  const engine = await createInferenceEngine({
    model: entry,
    precision: inference.precision,
    maxBatch: inference.maxBatch,
    maxQueueDelayMicros: inference.maxQueueDelayMicros,
    maxQueue: inference.maxQueue,
    maxTextChars: inference.maxTextChars,
    ...(threads !== undefined && { threads }),
  });
  const registry = openModelRegistry(modelRegistryDir(config.dataDir));
  let checking = false;
  const poll = setInterval(() => {
    if (checking) return;
    checking = true;
    registry
      .current()
      .then(async (current) => {
        if (!current || current.metadata.version === engine.model.version) return;
        const from = engine.model.version;
        await engine.swap(current);
        modelLogger.info(
          { from, to: current.metadata.version },
          `intent model swapped to ${current.metadata.version}`,
        );
      })
      .catch((error: unknown) =>
        modelLogger.error({ err: error }, 'intent model: swap failed; still serving the old one'),
      )
      .finally(() => {
        checking = false;
      });
  }, REGISTRY_POLL_MS);
  poll.unref();
  return {
    engine,
    close: async () => {
      clearInterval(poll);
      await engine.close();
    },
  };
}

/** The PEM files `inference.tls` names; an unreadable one is a configuration error. */
async function tlsFiles(config: Config): Promise<Awaited<ReturnType<typeof readTlsFiles>> | undefined> {
  if (!config.inference.tls) return undefined;
  try {
    return await readTlsFiles(config.inference.tls);
  } catch (error) {
    throw new ConfigError(
      ConfigErrorCodes.invalid,
      [{ path: 'inference.tls', source: 'config', message: (error as Error).message }],
      { cause: error },
    );
  }
}

/** A Redis client that never blocks a classification: commands fail at once while it is down. */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) logger.warn({ err: error }, 'Redis unavailable; the inference cache uses memory only');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis is back; the inference cache shares answers again');
    down = false;
  });
  return redis;
}
