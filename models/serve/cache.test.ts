import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { cacheKey, createPredictionCache, PredictionCacheError } from './cache.js';
import type { Prediction } from './types.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `parley:test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const VERSION = 'v1-abc123';

const greeting: Prediction = {
  intent: 'greet',
  confidence: 0.93,
  top: [
    { intent: 'greet', probability: 0.93 },
    { intent: 'out_of_scope', probability: 0.05 },
  ],
};
const outOfScope: Prediction = {
  intent: undefined,
  confidence: 0.71,
  top: [{ intent: 'out_of_scope', probability: 0.71 }],
};

/** A port nothing listens on: bound by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

describe('prediction cache - cacheKey', () => {
  it('is the version and the SHA-256 of the folded text', () => {
    const key = cacheKey(VERSION, 'Hello  World');
    assert.match(key, /^v1-abc123:[0-9a-f]{64}$/);
    assert.equal(key, cacheKey(VERSION, 'hello world'));
    assert.equal(key, cacheKey(VERSION, 'ＨＥＬＬＯ world'));
    assert.notEqual(key, cacheKey(VERSION, 'hello there'));
    assert.notEqual(key, cacheKey('v2-def456', 'hello world'));
    assert.ok(!key.includes('hello'));
  });
});

describe('prediction cache - memory layer', () => {
  it('counts hits and misses and the hit ratio', async () => {
    const cache = createPredictionCache();
    assert.equal(cache.stats().hitRatio, 0);
    assert.equal(await cache.get(VERSION, 'hello'), undefined);
    await cache.set(VERSION, 'hello', greeting);
    assert.deepEqual(await cache.get(VERSION, 'hello'), greeting);
    assert.deepEqual(await cache.get(VERSION, 'hello'), greeting);
    assert.deepEqual(cache.stats(), {
      hits: 2,
      misses: 1,
      memoryHits: 2,
      redisHits: 0,
      hitRatio: 2 / 3,
      size: 1,
    });
  });

  it('shares one entry between texts that fold alike, and misses on other text', async () => {
    const cache = createPredictionCache();
    await cache.set(VERSION, 'Hello', greeting);
    assert.deepEqual(await cache.get(VERSION, 'hello'), greeting);
    assert.deepEqual(await cache.get(VERSION, ' HELLO '), greeting);
    assert.equal(await cache.get(VERSION, 'hello there'), undefined);
    assert.equal(cache.stats().size, 1);
  });

  it('misses for another model version', async () => {
    const cache = createPredictionCache();
    await cache.set(VERSION, 'hello', greeting);
    assert.equal(await cache.get('v2-def456', 'hello'), undefined);
    assert.deepEqual(await cache.get(VERSION, 'hello'), greeting);
  });

  it('evicts the least recently used entry beyond its size', async () => {
    const cache = createPredictionCache({ size: 2 });
    await cache.set(VERSION, 'one', greeting);
    await cache.set(VERSION, 'two', greeting);
    await cache.get(VERSION, 'one');
    await cache.set(VERSION, 'three', greeting);
    assert.equal(await cache.get(VERSION, 'two'), undefined);
    assert.deepEqual(await cache.get(VERSION, 'one'), greeting);
    assert.equal(cache.stats().size, 2);
  });

  it('keeps nothing with size 0', async () => {
    const cache = createPredictionCache({ size: 0 });
    await cache.set(VERSION, 'hello', greeting);
    assert.equal(await cache.get(VERSION, 'hello'), undefined);
    assert.deepEqual(cache.stats(), {
      hits: 0,
      misses: 1,
      memoryHits: 0,
      redisHits: 0,
      hitRatio: 0,
      size: 0,
    });
  });

  it('clear() empties memory', async () => {
    const cache = createPredictionCache();
    await cache.set(VERSION, 'hello', greeting);
    cache.clear();
    assert.equal(cache.stats().size, 0);
    assert.equal(await cache.get(VERSION, 'hello'), undefined);
  });

  it('rejects a negative size and a non-positive TTL', () => {
    assert.throws(() => createPredictionCache({ size: -1 }), RangeError);
    assert.throws(() => createPredictionCache({ ttlSeconds: 0 }), RangeError);
  });
});

describe('prediction cache - Redis layer', () => {
  const clients: Redis[] = [];
  let redis: Redis;

  const connect = (): Redis => {
    const client = new Redis(REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    redis = connect();
    await redis.connect();
  });

  after(async () => {
    try {
      const keys = await redis.keys(`${PREFIX}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('answers a second instance from what the first one set, with the TTL applied', async () => {
    const errors: unknown[] = [];
    const options = {
      redis,
      prefix: PREFIX,
      ttlSeconds: 120,
      onError: (error: unknown) => errors.push(error),
    };
    const writer = createPredictionCache(options);
    const reader = createPredictionCache(options);
    await writer.set(VERSION, 'Good morning', greeting);

    assert.deepEqual(await reader.get(VERSION, 'good morning'), greeting);
    assert.deepEqual(await reader.get(VERSION, 'good morning'), greeting);
    const stats = reader.stats();
    assert.equal(stats.redisHits, 1);
    assert.equal(stats.memoryHits, 1);
    assert.equal(stats.size, 1);

    const ttl = await redis.ttl(PREFIX + cacheKey(VERSION, 'good morning'));
    assert.ok(ttl > 0 && ttl <= 120, `ttl ${ttl}`);
    assert.deepEqual(errors, []);
  });

  it('keeps an out-of-scope prediction out of scope through Redis', async () => {
    const writer = createPredictionCache({ redis, prefix: PREFIX });
    const reader = createPredictionCache({ redis, prefix: PREFIX, size: 0 });
    await writer.set(VERSION, 'what is the weather on mars', outOfScope);
    const raw = await redis.get(PREFIX + cacheKey(VERSION, 'what is the weather on mars'));
    assert.ok(raw !== null);
    assert.equal((JSON.parse(raw) as { intent: unknown }).intent, null);
    const read = await reader.get(VERSION, 'what is the weather on mars');
    assert.deepEqual(read, outOfScope);
    assert.ok(read !== undefined && 'intent' in read && read.intent === undefined);
  });

  it('reads from Redis every time when memory is off', async () => {
    const cache = createPredictionCache({ redis, prefix: PREFIX, size: 0 });
    await cache.set(VERSION, 'thanks', greeting);
    await cache.get(VERSION, 'thanks');
    await cache.get(VERSION, 'thanks');
    assert.deepEqual(cache.stats(), {
      hits: 2,
      misses: 0,
      memoryHits: 0,
      redisHits: 2,
      hitRatio: 1,
      size: 0,
    });
  });

  it('misses for another model version', async () => {
    const writer = createPredictionCache({ redis, prefix: PREFIX });
    const reader = createPredictionCache({ redis, prefix: PREFIX });
    await writer.set(VERSION, 'see you', greeting);
    assert.equal(await reader.get('v2-def456', 'see you'), undefined);
    assert.equal(reader.stats().misses, 1);
  });

  it('treats an entry that is not a prediction as a miss and reports it', async () => {
    const errors: unknown[] = [];
    const cache = createPredictionCache({ redis, prefix: PREFIX, onError: (error) => errors.push(error) });
    await redis.set(PREFIX + cacheKey(VERSION, 'garbled'), '{not json', 'EX', 60);
    await redis.set(
      PREFIX + cacheKey(VERSION, 'misshapen'),
      '{"intent":3,"confidence":1,"top":[]}',
      'EX',
      60,
    );

    assert.equal(await cache.get(VERSION, 'garbled'), undefined);
    assert.equal(await cache.get(VERSION, 'misshapen'), undefined);
    assert.equal(cache.stats().misses, 2);
    assert.equal(errors.length, 2);
    for (const error of errors) {
      assert.ok(error instanceof PredictionCacheError);
      assert.equal(error.operation, 'get');
      assert.match(error.message, /not a prediction/);
    }
  });

  it('misses and skips writes, without throwing, when Redis is unreachable', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const down = new Redis({
        host: '127.0.0.1',
        port: await unusedPort(),
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      clients.push(down);
      down.on('error', () => {});
      const errors: unknown[] = [];
      const cache = createPredictionCache({
        redis: down,
        prefix: PREFIX,
        onError: (error) => errors.push(error),
      });

      const started = performance.now();
      await cache.set(VERSION, 'hello', greeting);
      cache.clear();
      assert.equal(await cache.get(VERSION, 'hello'), undefined);
      assert.ok(performance.now() - started < 1_000, 'Redis calls must not wait for a dead server');

      assert.equal(cache.stats().misses, 1);
      assert.deepEqual(
        errors.map((error) => (error instanceof PredictionCacheError ? error.operation : error)),
        ['set', 'get'],
      );
      // Let late rejections of the abandoned calls surface, if any were left unhandled.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('gives up on a Redis that does not answer', async () => {
    const errors: unknown[] = [];
    // A client whose commands never settle stands in for a hung server.
    const hung = { get: () => new Promise<never>(() => {}), set: () => new Promise<never>(() => {}) };
    const cache = createPredictionCache({
      redis: hung as unknown as Redis,
      size: 0,
      onError: (error) => errors.push(error),
    });
    await cache.set(VERSION, 'hello', greeting);
    assert.equal(await cache.get(VERSION, 'hello'), undefined);
    assert.equal(errors.length, 2);
    assert.ok(
      errors.every((error) => error instanceof PredictionCacheError && /did not answer/.test(error.message)),
    );
  });
});
