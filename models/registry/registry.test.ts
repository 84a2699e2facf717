import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticDataset } from '../model/fixtures/synthetic-intents.js';
import { buildModel, trainingDataHash, type BuiltModel } from './build-model.js';
import { evaluate } from './evaluate.js';
import { ModelRegistryError } from './errors.js';
import { openModelRegistry } from './model-registry.js';

const dataset = syntheticDataset();
const options = { seed: 3, features: { buckets: 2 ** 12 } };

describe('model registry', () => {
  let dir: string;
  let built: BuiltModel;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-registry-'));
    built = await buildModel(dataset, options);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('registry - publish, activate, list and current; versions count up and carry the data hash', async () => {
    const registry = openModelRegistry(join(dir, 'a'));
    assert.equal(await registry.current(), undefined, 'empty registry has no current version');
    const first = await registry.publish(built.toPublish);
    assert.equal(first.metadata.version, `v1-${trainingDataHash(dataset, options).slice(0, 8)}`);
    assert.equal(await registry.current(), undefined, 'published is not yet active');
    await registry.activate(first.metadata.version);
    assert.equal((await registry.current())?.metadata.version, first.metadata.version);
    const second = await registry.publish(built.toPublish);
    assert.match(second.metadata.version, /^v2-/);
    assert.deepEqual(
      (await registry.list()).map((entry) => entry.metadata.version),
      [first.metadata.version, second.metadata.version],
    );
    assert.deepEqual(second.metadata.labels, [...built.trained.labels]);
    assert.ok(second.metadata.sizes.int8 < 0.3 * second.metadata.sizes.fp32, 'INT8 is under 30% of FP32');
  });

  it('registry - the data hash ignores example order and changes with the data or the options', () => {
    const reversed = { ...dataset, train: [...dataset.train].reverse() };
    assert.equal(trainingDataHash(reversed, options), trainingDataHash(dataset, options));
    assert.notEqual(trainingDataHash(dataset, { ...options, seed: 4 }), trainingDataHash(dataset, options));
    const fewer = { ...dataset, train: dataset.train.slice(1) };
    assert.notEqual(trainingDataHash(fewer, options), trainingDataHash(dataset, options));
  });

  it('registry - unknown versions and broken metadata are clear errors', async () => {
    const registry = openModelRegistry(join(dir, 'b'));
    await assert.rejects(registry.activate('v9-deadbeef'), ModelRegistryError);
    const entry = await registry.publish(built.toPublish);
    await writeFile(join(entry.dir, 'metadata.json'), '{"version": 1}');
    await assert.rejects(registry.get(entry.metadata.version), /not valid model metadata/);
  });
});

describe('evaluation', () => {
  it('evaluate - accuracy counts in-scope only, recall counts out-of-scope only, confusions are ranked', () => {
    const examples = [
      { text: 'a', label: 'x' },
      { text: 'b', label: 'x' },
      { text: 'c', label: 'y' },
      { text: 'd', label: 'oos' },
      { text: 'e', label: 'oos' },
    ];
    const result = evaluate(examples, [
      { label: 'x', outOfScope: false },
      { label: 'y', outOfScope: false },
      { label: 'y', outOfScope: true },
      { label: 'x', outOfScope: true },
      { label: 'x', outOfScope: false },
    ]);
    assert.equal(result.inScopeAccuracy, 1 / 3);
    assert.equal(result.outOfScopeRecall, 1 / 2);
    // x: precision 1/2 (predicted twice), recall 1/2 -> F1 0.5; y: predicted once wrongly, recall 0 -> 0.
    assert.equal(result.macroF1, 0.25);
    assert.deepEqual(result.confused[0], { expected: 'oos', predicted: 'x', count: 1 });
    assert.equal(result.confused.length, 3);
  });
});
