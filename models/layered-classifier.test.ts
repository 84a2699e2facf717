import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntentClassifier } from './classifier.js';
import { createLayeredClassifier } from './layered-classifier.js';
import { syntheticDataset } from './model/fixtures/synthetic-intents.js';
import { buildModel, openModelRegistry } from './registry/index.js';
import { createRuleClassifier } from './rules/index.js';
import { createInferenceEngine, engineClassifier, type InferenceEngine } from './serve/index.js';

const rules = createRuleClassifier([
  { name: 'music.play', examples: ['play music'], patterns: ['^wake me up at (?<song>.+)$'] },
  { name: 'alarm.set', examples: ['set an alarm'], patterns: ['^alarm at (?<time>.+?)(?: please)?$'] },
]);

describe('layered classifier', () => {
  let dir: string;
  let engine: InferenceEngine;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-layered-'));
    const built = await buildModel(syntheticDataset(), { seed: 3, features: { buckets: 2 ** 12 } });
    engine = await createInferenceEngine({
      model: await openModelRegistry(dir).publish(built.toPublish),
      threads: 1,
    });
  });
  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a pattern rule overrides the model; the model answers what rules do not', async () => {
    const layered = createLayeredClassifier(rules, engineClassifier(engine));
    const overridden = await layered.classify('wake me up at 7');
    assert.equal(overridden?.intent, 'music.play', 'the rule wins over the model');
    assert.equal(overridden?.source, 'rules');
    const byModel = await layered.classify('could you play the beatles for me');
    assert.equal(byModel?.intent, 'music.play');
    assert.equal(byModel?.source, 'model');
  });

  it('a failing model leaves the rules answer standing and is reported', async () => {
    const failures: unknown[] = [];
    const broken: IntentClassifier = {
      classify: () => Promise.reject(new Error('inference service unavailable')),
    };
    const layered = createLayeredClassifier(rules, broken, (error) => failures.push(error));
    const byExample = await layered.classify('play music');
    assert.equal(byExample?.intent, 'music.play', 'an example match still counts');
    assert.equal(await layered.classify('something else entirely'), undefined);
    assert.equal(failures.length, 2);
    assert.match(String(failures[0]), /unavailable/);
  });
});
