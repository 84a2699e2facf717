import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginStorage } from '../sdk.js';
import { memoryStorage, skillContext, skillRequest, textsOf } from '../testing.js';
import handlers from './handler.js';

function notebook(storage: PluginStorage = memoryStorage()) {
  const context = skillContext({ storage, now: new Date('2024-05-01T05:05:00Z') });
  const run = async (intent: string, entities: Record<string, string> = {}): Promise<string> => {
    const handler = handlers[intent];
    assert.ok(handler, intent);
    return textsOf(await handler(skillRequest(intent, { entities }), context)).join('\n');
  };
  return {
    add: (note: string) => run('notes.add', { note }),
    list: () => run('notes.list'),
    delete: (entities: Record<string, string>) => run('notes.delete', entities),
  };
}

describe('notes skill', () => {
  it('notes - an empty list gets a friendly message', async () => {
    assert.match(await notebook().list(), /You have no notes yet/);
  });

  it('notes - added notes are listed numbered in creation order', async () => {
    const notes = notebook();
    assert.equal(await notes.add('buy milk'), 'Noted: "buy milk". You have 1 note.');
    assert.equal(await notes.add('call mom'), 'Noted: "call mom". You have 2 notes.');
    assert.equal(await notes.list(), 'Your notes:\n1. buy milk\n2. call mom');
  });

  it('notes - are stored under sortable keys with their creation time', async () => {
    const storage = memoryStorage();
    const notes = notebook(storage);
    for (let i = 1; i <= 11; i += 1) await notes.add(`note ${i}`);
    const keys = [...storage.entries.keys()].filter((key) => key.startsWith('note:'));
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(keys.length, 11);
    assert.deepEqual(storage.entries.get(keys[0] ?? ''), {
      text: 'note 1',
      createdAt: '2024-05-01T05:05:00.000Z',
    });
    assert.match(await notes.list(), /\n10\. note 10\n11\. note 11$/);
  });

  it('notes - delete by number removes that note from the list', async () => {
    const notes = notebook();
    for (const text of ['buy milk', 'call mom', 'pay rent']) await notes.add(text);
    assert.equal(await notes.delete({ number: '2' }), 'Deleted note 2: "call mom".');
    assert.equal(await notes.list(), 'Your notes:\n1. buy milk\n2. pay rent');
    assert.match(await notes.delete({ number: '5' }), /There's no note 5: you have 2 notes/);
    assert.equal(await notes.delete({ note: '1' }), 'Deleted note 1: "buy milk".');
  });

  it('notes - delete by text prefers an exact match, then a unique substring', async () => {
    const notes = notebook();
    for (const text of ['buy milk', 'buy milk and eggs', 'call mom']) await notes.add(text);
    assert.equal(await notes.delete({ note: 'Buy Milk' }), 'Deleted "buy milk".');
    assert.equal(await notes.delete({ note: 'mom' }), 'Deleted "call mom".');
    assert.equal(await notes.list(), 'Your notes:\n1. buy milk and eggs');
  });

  it('notes - delete by ambiguous or unknown text deletes nothing and says why', async () => {
    const notes = notebook();
    for (const text of ['buy milk', 'call mom', 'buy eggs']) await notes.add(text);
    assert.equal(
      await notes.delete({ note: 'buy' }),
      'Several notes match "buy":\n1. buy milk\n3. buy eggs\nSay "delete note <number>".',
    );
    assert.match(await notes.delete({ note: 'dentist' }), /I couldn't find a note matching "dentist"/);
    assert.equal(await notes.list(), 'Your notes:\n1. buy milk\n2. call mom\n3. buy eggs');
  });

  it('notes - deleting from an empty list, or adding nothing, is answered kindly', async () => {
    const notes = notebook();
    assert.equal(await notes.delete({ number: '1' }), 'You have no notes to delete.');
    assert.match(await notes.add('  '), /What should I note down\?/);
  });

  it('notes - each person has their own notes', async () => {
    const ana = notebook();
    const bo = notebook();
    await ana.add('ana only');
    assert.match(await bo.list(), /no notes yet/);
  });
});
