import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { IntentDeclaration } from '../actors/skills/index.js';
import { buildModel, datasetFromManifests, openModelRegistry } from '../models/index.js';
import { createInferenceClient } from '../models/serve/index.js';
import { loadSkills } from './assistant.js';
import { loadConfig } from './config.js';
import type { Config } from './config-schema.js';
import { startInferenceService, startUnderstanding } from './inference.js';
import { modelRegistryDir, SKILLS_TRAIN_OPTIONS } from './intent-model.js';

const logger = pino({ level: 'silent' });

describe('understanding by role', () => {
  let dataDir: string;
  let intents: readonly IntentDeclaration[];
  let config: Config;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-understanding-'));
    config = loadConfig({ env: { PARLEY_DATA_DIR: dataDir, PARLEY_INFERENCE_THREADS: '1' } });
    intents = (await loadSkills(config, logger)).intents();
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('role all - rules then the in-process model; a newly activated registry version is picked up', async () => {
    const understanding = await startUnderstanding(config, intents, logger);
    try {
      assert.match(understanding.description, /in-process, 1 worker thread/);
      const tokyo = await understanding.classifier.classify('what time is it in Tokyo');
      assert.equal(tokyo?.intent, 'time.in_city');
      const hello = await understanding.classifier.classify('你好');
      assert.equal(hello?.intent, 'smalltalk.greet');

      // Another version activated by `parley model train` in another process: served within seconds.
      const registry = openModelRegistry(modelRegistryDir(dataDir));
      const before = await registry.current();
      const dataset = datasetFromManifests([{ intents }], 'plugins');
      const other = await buildModel(dataset, { ...SKILLS_TRAIN_OPTIONS, seed: 11 });
      const published = await registry.publish(other.toPublish);
      await registry.activate(published.metadata.version);
      assert.notEqual(published.metadata.version, before?.metadata.version);
      assert.equal(understanding.modelVersion, before?.metadata.version);
      const logs: string[] = [];
      const deadline = Date.now() + 15_000;
      // The classifier keeps answering throughout; the swap shows in the answers' source model.
      while (Date.now() < deadline) {
        assert.equal((await understanding.classifier.classify('show my notes'))?.intent, 'notes.list');
        const served = understanding.modelVersion ?? '';
        logs.push(served);
        if (served === published.metadata.version) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(logs.at(-1), published.metadata.version, 'the engine swapped to the activated version');
    } finally {
      await understanding.close();
    }
  });

  it('role inference + a core with inference.address - classification over gRPC; rules alone when it is gone', async () => {
    const service = await startInferenceService(
      { ...config, inference: { ...config.inference, listen: '127.0.0.1:0' } },
      intents,
      logger,
    );
    const remote = loadConfig({
      env: {
        PARLEY_DATA_DIR: dataDir,
        PARLEY_INFERENCE_ADDRESS: `127.0.0.1:${service.port}`,
        PARLEY_INFERENCE_DEADLINE: '500ms',
      },
    });
    const understanding = await startUnderstanding(remote, intents, logger);
    try {
      assert.match(understanding.description, new RegExp(`127\\.0\\.0\\.1:${service.port}`));
      assert.ok(understanding.modelVersion, 'the client follows the served model');
      assert.equal(
        (await understanding.classifier.classify('what time is it in Tokyo'))?.intent,
        'time.in_city',
      );
      // No rule knows this text, so the model is asked: once through the service, then from the cache.
      const unruled = 'bananas and helicopters at dawn';
      assert.deepEqual(
        await understanding.classifier.classify(unruled),
        await understanding.classifier.classify(unruled),
      );
      assert.deepEqual(
        understanding.cache,
        { hits: 1, misses: 1, memoryHits: 1, redisHits: 0, hitRatio: 0.5, size: 1 },
        'the second ask was answered by the cache',
      );
      await service.close();
      // The model is gone: an example the rules know still answers, anything else falls back.
      assert.equal((await understanding.classifier.classify('what time is it'))?.intent, 'time.current');
    } finally {
      await understanding.close();
      await service.close();
    }
  });

  it("role inference - the text and batch limits from the config are the service's", async () => {
    const service = await startInferenceService(
      {
        ...config,
        inference: { ...config.inference, listen: '127.0.0.1:0', maxTextChars: 10, maxBatchTexts: 2 },
      },
      intents,
      logger,
    );
    const client = createInferenceClient({ address: `127.0.0.1:${service.port}`, coalesce: false });
    try {
      await client.ready();
      await assert.rejects(client.predict('x'.repeat(11)), /the text is 11 characters long; the limit is 10/);
      await assert.rejects(client.predictBatch(['a', 'b', 'c']), /the batch has 3 texts; the limit is 2/);
      assert.equal((await client.predictBatch(['set alarm', 'hello'])).predictions.length, 2);
    } finally {
      client.close();
      await service.close();
    }
  });

  it('a core with REDIS_URL keeps answers in Redis: a second core with no memory cache gets them from there', async () => {
    const service = await startInferenceService(
      { ...config, inference: { ...config.inference, listen: '127.0.0.1:0' } },
      intents,
      logger,
    );
    const core = (): Config =>
      loadConfig({
        env: {
          PARLEY_DATA_DIR: dataDir,
          PARLEY_INFERENCE_ADDRESS: `127.0.0.1:${service.port}`,
          PARLEY_INFERENCE_CACHE_SIZE: '0',
          REDIS_URL: process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        },
      });
    const first = await startUnderstanding(core(), intents, logger);
    const second = await startUnderstanding(core(), intents, logger);
    // A text of its own, so no earlier run's entry answers it.
    const text = `bananas and helicopters, run ${process.pid} ${Date.now()}`;
    try {
      const answer = await first.classifier.classify(text);
      assert.deepEqual(first.cache, {
        hits: 0,
        misses: 1,
        memoryHits: 0,
        redisHits: 0,
        hitRatio: 0,
        size: 0,
      });
      assert.deepEqual(await second.classifier.classify(text), answer);
      assert.equal(second.cache?.redisHits, 1, 'answered from Redis, put there by the first core');
    } finally {
      await first.close();
      await second.close();
      await service.close();
    }
  });
});
