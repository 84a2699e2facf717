import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skillContext, skillRequest, textsOf } from '../testing.js';
import handlers from './handler.js';

const show = handlers['help.show'];

describe('help skill', () => {
  it('help - lists each plugin with its intents and one example, without itself', async () => {
    assert.ok(show);
    const context = skillContext({
      catalog: [
        { plugin: 'help', intent: 'help.show', description: 'See what I can do', example: 'help' },
        {
          plugin: 'time',
          intent: 'time.current',
          description: 'Tell the current time',
          example: 'what time is it',
        },
        { plugin: 'my-notes', intent: 'my-notes.add', description: 'Save a note', example: 'note: buy milk' },
        { plugin: 'time', intent: 'time.in_city', description: 'Tell the time in a city' },
      ],
    });
    const [text] = textsOf(await show(skillRequest('help.show', { text: 'help' }), context));
    assert.equal(
      text,
      [
        "Here's what I can do:",
        'Time\n- Tell the current time, e.g. "what time is it"\n- Tell the time in a city',
        'My notes\n- Save a note, e.g. "note: buy milk"',
        'Just ask in your own words.',
      ].join('\n\n'),
    );
  });

  it('help - with no other skills it says so', async () => {
    assert.ok(show);
    const [text] = textsOf(await show(skillRequest('help.show'), skillContext()));
    assert.match(text ?? '', /no skills are installed/);
  });
});
