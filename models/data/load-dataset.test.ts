import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUT_OF_SCOPE } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { loadDataset } from './load-dataset.js';
import { datasetFromManifests } from './parley.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'parley-datasets-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes `content` to a fresh file named `name` and returns its path. */
async function file(name: string, content: string): Promise<string> {
  const directory = await mkdtemp(join(scratch, 'case-'));
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

/**
 * Asserts that loading the file fails with a DatasetError of this code at this line, whose reason
 * contains `reason`, and whose message is `<file>:<line>[:<column>]: <reason>`.
 */
async function rejects(
  path: string,
  expected: { code: DatasetErrorCode; line: number | undefined; reason: string | RegExp },
): Promise<DatasetError> {
  const error = await loadDataset(path).then(
    () => assert.fail(`${path} loaded, but should have failed`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
  assert.equal(error.name, 'DatasetError');
  assert.equal(error.code, expected.code);
  assert.equal(error.file, path);
  assert.equal(error.line, expected.line);
  if (typeof expected.reason === 'string') assert.ok(error.reason.includes(expected.reason), error.reason);
  else assert.match(error.reason, expected.reason);
  const where = expected.line === undefined ? path : `${path}:${expected.line}`;
  assert.ok(error.message.startsWith(`${where}:`), error.message);
  assert.ok(error.message.endsWith(`: ${error.reason}`), error.message);
  return error;
}

describe('dataset loaders', () => {
  describe('parley', () => {
    it('parley - an intents file gives one training example per example, trimmed', async () => {
      const path = join(fixtures, 'intents.json');
      const dataset = await loadDataset(path);
      assert.equal(dataset.format, 'parley');
      assert.equal(dataset.source, path);
      assert.deepEqual(dataset.train, [
        { text: 'what time is it', label: 'time.current' },
        { text: '现在几点', label: 'time.current' },
        { text: 'hello', label: 'smalltalk.greet' },
        { text: 'hi there', label: 'smalltalk.greet' },
      ]);
      assert.deepEqual(dataset.labels, ['smalltalk.greet', 'time.current']);
      assert.equal(dataset.validation, undefined);
      assert.equal(dataset.test, undefined);
    });

    it('parley - a plugin manifest.json reads as its intents', async () => {
      const dataset = await loadDataset(join(fixtures, 'plugins', 'greet', 'manifest.json'));
      assert.equal(dataset.format, 'parley');
      assert.deepEqual(dataset.labels, ['greet.bye', 'greet.hello']);
      assert.equal(dataset.train.length, 3);
    });

    it('parley - a folder of plugins gathers every manifest in name order and skips folders without one', async () => {
      const directory = join(fixtures, 'plugins');
      const dataset = await loadDataset(directory);
      assert.equal(dataset.source, directory);
      assert.deepEqual(dataset.train, [
        { text: 'what time is it', label: 'clock.now' },
        { text: '几点了', label: 'clock.now' },
        { text: 'hello', label: 'greet.hello' },
        { text: '你好', label: 'greet.hello' },
        { text: 'bye', label: 'greet.bye' },
      ]);
    });

    it('parley - a single plugin folder reads its own manifest', async () => {
      const dataset = await loadDataset(join(fixtures, 'plugins', 'clock'));
      assert.deepEqual(dataset.labels, ['clock.now']);
    });

    it("parley - the real plugins/ folder gives the built-in skills' intents, English and Chinese", async () => {
      const dataset = await loadDataset(join(repoRoot, 'plugins'));
      assert.equal(dataset.format, 'parley');
      for (const label of ['help.show', 'notes.add', 'notes.list', 'smalltalk.greet', 'time.current']) {
        assert.ok(dataset.labels.includes(label), `missing ${label} in ${dataset.labels.join(', ')}`);
      }
      assert.ok(dataset.labels.every((label) => /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_-]*$/.test(label)));
      assert.ok(
        dataset.train.some((example) => example.text === '你好' && example.label === 'smalltalk.greet'),
      );
      assert.ok(
        dataset.train.some(
          (example) => example.text === 'what time is it' && example.label === 'time.current',
        ),
      );
      assert.equal(dataset.validation, undefined);
    });

    it('parley - datasetFromManifests takes manifests held in memory', () => {
      const dataset = datasetFromManifests([
        { intents: [{ name: 'b.two', examples: ['second'] }] },
        { intents: [{ name: 'a.one', examples: ['first', ' first again '] }] },
      ]);
      assert.equal(dataset.format, 'parley');
      assert.deepEqual(dataset.labels, ['a.one', 'b.two']);
      assert.deepEqual(dataset.train, [
        { text: 'second', label: 'b.two' },
        { text: 'first', label: 'a.one' },
        { text: 'first again', label: 'a.one' },
      ]);
      assert.throws(
        () => datasetFromManifests([{ intents: [{ name: 'a.one', examples: ['  '] }] }], 'host'),
        (error: unknown) =>
          error instanceof DatasetError &&
          error.code === DatasetErrorCode.EmptyField &&
          error.message === "host: intents[0].examples[0]: empty example of 'a.one'",
      );
      assert.throws(
        () => datasetFromManifests([]),
        (error: unknown) => error instanceof DatasetError && error.code === DatasetErrorCode.Empty,
      );
    });

    it('parley - bad JSON fails with the line and column of the fault', async () => {
      const path = await file(
        'intents.json',
        '{\n  "intents": [\n    { "name": "a.b", "examples": ["x",] }\n  ]\n}\n',
      );
      const error = await rejects(path, {
        code: DatasetErrorCode.Syntax,
        line: 3,
        reason: /^invalid JSON: /,
      });
      assert.equal(error.column, 39);
      assert.ok(error.message.startsWith(`${path}:3:39: invalid JSON`), error.message);
      assert.ok(error.cause instanceof SyntaxError);
    });

    it('parley - bad JSON without a position from JSON.parse still gets a line', async () => {
      const path = await file('intents.json', '{\n  "intents": [\n    { "name": tru }\n  ]\n}\n');
      await rejects(path, { code: DatasetErrorCode.Syntax, line: 3, reason: "expected 'true'" });
      const unterminated = await file('intents.json', '{\n  "intents": [\n    { "name": "a.b\n');
      await rejects(unterminated, { code: DatasetErrorCode.Syntax, line: 3, reason: 'control character' });
      const truncated = await file('intents.json', '{\n  "intents": [\n');
      await rejects(truncated, { code: DatasetErrorCode.Syntax, line: 3, reason: 'unexpected end of input' });
    });

    it('parley - an intent without examples fails on the line of that intent', async () => {
      const path = await file(
        'intents.json',
        '{\n  "intents": [\n    { "name": "a.b", "examples": ["x"] },\n    { "name": "a.c" }\n  ]\n}\n',
      );
      await rejects(path, {
        code: DatasetErrorCode.InvalidStructure,
        line: 4,
        reason: 'intents[1].examples: ',
      });
    });

    it('parley - an empty example or intent name fails on its line', async () => {
      const example = await file(
        'intents.json',
        '{\n  "intents": [\n    { "name": "a.b", "examples": [\n      "ok",\n      " "\n    ] }\n  ]\n}\n',
      );
      await rejects(example, {
        code: DatasetErrorCode.EmptyField,
        line: 5,
        reason: "intents[0].examples[1]: empty example of 'a.b'",
      });
      const name = await file(
        'intents.json',
        '{\n  "intents": [\n    {\n      "name": "",\n      "examples": ["x"] }\n  ]\n}\n',
      );
      await rejects(name, {
        code: DatasetErrorCode.EmptyField,
        line: 4,
        reason: 'intents[0].name: empty intent name',
      });
    });

    it('parley - no intents at all is an empty dataset', async () => {
      const path = await file('intents.json', '{ "intents": [] }\n');
      await rejects(path, { code: DatasetErrorCode.Empty, line: undefined, reason: 'no examples' });
    });

    it('parley - a broken manifest in a plugins folder is reported with its own path', async () => {
      const directory = await mkdtemp(join(scratch, 'plugins-'));
      await mkdir(join(directory, 'good'));
      await mkdir(join(directory, 'bad'));
      await writeFile(
        join(directory, 'good', 'manifest.json'),
        '{ "intents": [{ "name": "good.a", "examples": ["x"] }] }',
      );
      await writeFile(
        join(directory, 'bad', 'manifest.json'),
        '{\n  "intents": [\n    { "name": 1, "examples": [] }\n  ]\n}',
      );
      const manifest = join(directory, 'bad', 'manifest.json');
      const error = await loadDataset(directory).then(
        () => assert.fail('should fail'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DatasetError);
      assert.equal(error.file, manifest);
      assert.equal(error.line, 3);
      assert.ok(error.message.startsWith(`${manifest}:3: intents[0].name: `), error.message);
    });

    it('parley - a folder without any manifest is an unknown format', async () => {
      const directory = await mkdtemp(join(scratch, 'empty-'));
      await mkdir(join(directory, 'nothing-here'));
      await rejects(directory, {
        code: DatasetErrorCode.UnknownFormat,
        line: undefined,
        reason: 'no plugin manifests',
      });
    });
  });

  describe('csv', () => {
    it('csv - reads a BOM, CRLF, quoted commas, doubled quotes, line breaks in quotes; skips blank lines', async () => {
      const path = join(fixtures, 'examples.csv');
      const dataset = await loadDataset(path);
      assert.equal(dataset.format, 'csv');
      assert.deepEqual(dataset.train, [
        { text: 'what time is it', label: 'time.current' },
        { text: 'remind me to buy eggs, milk', label: 'notes.add' },
        { text: 'she said "hi"', label: 'smalltalk.greet' },
        { text: 'a note\nover two lines', label: 'notes.add' },
        { text: 'book me a flight to mars', label: OUT_OF_SCOPE },
      ]);
      assert.deepEqual(dataset.labels, ['notes.add', 'smalltalk.greet', 'time.current']);
    });

    it('csv - the label column may be called label, intent or category, in any case and order', async () => {
      for (const header of ['text,label', 'intent,text', ' Category , TEXT ']) {
        const path = await file(
          'data.csv',
          `${header}\n${header.trim().toLowerCase().startsWith('text') ? 'hi,greet' : 'greet,hi'}\n`,
        );
        const dataset = await loadDataset(path);
        assert.deepEqual(dataset.train, [{ text: 'hi', label: 'greet' }], header);
      }
    });

    it('csv - a header without a text column fails on line 1 naming the columns it needs', async () => {
      const path = await file('data.csv', 'utterance,label\nhi,greet\n');
      await rejects(path, {
        code: DatasetErrorCode.MissingColumn,
        line: 1,
        reason: /^no 'text' column in the header \(found "utterance", "label"\).*label, intent, category$/,
      });
    });

    it('csv - a header without a label column fails on line 1', async () => {
      const path = await file('data.csv', 'text,comment\nhi,greet\n');
      await rejects(path, {
        code: DatasetErrorCode.MissingColumn,
        line: 1,
        reason: "no label column ('label', 'intent', 'category')",
      });
    });

    it('csv - an unterminated quote fails on the line where it opened', async () => {
      const path = await file('data.csv', 'text,label\nhi,greet\n"open,greet\nmore\n');
      await rejects(path, { code: DatasetErrorCode.Syntax, line: 3, reason: 'unterminated quoted field' });
    });

    it('csv - text after a closing quote fails on its line', async () => {
      const path = await file('data.csv', 'text,label\n"a\nb"x,greet\n');
      await rejects(path, {
        code: DatasetErrorCode.Syntax,
        line: 3,
        reason: 'unexpected "x" after a closing quote',
      });
    });

    it('csv - a record with the wrong number of fields fails on its line, counted past multi-line fields', async () => {
      const extra = await file('data.csv', 'text,label\nhi,greet\nhello,greet,extra\n');
      await rejects(extra, {
        code: DatasetErrorCode.FieldCount,
        line: 3,
        reason: '3 fields where the header has 2',
      });
      const short = await file('data.csv', 'text,label\n"two\nlines",l\nalone\n');
      await rejects(short, {
        code: DatasetErrorCode.FieldCount,
        line: 4,
        reason: '1 field where the header has 2',
      });
    });

    it('csv - an empty text or label fails on its line', async () => {
      const text = await file('data.csv', 'text,label\nhi,greet\n  ,greet\n');
      await rejects(text, { code: DatasetErrorCode.EmptyField, line: 3, reason: 'empty text' });
      const label = await file('data.csv', 'text,intent\nhi,\n');
      await rejects(label, { code: DatasetErrorCode.EmptyField, line: 2, reason: 'empty intent' });
    });

    it('csv - a header and no rows is an empty dataset', async () => {
      await rejects(await file('data.csv', 'text,label\n'), {
        code: DatasetErrorCode.Empty,
        line: undefined,
        reason: 'no examples',
      });
      await rejects(await file('data.csv', ''), {
        code: DatasetErrorCode.Empty,
        line: undefined,
        reason: 'empty',
      });
    });
  });

  describe('rasa', () => {
    it('rasa - reads intents, strips entity annotations, skips synonym/regex/lookup and other sections', async () => {
      const dataset = await loadDataset(join(fixtures, 'nlu.yml'));
      assert.equal(dataset.format, 'rasa');
      assert.deepEqual(dataset.train, [
        { text: 'hey', label: 'greet' },
        { text: 'good morning', label: 'greet' },
        { text: 'hello Parley', label: 'greet' },
        { text: 'what time is it in Berlin', label: 'time_in_city' },
        { text: 'time in New York', label: 'time_in_city' },
        { text: 'is it late in Paris', label: 'time_in_city' },
        { text: 'order me a pizza', label: OUT_OF_SCOPE },
      ]);
      assert.deepEqual(dataset.labels, ['greet', 'time_in_city']);
    });

    it('rasa - a YAML syntax error fails with its line and column', async () => {
      const path = await file(
        'nlu.yml',
        'nlu:\n  - intent: greet\n    examples: |\n      - hey\n  - intent: [bye\n',
      );
      const error = await rejects(path, {
        code: DatasetErrorCode.Syntax,
        line: 6,
        reason: /^invalid YAML: /,
      });
      assert.ok(!error.reason.includes(' at line '), error.reason);
      const duplicate = await file('nlu.yml', 'nlu:\n  - intent: greet\n    intent: hello\n');
      await rejects(duplicate, {
        code: DatasetErrorCode.Syntax,
        line: 3,
        reason: 'invalid YAML: Map keys must be unique',
      });
    });

    it('rasa - an empty example fails on its own line', async () => {
      const path = await file(
        'nlu.yml',
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hey\n\n    - [](name)\n',
      );
      await rejects(path, {
        code: DatasetErrorCode.EmptyField,
        line: 7,
        reason: "empty example in intent 'greet'",
      });
    });

    it('rasa - an example line without a dash fails on its own line', async () => {
      const path = await file('nlu.yml', 'nlu:\n- intent: greet\n  examples: |\n    - hey\n    hello\n');
      await rejects(path, {
        code: DatasetErrorCode.InvalidStructure,
        line: 5,
        reason: 'lines starting with',
      });
    });

    it('rasa - an intent without a name or without examples fails on its line', async () => {
      const unnamed = await file(
        'nlu.yml',
        'nlu:\n- intent: greet\n  examples: |\n    - hey\n- intent: ""\n  examples: |\n    - x\n',
      );
      await rejects(unnamed, { code: DatasetErrorCode.EmptyField, line: 5, reason: 'empty intent name' });
      const bare = await file('nlu.yml', 'nlu:\n- intent: greet\n  examples: |\n    - hey\n- intent: bye\n');
      await rejects(bare, {
        code: DatasetErrorCode.InvalidStructure,
        line: 5,
        reason: "intent 'bye' has no examples",
      });
    });

    it("rasa - a file without an 'nlu:' list fails", async () => {
      const missing = await file('nlu.yml', 'version: "3.1"\nresponses:\n  utter_hi: []\n');
      await rejects(missing, {
        code: DatasetErrorCode.InvalidStructure,
        line: 1,
        reason: "no 'nlu:' section",
      });
      const mapping = await file('nlu.yml', 'version: "3.1"\nnlu:\n  greet: hello\n');
      await rejects(mapping, {
        code: DatasetErrorCode.InvalidStructure,
        line: 3,
        reason: "'nlu:' must be a list",
      });
      const unknown = await file('nlu.yaml', 'nlu:\n- intent: greet\n  examples: |\n    - hey\n- story: x\n');
      await rejects(unknown, {
        code: DatasetErrorCode.InvalidStructure,
        line: 5,
        reason: 'needs one of: intent, synonym',
      });
    });
  });

  describe('clinc150', () => {
    it('clinc150 - train, validation and test each join the in-scope split and its oos_ split', async () => {
      const dataset = await loadDataset(join(fixtures, 'clinc-mini.json'));
      assert.equal(dataset.format, 'clinc150');
      assert.deepEqual(dataset.train, [
        { text: 'what time is it', label: 'time' },
        { text: 'set an alarm for six', label: 'alarm' },
        { text: "what's the time", label: 'time' },
        { text: 'order a pizza', label: OUT_OF_SCOPE },
      ]);
      assert.deepEqual(dataset.validation, [
        { text: 'time please', label: 'time' },
        { text: 'sing me a song', label: OUT_OF_SCOPE },
      ]);
      assert.equal(dataset.test?.length, 3);
      assert.deepEqual(dataset.labels, ['alarm', 'time']);
    });

    it('clinc150 - a file with only a train split has no validation or test', async () => {
      const dataset = await loadDataset(await file('small.json', '{ "train": [["hi", "greet"]] }'));
      assert.equal(dataset.format, 'clinc150');
      assert.equal(dataset.validation, undefined);
      assert.equal(dataset.test, undefined);
    });

    it('clinc150 - a pair that is not [string, string] fails on its line', async () => {
      const path = await file('data.json', '{\n  "train": [\n    ["a", "b"],\n    ["c", 3]\n  ]\n}\n');
      await rejects(path, {
        code: DatasetErrorCode.InvalidStructure,
        line: 4,
        reason: 'train[1]: expected a [text, label] pair of strings, got ["c",3]',
      });
      const triple = await file('data.json', '{"val": [["a", "b", "c"]], "train": []}');
      await rejects(triple, {
        code: DatasetErrorCode.InvalidStructure,
        line: 1,
        reason: 'val[0]: expected a [text, label] pair',
      });
      const notList = await file('data.json', '{\n  "train": [],\n  "test": {}\n}');
      await rejects(notList, {
        code: DatasetErrorCode.InvalidStructure,
        line: 3,
        reason: 'test: must be a list',
      });
    });

    it('clinc150 - an empty text or label fails on its line', async () => {
      const path = await file(
        'data.json',
        '{\n  "train": [\n    ["a", "b"],\n    [\n      "  ",\n      "b"\n    ]\n  ]\n}\n',
      );
      await rejects(path, { code: DatasetErrorCode.EmptyField, line: 5, reason: 'train[1][0]: empty text' });
    });
  });

  describe('detection', () => {
    it('detection - a file without a known extension is told by its content', async () => {
      const json = await loadDataset(
        await file('intents', '{ "intents": [{ "name": "a.b", "examples": ["x"] }] }'),
      );
      assert.equal(json.format, 'parley');
      const clinc = await loadDataset(await file('clinc.txt', '\n{ "train": [["x", "y"]] }'));
      assert.equal(clinc.format, 'clinc150');
      const rasa = await loadDataset(
        await file('training-data', 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n'),
      );
      assert.equal(rasa.format, 'rasa');
      const csv = await loadDataset(await file('data.tsv.txt', 'label,text\ngreet,hi\n'));
      assert.equal(csv.format, 'csv');
    });

    it('detection - the extension decides over the content, case-insensitively', async () => {
      const yaml = await loadDataset(await file('NLU.YAML', 'nlu:\n- intent: a\n  examples: |\n    - x\n'));
      assert.equal(yaml.format, 'rasa');
      const csv = await file('data.CSV', '{"intents": []}\n');
      await rejects(csv, { code: DatasetErrorCode.MissingColumn, line: 1, reason: "no 'text' column" });
    });

    it('detection - an unknown format says which formats are known', async () => {
      const text = await file('notes.txt', 'just some words\n');
      const error = await rejects(text, {
        code: DatasetErrorCode.UnknownFormat,
        line: undefined,
        reason: 'unknown dataset format',
      });
      for (const format of ['Parley JSON', 'CSV', 'Rasa NLU YAML', 'CLINC150 JSON']) {
        assert.ok(error.reason.includes(format), `${format} not named in: ${error.reason}`);
      }
      const json = await file('other.json', '{ "rows": [] }');
      await rejects(json, {
        code: DatasetErrorCode.UnknownFormat,
        line: undefined,
        reason: 'neither "intents"',
      });
    });

    it('detection - a missing path fails as unreadable', async () => {
      const path = join(scratch, 'does-not-exist.csv');
      const error = await rejects(path, {
        code: DatasetErrorCode.Unreadable,
        line: undefined,
        reason: 'cannot read: ENOENT',
      });
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
    });
  });
});
