/** `parley model train | eval | info` as a person runs them, on small data files. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARLEY_BIN } from './parley-process.js';

function parley(args: readonly string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [PARLEY_BIN, 'model', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const INTENTS = {
  'music.play': [
    'play some jazz',
    'put on the beatles',
    'play my playlist',
    'start playing rock',
    'play music',
  ],
  'alarm.set': ['wake me up at 7', 'set an alarm for 6', 'alarm at noon', 'set my alarm', 'wake me at 5'],
  'weather.today': [
    'is it raining',
    'weather today',
    'how hot is it',
    'will it be sunny',
    'what is the weather',
  ],
};

describe('cli - parley model', () => {
  let dir: string;
  let csv: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-model-cli-'));
    csv = join(dir, 'intents.csv');
    const rows = Object.entries(INTENTS).flatMap(([label, texts]) =>
      texts.map((text) => `"${text}",${label}`),
    );
    await writeFile(csv, `text,intent\n${rows.join('\n')}\n`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('model - train publishes a version, eval scores it, info lists it', () => {
    const out = join(dir, 'registry');
    const trained = parley(['train', '--data', csv, '--out', out, '--seed', '5']);
    assert.equal(trained.status, 0, trained.stderr);
    assert.match(trained.stdout, /csv data from .*: 15 train, 3 intents/);
    assert.match(trained.stdout, /model v1-[0-9a-f]{8}/);
    assert.match(trained.stdout, /size {6}FP32 [\d.]+ MB, INT8 [\d.]+ MB/);

    const evaluated = parley(['eval', '--model', out, '--data', csv]);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.match(evaluated.stdout, /in-scope accuracy {3}\d+\.\d\d%/);
    assert.match(evaluated.stdout, /macro-F1/);

    const info = parley(['info', '--model', out]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /1 version\(s\)\n \* v1-/);
  });

  it('model - a broken data file is reported with file, line and reason (exit 2)', async () => {
    const broken = join(dir, 'broken.csv');
    await writeFile(broken, 'text,intent\n"unterminated,music.play\n');
    const result = parley(['train', '--data', broken, '--out', join(dir, 'nowhere')]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /broken\.csv:2: .*quote/i);
  });

  it('model - missing arguments print the usage (exit 2)', () => {
    const result = parley(['train', '--data', csv]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--out is required/);
    assert.match(parley(['fly']).stderr, /Usage:\n {2}parley model train/);
  });
});
