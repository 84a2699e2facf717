/**
 * A two-layer cache of predictions in front of the inference client: an in-process LRU, then (optionally)
 * Redis shared by every Parley process. Entries are keyed by model version and the SHA-256 of the folded
 * text, so a new model version never answers from an old one's entries and no raw text is stored as a key.
 *
 * Redis is an optimisation, never a dependency: when it fails or is slow, a lookup is a miss and a write is
 * skipped; the error goes to `onError` and nothing is thrown.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { foldText } from '../rules/index.js';
import { settleWithin } from './settle-within.js';
import type { IntentScore, Prediction } from './types.js';

export interface PredictionCacheOptions {
  /** Entries kept in memory (LRU). 0 turns the memory layer off. @default 10_000 */
  readonly size?: number;
  /**
   * A connected-or-connecting ioredis client: the shared second layer. Not closed by the cache.
   *
   * Create it so that commands fail fast while Redis is down instead of queueing:
   * `new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })`. The cache also gives every
   * Redis call {@link REDIS_TIMEOUT_MS} before treating it as failed, but a queued command would still hold
   * memory until the client gives up on it.
   */
  readonly redis?: Redis;
  /** Lifetime of Redis entries, seconds. @default 3600 */
  readonly ttlSeconds?: number;
  /** Redis key prefix. @default 'parley:nlu:' */
  readonly prefix?: string;
  /** Called when Redis fails (the cache then behaves as a miss / skips the write; it never throws). */
  readonly onError?: (error: unknown) => void;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Hits answered by the memory layer. */
  readonly memoryHits: number;
  /** Hits answered by Redis (the entry is then also kept in memory). */
  readonly redisHits: number;
  /** hits / (hits + misses), 0 when nothing asked */
  readonly hitRatio: number;
  /** Entries in the memory layer now. */
  readonly size: number;
}

export interface PredictionCache {
  /** The cached prediction of `text` by model `version`, or `undefined` on a miss. Never rejects. */
  get(version: string, text: string): Promise<Prediction | undefined>;
  /** Caches a prediction in memory and in Redis. Never rejects. */
  set(version: string, text: string, prediction: Prediction): Promise<void>;
  stats(): CacheStats;
  /** Empties the memory layer; Redis entries stay until their TTL. */
  clear(): void;
}

/** How long one Redis call may take before it counts as failed (a miss, or a skipped write). */
export const REDIS_TIMEOUT_MS = 50;

/** A Redis failure or a Redis entry that is not a prediction; given to `onError`, never thrown. */
export class PredictionCacheError extends Error {
  override readonly name = 'PredictionCacheError';
  constructor(
    readonly operation: 'get' | 'set',
    /** The Redis key concerned (prefix included). */
    readonly key: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * @example
 * ```ts
 * const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const cache = createPredictionCache({ redis, onError: (error) => log.warn({ error }, 'nlu cache') });
 * const cached = await cache.get(version, text);
 * ```
 */
export function createPredictionCache(options: PredictionCacheOptions = {}): PredictionCache {
  const size = options.size ?? 10_000;
  const ttlSeconds = options.ttlSeconds ?? 3600;
  const prefix = options.prefix ?? 'parley:nlu:';
  const { redis, onError } = options;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`prediction cache size must be a whole number >= 0, got ${size}`);
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`prediction cache ttlSeconds must be a whole number > 0, got ${ttlSeconds}`);
  }
  // lru-cache refuses max 0, hence no memory layer at all for size 0.
  const memory = size > 0 ? new LRUCache<string, Prediction>({ max: size }) : undefined;
  let memoryHits = 0;
  let redisHits = 0;
  let misses = 0;

  const report = (error: unknown): void => {
    try {
      onError?.(error);
    } catch {
      // A throwing error handler must not turn a cache miss into a failed request.
    }
  };

  const readRedis = async (key: string): Promise<Prediction | undefined> => {
    if (!redis) return undefined;
    const redisKey = prefix + key;
    let raw: string | null;
    try {
      raw = await withTimeout(() => redis.get(redisKey));
    } catch (error) {
      report(
        new PredictionCacheError('get', redisKey, `Redis GET failed: ${messageOf(error)}`, { cause: error }),
      );
      return undefined;
    }
    if (raw === null) return undefined;
    try {
      return decodePrediction(raw);
    } catch (error) {
      report(
        new PredictionCacheError('get', redisKey, `Redis entry is not a prediction: ${messageOf(error)}`, {
          cause: error,
        }),
      );
      return undefined;
    }
  };

  return {
    async get(version, text) {
      const key = cacheKey(version, text);
      const inMemory = memory?.get(key);
      if (inMemory) {
        memoryHits++;
        return inMemory;
      }
      const fromRedis = await readRedis(key);
      if (fromRedis) {
        redisHits++;
        memory?.set(key, fromRedis);
        return fromRedis;
      }
      misses++;
      return undefined;
    },

    async set(version, text, prediction) {
      const key = cacheKey(version, text);
      memory?.set(key, prediction);
      if (!redis) return;
      const redisKey = prefix + key;
      try {
        await withTimeout(() => redis.set(redisKey, encodePrediction(prediction), 'EX', ttlSeconds));
      } catch (error) {
        report(
          new PredictionCacheError('set', redisKey, `Redis SET failed: ${messageOf(error)}`, {
            cause: error,
          }),
        );
      }
    },

    stats() {
      const hits = memoryHits + redisHits;
      const asked = hits + misses;
      return {
        hits,
        misses,
        memoryHits,
        redisHits,
        hitRatio: asked === 0 ? 0 : hits / asked,
        size: memory?.size ?? 0,
      };
    },

    clear() {
      memory?.clear();
    },
  };
}

/** The cache key of a text: version + SHA-256 of the folded text (so raw text never becomes a Redis key). */
export function cacheKey(version: string, text: string): string {
  return `${version}:${createHash('sha256').update(foldText(text)).digest('hex')}`;
}

/** JSON drops `undefined`, so an out-of-scope intent travels as `null`. */
interface PredictionJson {
  readonly intent: string | null;
  readonly confidence: number;
  readonly top: readonly IntentScore[];
}

function encodePrediction(prediction: Prediction): string {
  const json: PredictionJson = {
    intent: prediction.intent ?? null,
    confidence: prediction.confidence,
    top: prediction.top.map(({ intent, probability }) => ({ intent, probability })),
  };
  return JSON.stringify(json);
}

/** Parses a Redis entry; throws when it is not JSON or not shaped like a prediction. */
function decodePrediction(raw: string): Prediction {
  const value: unknown = JSON.parse(raw);
  if (!isRecord(value)) throw new Error('not a JSON object');
  const { intent, confidence, top } = value;
  if (intent !== null && typeof intent !== 'string') throw new Error('intent is neither a string nor null');
  if (typeof confidence !== 'number') throw new Error('confidence is not a number');
  if (!Array.isArray(top)) throw new Error('top is not an array');
  const scores = top.map((score: unknown): IntentScore => {
    if (!isRecord(score) || typeof score.intent !== 'string' || typeof score.probability !== 'number') {
      throw new Error('top holds something else than { intent, probability }');
    }
    return { intent: score.intent, probability: score.probability };
  });
  return { intent: intent ?? undefined, confidence, top: scores };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a Redis call with {@link REDIS_TIMEOUT_MS} to answer. */
function withTimeout<T>(call: () => Promise<T>): Promise<T> {
  return settleWithin(
    call(),
    REDIS_TIMEOUT_MS,
    () => new Error(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`),
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
