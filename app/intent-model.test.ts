import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { IntentClassifier } from '../models/index.js';
import { createInferenceEngine, engineClassifier, type InferenceEngine } from '../models/serve/index.js';
import type { IntentDeclaration } from '../actors/skills/index.js';
import { loadSkills } from './assistant.js';
import { loadConfig } from './config.js';
import { ensureSkillsModel } from './intent-model.js';

const logger = pino({ level: 'silent' });

describe('skills intent model', () => {
  let dataDir: string;
  let intents: readonly IntentDeclaration[];
  let engine: InferenceEngine;
  let classifier: IntentClassifier;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-skills-model-'));
    intents = (await loadSkills(loadConfig({ env: {} }), logger)).intents();
    engine = await createInferenceEngine({
      model: await ensureSkillsModel(dataDir, intents, logger),
      threads: 1,
    });
    classifier = engineClassifier(engine);
  });
  after(async () => {
    await engine?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('skills model - the built-in skills are understood in English and Chinese by the model alone', async () => {
    const expected: Array<[string, string]> = [
      ['hello', 'smalltalk.greet'],
      ['你好', 'smalltalk.greet'],
      ['what time is it', 'time.current'],
      ['现在几点', 'time.current'],
      ['东京现在几点', 'time.in_city'],
      ['what time is it in Tokyo', 'time.in_city'],
      ['show my notes', 'notes.list'],
      ['thanks a lot', 'smalltalk.thanks'],
    ];
    for (const [text, intent] of expected) {
      assert.equal((await classifier.classify(text))?.intent, intent, text);
    }
  });

  it('skills model - reused while the plugins are unchanged, retrained when their examples change', async () => {
    const same = await ensureSkillsModel(dataDir, intents, logger);
    assert.equal(same.metadata.version, engine.model.version, 'no retraining for the same examples');
    const fewer = intents.filter((intent) => intent.plugin !== 'notes');
    const changed = await ensureSkillsModel(dataDir, fewer, logger);
    assert.notEqual(changed.metadata.version, same.metadata.version);
    assert.ok(!changed.metadata.labels.includes('notes.add'));
    const back = await ensureSkillsModel(dataDir, intents, logger);
    assert.equal(back.metadata.version, same.metadata.version, 'switching back reuses the published version');
  });
});
