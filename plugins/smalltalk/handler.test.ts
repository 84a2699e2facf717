import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skillContext, skillRequest, textsOf } from '../testing.js';
import handlers from './handler.js';

async function reply(intent: string, text: string, displayName?: string): Promise<string> {
  const handler = handlers[intent];
  assert.ok(handler, intent);
  const user = displayName === undefined ? { id: 'u' } : { id: 'u', displayName };
  return textsOf(await handler(skillRequest(intent, { text, user }), skillContext())).join('\n');
}

describe('smalltalk skill', () => {
  it('smalltalk - a greeting says Hello or Hi, with the name when known', async () => {
    assert.match(await reply('smalltalk.greet', 'hello'), /^Hello! How can I help\?/);
    assert.match(await reply('smalltalk.greet', 'hi', 'Ana'), /^Hello, Ana!/);
    assert.match(await reply('smalltalk.greet', '你好'), /^你好！Hi\b/);
  });

  it('smalltalk - thanks and goodbyes get friendly replies in the same language', async () => {
    assert.equal(await reply('smalltalk.thanks', 'thanks'), "You're welcome! Anything else?");
    assert.match(await reply('smalltalk.thanks', '谢谢'), /^不客气/);
    assert.equal(await reply('smalltalk.bye', 'bye'), 'Goodbye! Talk to you soon.');
    assert.match(await reply('smalltalk.bye', '再见'), /^再见/);
  });
});
