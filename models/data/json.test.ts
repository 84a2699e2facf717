import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findJsonSyntaxError, jsonLineOf, lineColumnAt } from './json.js';

describe('json positions', () => {
  it('json - the scanner accepts exactly what JSON.parse accepts', () => {
    const samples = [
      '{}',
      ' [1, -2.5e+3, "a\\u00e9\\n", true, false, null, {"k": [[]]}] ',
      '"\\ud83d\\ude00"',
      '{"a": 1,}',
      '[1 2]',
      '[01]',
      '[1.]',
      '{"a" 1}',
      '"\\x41"',
      '[nul]',
      '{"a": 1} x',
      '',
      '"tab\there"',
    ];
    for (const sample of samples) {
      let valid = true;
      try {
        JSON.parse(sample);
      } catch {
        valid = false;
      }
      assert.equal(findJsonSyntaxError(sample) === undefined, valid, sample);
    }
  });

  it('json - a syntax error is placed where JSON.parse stopped', () => {
    assert.equal(findJsonSyntaxError('[1, 2 3]')?.offset, 6);
    assert.equal(findJsonSyntaxError('{"a": [1,\n}')?.offset, 10);
  });

  it('json - jsonLineOf finds a value by path, or the deepest value along it', () => {
    const text = '{\n  "a": [\n    1,\n    {"b": 2,\n     "c": 3}\n  ],\n  "d": "e"\n}';
    assert.equal(jsonLineOf(text, []), 1);
    assert.equal(jsonLineOf(text, ['a', 0]), 3);
    assert.equal(jsonLineOf(text, ['a', 1, 'c']), 5);
    assert.equal(jsonLineOf(text, ['d']), 7);
    assert.equal(jsonLineOf(text, ['a', 1, 'missing']), 4);
    assert.equal(jsonLineOf(text, ['a', 5]), 2);
  });

  it('json - lineColumnAt counts 1-based lines and columns', () => {
    assert.deepEqual(lineColumnAt('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumnAt('ab\ncd', 4), { line: 2, column: 2 });
  });
});
