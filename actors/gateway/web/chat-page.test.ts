import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { InboundMessage, OutboundMessage } from '../../umm.js';
import { describeContent } from '../../umm.js';
import type { InboundHandler } from '../inbound-handler.js';
import { startTestChatServer } from './test-server.js';

const CHROMIUM = process.env.PARLEY_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Echoes `echo: <text form>`; `boom` throws. */
function echo(seen: InboundMessage[]): InboundHandler {
  return (message) => {
    seen.push(message);
    const text = describeContent(message.content);
    if (text === 'boom') return Promise.reject(new Error('handler exploded'));
    const reply: OutboundMessage = {
      id: `${message.id}/0`,
      channel: message.channel,
      conversationId: message.conversationId,
      content: { type: 'text', text: `echo: ${text}` },
      sentAt: message.receivedAt,
      replyTo: message.id,
    };
    return Promise.resolve([reply]);
  };
}

async function lastText(page: Page, selector: string, count: number): Promise<string> {
  const items = page.locator(selector);
  await items.nth(count - 1).waitFor({ timeout: 10_000 });
  return (await items.nth(count - 1).innerText()).trim();
}

describe(
  'chat page in headless Chromium',
  {
    skip: existsSync(CHROMIUM)
      ? false
      : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set PARLEY_TEST_CHROMIUM)`,
  },
  () => {
    let browser: Browser;
    before(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(async () => {
      await browser?.close();
    });

    it('chat page - Enter and the button send, replies and errors show inline, the session survives a reload', async () => {
      const seen: InboundMessage[] = [];
      await using server = await startTestChatServer({ handle: echo(seen), maxTextChars: 40 });
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
      await using server = await startTestChatServer({ handle: echo(seen) });
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
