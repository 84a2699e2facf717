import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { InboundMessage } from '../../umm.js';
import { echoHandler, startTestChatServer } from './test-server.js';
import { chromiumMissing, launchChromium } from '../../../test/testkit/index.js';

async function lastText(page: Page, selector: string, count: number): Promise<string> {
  const items = page.locator(selector);
  await items.nth(count - 1).waitFor({ timeout: 10_000 });
  return (await items.nth(count - 1).innerText()).trim();
}

describe(
  'chat page in headless Chromium',
  {
    skip: chromiumMissing,
  },
  () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    it('chat page - Enter and the button send, replies and errors show inline, the session survives a reload', async () => {
      const seen: InboundMessage[] = [];
      await using server = await startTestChatServer({ handle: echoHandler(seen), maxTextChars: 40 });
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator('#status[data-state="ready"]').waitFor();

      await page.fill('#input', 'hello there');
      await page.press('#input', 'Enter');
      assert.equal(await lastText(page, '#messages .bot', 1), 'echo: hello there');
      assert.equal(await page.inputValue('#input'), '', 'input cleared');

      await page.fill('#input', '/notes list');
      await page.click('#send');
      assert.equal(await lastText(page, '#messages .bot', 2), 'echo: /notes list');

      await page.fill('#input', 'boom');
      await page.click('#send');
      assert.match(await lastText(page, '#messages .error', 1), /something went wrong/);

      await page.fill('#input', 'x'.repeat(41));
      await page.click('#send');
      assert.match(await lastText(page, '#messages .error', 2), /longer than 40 characters/);
      assert.equal(seen.length, 3, 'the too-long message was not sent');

      await page.fill('#input', '<b>not bold</b>');
      await page.press('#input', 'Enter');
      assert.equal(await lastText(page, '#messages .bot', 3), 'echo: <b>not bold</b>', 'rendered as text');

      const session = await page.evaluate<string | null>("localStorage.getItem('parley.session')");
      assert.match(session ?? '', /^[0-9a-f]{32}$/);
      assert.equal(seen[0]?.conversationId, `web:${session}`);
      assert.equal(seen[0]?.locale, 'en-GB');
      assert.deepEqual(seen[1]?.content, { type: 'command', name: 'notes', args: ['list'] });

      await page.reload();
      await page.locator('#status[data-state="ready"]').waitFor();
      await page.fill('#input', 'again');
      await page.press('#input', 'Enter');
      assert.equal(await lastText(page, '#messages .bot', 1), 'echo: again');
      assert.equal(seen.at(-1)?.conversationId, `web:${session}`, 'same conversation after reload');
      await context.close();
    });

    it('chat page - reconnects after a server restart and delivers what was typed meanwhile', async () => {
      const seen: InboundMessage[] = [];
      await using server = await startTestChatServer({ handle: echoHandler(seen) });
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url);
      await page.locator('#status[data-state="ready"]').waitFor();

      await server.gateway.close();
      await page.locator('#status[data-state="offline"]').waitFor();
      await page.fill('#input', 'typed while offline');
      await page.press('#input', 'Enter');
      await server.replaceGateway();

      assert.equal(await lastText(page, '#messages .bot', 1), 'echo: typed while offline');
      await page.locator('#status[data-state="ready"]').waitFor();
      assert.equal(seen.length, 1);
      await context.close();
    });
  },
);
