/**
 * End to end: the real `parley` process on its embedded defaults (PGlite in a temp data dir), driven
 * through the web page in headless Chromium, across a restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startParley } from './parley-process.js';
import { chromiumMissing, launchChromium } from '../testkit/index.js';

/** A port free right now; the restart reuses it because the page's session lives in per-origin storage. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Sends one message in the page and resolves the text of the bot's next reply. */
async function say(page: Page, text: string): Promise<string> {
  const replies = page.locator('#messages .bot');
  const before = await replies.count();
  await page.fill('#input', text);
  await page.click('#send');
  await replies.nth(before).waitFor({ timeout: 20_000 });
  return (await replies.nth(before).innerText()).trim();
}

describe('e2e - web chat in headless Chromium', { skip: chromiumMissing }, () => {
  let dataDir: string;
  let browser: Browser;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('greets, tells the time in Tokyo, keeps a note across a restart', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_HTTP_PORT: String(await freePort()) };
    {
      await using parley = await startParley(env);
      await page.goto(parley.url);
      assert.match(await say(page, 'hello'), /\b(hello|hi)\b/i);
      const time = await say(page, 'what time is it in Tokyo');
      assert.match(time, /Tokyo/);
      const tokyoHour = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Tokyo',
        hour: '2-digit',
        hourCycle: 'h23',
      }).format(new Date());
      assert.match(
        time,
        new RegExp(`\\b${tokyoHour}:\\d\\d\\b`),
        `expected Tokyo's hour ${tokyoHour} in "${time}"`,
      );
      await say(page, 'note: buy milk');
      assert.match(await say(page, 'show my notes'), /buy milk/);
      assert.equal(await parley.stop(), 0, 'graceful shutdown exits 0');
    }
    {
      await using parley = await startParley(env);
      await page.goto(parley.url);
      assert.match(await say(page, 'show my notes'), /buy milk/, 'the note survives a restart');
    }
    await context.close();
  });
});
