import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntentSpec } from '../classifier.js';
import { RuleConfidence } from './confidence.js';
import { InvalidPatternError } from './errors.js';
import { createRuleClassifier } from './rule-classifier.js';

const intents: IntentSpec[] = [
  {
    name: 'weather.forecast',
    examples: ['what is the weather like today', 'weather forecast'],
    patterns: ['^(?:weather|forecast) (?:in|for) (?<city>.+?)\\??$'],
    keywords: ['umbrella', '天气'],
  },
  { name: 'music.play', examples: ['play some music', 'put on a song'], keywords: ['play'] },
  { name: 'greet.hello', examples: ['hello', '你好'], keywords: ['hi'] },
];

describe('rule classifier', () => {
  it('rules - a pattern match wins with named groups as trimmed entities', async () => {
    const classifier = createRuleClassifier(intents);
    assert.deepEqual(await classifier.classify('  Weather   in  New York? '), {
      intent: 'weather.forecast',
      confidence: RuleConfidence.pattern,
      entities: { city: 'New York' },
      source: 'rules',
    });
  });

  it('rules - keywords match whole words in Latin script and substrings in CJK', async () => {
    const classifier = createRuleClassifier(intents);
    assert.equal((await classifier.classify('do I need an umbrella?'))?.intent, 'weather.forecast');
    assert.equal((await classifier.classify('do I need an umbrellas'))?.intent, undefined);
    assert.equal((await classifier.classify('今天天气怎么样'))?.intent, 'weather.forecast');
    assert.equal((await classifier.classify('hi!'))?.intent, 'greet.hello');
    assert.equal(await classifier.classify('this is his thing'), undefined);
    assert.equal((await classifier.classify('let us play'))?.confidence, RuleConfidence.keyword);
  });

  it('rules - an example matches exactly ignoring case and punctuation, or nearly by token overlap', async () => {
    const classifier = createRuleClassifier(intents);
    assert.deepEqual(await classifier.classify('Weather forecast!'), {
      intent: 'weather.forecast',
      confidence: RuleConfidence.example,
      entities: {},
      source: 'rules',
    });
    assert.equal((await classifier.classify('你好'))?.confidence, RuleConfidence.example);
    const near = await classifier.classify('what is the weather like today then');
    assert.equal(near?.intent, 'weather.forecast');
    assert.ok(
      near.confidence < RuleConfidence.example && near.confidence >= 0.7 * 0.75,
      String(near.confidence),
    );
    assert.equal(await classifier.classify('what is the weather'), undefined);
  });

  it('rules - full-width forms and typographic quotes are normalised (NFKC)', async () => {
    const classifier = createRuleClassifier([
      {
        name: 'notes.add',
        examples: ['note: x'],
        patterns: ['^note: (?<note>.+)$', "^what's (?<thing>\\w+)$"],
      },
    ]);
    assert.deepEqual((await classifier.classify('ｎｏｔｅ： 买牛奶'))?.entities, { note: '买牛奶' });
    assert.deepEqual((await classifier.classify('what’s up'))?.entities, { thing: 'up' });
  });

  it('rules - nothing matching is out of scope', async () => {
    const classifier = createRuleClassifier(intents);
    assert.equal(await classifier.classify('quantum chromodynamics'), undefined);
    assert.equal(await classifier.classify('   '), undefined);
    assert.equal(await classifier.classify('?!'), undefined);
  });

  it('rules - the stronger kind wins at equal priority, and a higher priority overrides any kind', async () => {
    const base: IntentSpec[] = [
      { name: 'a.pattern', examples: ['x'], patterns: ['^play (?<what>.+)$'] },
      { name: 'b.keyword', examples: ['y'], keywords: ['play'] },
    ];
    const plain = createRuleClassifier(base);
    assert.equal((await plain.classify('play jazz'))?.intent, 'a.pattern');
    const overridden = createRuleClassifier([
      base[0] as IntentSpec,
      { ...(base[1] as IntentSpec), priority: 1 },
    ]);
    const result = await overridden.classify('play jazz');
    assert.equal(result?.intent, 'b.keyword');
    assert.equal(result.confidence, RuleConfidence.keyword);
  });

  it('rules - priority breaks a tie between equal matches, else the longer match, else the first declared', async () => {
    const tie: IntentSpec[] = [
      { name: 'first.one', examples: ['x'], patterns: ['^stop$'] },
      { name: 'second.one', examples: ['y'], patterns: ['^stop$'] },
    ];
    assert.equal((await createRuleClassifier(tie).classify('stop'))?.intent, 'first.one');
    const prioritised = createRuleClassifier([
      tie[0] as IntentSpec,
      { ...(tie[1] as IntentSpec), priority: 5 },
    ]);
    assert.equal((await prioritised.classify('stop'))?.intent, 'second.one');
    const longer = createRuleClassifier([
      { name: 'short.kw', examples: ['x'], keywords: ['time'] },
      { name: 'long.kw', examples: ['y'], keywords: ['time zone'] },
    ]);
    assert.equal((await longer.classify('which time zone is this'))?.intent, 'long.kw');
  });

  it('rules - conditions filter rules by expecting, last intent and channel', async () => {
    const classifier = createRuleClassifier([
      {
        name: 'notes.fill',
        examples: ['x'],
        patterns: ['^(?<note>.+)$'],
        conditions: { expecting: 'notes.add:note' },
      },
      { name: 'notes.more', examples: ['more'], conditions: { lastIntent: 'notes.list' } },
      { name: 'web.only', examples: ['reload page'], conditions: { channels: ['web'] } },
      { name: 'music.play', examples: ['play'], keywords: ['play'] },
    ]);
    assert.equal(await classifier.classify('buy milk'), undefined);
    assert.deepEqual(await classifier.classify('buy milk', { expecting: 'notes.add:note' }), {
      intent: 'notes.fill',
      confidence: RuleConfidence.pattern,
      entities: { note: 'buy milk' },
      source: 'rules',
    });
    assert.equal(await classifier.classify('more', { lastIntent: 'time.current' }), undefined);
    assert.equal((await classifier.classify('more', { lastIntent: 'notes.list' }))?.intent, 'notes.more');
    assert.equal(await classifier.classify('reload page'), undefined);
    assert.equal(await classifier.classify('reload page', { channel: 'cli' }), undefined);
    assert.equal((await classifier.classify('reload page', { channel: 'web' }))?.intent, 'web.only');
  });

  it('rules - classification is deterministic and rank lists every match best first', async () => {
    const classifier = createRuleClassifier(intents);
    const text = 'hi, play the weather forecast';
    const first = await classifier.classify(text);
    for (let i = 0; i < 20; i += 1) assert.deepEqual(await classifier.classify(text), first);
    assert.deepEqual(
      classifier.rank(text).map((match) => [match.intent, match.kind]),
      [
        ['music.play', 'keyword'],
        ['greet.hello', 'keyword'],
      ],
    );
    assert.deepEqual(createRuleClassifier([...intents].reverse()).rank('weather in Oslo').length, 1);
  });

  it('rules - an invalid pattern is refused when the classifier is created', () => {
    assert.throws(
      () => createRuleClassifier([{ name: 'x.y', examples: ['x'], patterns: ['(oops'] }]),
      (error: unknown) =>
        error instanceof InvalidPatternError && error.intent === 'x.y' && error.pattern === '(oops',
    );
  });
});
