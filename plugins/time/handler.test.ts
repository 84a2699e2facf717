import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skillContext, skillRequest, textsOf } from '../testing.js';
import handlers from './handler.js';
import { resolveCity } from './zones.js';

// 2024-05-01T05:05:00Z is a Wednesday: 14:05 in Tokyo (UTC+9), 07:05 in Paris (CEST), 01:05 in New York (EDT).
const now = new Date('2024-05-01T05:05:00Z');

async function ask(
  intent: 'time.current' | 'time.in_city',
  fields: Parameters<typeof skillRequest>[1],
  config = {},
) {
  const handler = handlers[intent];
  assert.ok(handler);
  return textsOf(await handler(skillRequest(intent, fields), skillContext({ now, config })));
}

describe('time skill', () => {
  it('time - tells the time in Tokyo at a fixed instant', async () => {
    assert.deepEqual(
      await ask('time.in_city', { text: 'what time is it in Tokyo', entities: { city: 'Tokyo' } }),
      ["It's 14:05 (Wednesday) in Tokyo."],
    );
  });

  it('time - resolves aliases, lower case, underscores and full zone ids', async () => {
    assert.deepEqual(await ask('time.in_city', { entities: { city: 'nyc' } }), [
      "It's 01:05 (Wednesday) in New York.",
    ]);
    assert.deepEqual(await ask('time.in_city', { entities: { city: 'new york' } }), [
      "It's 01:05 (Wednesday) in New York.",
    ]);
    assert.deepEqual(await ask('time.in_city', { entities: { city: 'los_angeles' } }), [
      "It's 22:05 (Tuesday) in Los Angeles.",
    ]);
    assert.equal(resolveCity('Asia/Tokyo')?.zone, 'Asia/Tokyo');
    assert.equal(resolveCity('Beijing')?.zone, 'Asia/Shanghai');
    assert.equal(resolveCity('mumbai')?.zone, 'Asia/Kolkata');
    assert.equal(resolveCity('Reykjavik')?.zone, 'Atlantic/Reykjavik');
  });

  it('time - answers a Chinese question in Chinese with the city as written', async () => {
    assert.deepEqual(await ask('time.in_city', { text: '东京现在几点', entities: { city: '东京' } }), [
      '东京现在是 14:05（星期三）。',
    ]);
    assert.deepEqual(await ask('time.in_city', { text: '北京时间', entities: { city: '北京' } }), [
      '北京现在是 13:05（星期三）。',
    ]);
  });

  it('time - an unknown city gets a helpful message naming it', async () => {
    const [reply] = await ask('time.in_city', {
      text: 'what time is it in Atlantis',
      entities: { city: 'Atlantis' },
    });
    assert.match(reply ?? '', /I don't know the time zone of "Atlantis"\. Try a major city such as Tokyo/);
  });

  it('time - a missing city is asked for', async () => {
    assert.match((await ask('time.in_city', { entities: {} }))[0] ?? '', /Which city\?/);
  });

  it('time - the current time uses the configured zone', async () => {
    assert.deepEqual(await ask('time.current', { text: 'what time is it' }, { timezone: 'Europe/Paris' }), [
      "It's 07:05 (Wednesday), Europe/Paris time.",
    ]);
    assert.deepEqual(await ask('time.current', { text: '现在几点' }, { timezone: 'Asia/Tokyo' }), [
      '现在是 14:05（星期三），Asia/Tokyo 时间。',
    ]);
  });

  it("time - without a valid configured zone the current time uses the system's", async () => {
    const system = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (const config of [{}, { timezone: '' }, { timezone: 'Mars/Olympus_Mons' }]) {
      assert.match(
        (await ask('time.current', { text: 'what time is it' }, config))[0] ?? '',
        new RegExp(`, ${system} time\\.$`),
      );
    }
  });
});
