import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { InboundMessage, OutboundMessage } from '../../umm.js';
import { ChatClosedError, ChatRequestError, ChatTimeoutError, InboundHandlerError } from '../errors.js';
import { echoHandler, startTestChatServer } from '../web/test-server.js';
import type { ChatConnection } from './chat-connection.js';
import { createInProcessChat } from './in-process-chat.js';
import { runTerminalChat } from './terminal-chat.js';
import { connectWebSocketChat } from './websocket-chat.js';

/** Runs the REPL over the given lines (ending input after them) and returns everything printed. */
async function chat(connection: ChatConnection, lines: readonly string[], end = true): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => {
    printed += chunk.toString('utf8');
  });
  input.write(lines.map((line) => `${line}\n`).join(''));
  if (end) input.end();
  await runTerminalChat({ connection, input, output, prompt: '> ', banner: 'Parley test' });
  return printed;
}

describe('terminal chat', () => {
  it('terminal chat - in-process: replies printed, errors printed and the loop goes on, /quit ends', async () => {
    const seen: InboundMessage[] = [];
    const connection = createInProcessChat({ handle: echoHandler(seen), user: 'alice', now: () => 42 });
    const output = await chat(connection, [
      'hello',
      '',
      '/notes list',
      'boom',
      'silent',
      'still here',
      '/quit',
      'never',
    ]);
    assert.equal(
      output,
      [
        'Parley test',
        '> echo: hello',
        '> > echo: /notes list',
        '> ! answering message ' +
          (seen[2]?.id ?? '?') +
          ' of conversation cli:alice failed: handler exploded',
        '> > echo: still here',
        '> ',
      ].join('\n'),
    );
    assert.equal(seen.length, 5, '/quit stops before "never"');
    assert.deepEqual(seen[1]?.content, { type: 'command', name: 'notes', args: ['list'] });
    for (const message of seen) {
      assert.equal(message.channel, 'cli');
      assert.equal(message.conversationId, 'cli:alice');
      assert.deepEqual(message.sender, { id: 'alice' });
      assert.match(message.id, /^cli:alice:[0-9a-f-]{36}$/);
      assert.equal(message.sentAt, 42);
    }
    assert.equal(new Set(seen.map((m) => m.id)).size, seen.length, 'ids are unique');
  });

  it('terminal chat - end of input ends the loop', async () => {
    const connection = createInProcessChat({ handle: echoHandler(), user: 'bob' });
    const output = await chat(connection, ['one']);
    assert.match(output, /echo: one\n> $/);
  });

  it('terminal chat - in-process chat refuses empty text and anything after close', async () => {
    const connection = createInProcessChat({ handle: echoHandler(), user: 'carol' });
    await assert.rejects(
      connection.send('  '),
      (e: unknown) => e instanceof ChatRequestError && e.code === 'empty_message',
    );
    await assert.rejects(connection.send('boom'), InboundHandlerError);
    await connection.close();
    await assert.rejects(connection.send('hi'), ChatClosedError);
  });

  it('terminal chat - over the web-chat socket as the cli channel', async () => {
    const seen: InboundMessage[] = [];
    await using server = await startTestChatServer({ handle: echoHandler(seen) });
    const connection = await connectWebSocketChat(server.wsUrl, { session: 'alice', name: 'Alice' });
    try {
      const output = await chat(connection, ['hello', 'boom', 'silent', '/help me', '/quit']);
      assert.match(
        output,
        /^Parley test\n> echo: hello\n> ! something went wrong while answering; please send your message again\n> > echo: \/help me\n> $/,
      );
    } finally {
      await connection.close();
    }
    assert.deepEqual(
      seen.map((m) => [m.channel, m.conversationId, m.sender.id, m.sender.displayName]),
      Array.from({ length: 4 }, () => ['cli', 'cli:alice', 'alice', 'Alice']),
    );
    assert.match(seen[0]?.id ?? '', /^cli:alice:[0-9a-f-]{36}$/);
  });

  it('terminal chat - socket client: refused hello, refused text, oversized frame and shutdown are clear errors', async () => {
    await using server = await startTestChatServer({
      handle: echoHandler(),
      maxTextChars: 10,
      maxFrameBytes: 512,
      allowCliChannel: () => false,
    });
    await assert.rejects(
      connectWebSocketChat(server.wsUrl, { session: 'alice' }),
      (e: unknown) => e instanceof ChatRequestError && e.code === 'channel_forbidden',
    );
    const web = await connectWebSocketChat(server.wsUrl, {
      session: 'web-session-0123456789',
      channel: 'web',
    });
    await assert.rejects(
      web.send('this is far too long'),
      (e: unknown) => e instanceof ChatRequestError && e.code === 'message_too_long',
    );
    await assert.rejects(
      web.send(''),
      (e: unknown) => e instanceof ChatRequestError && e.code === 'empty_message',
    );
    assert.deepEqual(await web.send('silent'), []);
    await assert.rejects(
      web.send('x'.repeat(1000)),
      (e: unknown) =>
        e instanceof ChatClosedError && e.closeCode === 1009 && /limit of 512 bytes/.test(e.message),
    );
    await assert.rejects(web.send('hi'), ChatClosedError, 'stays closed');

    const again = await connectWebSocketChat(server.wsUrl, {
      session: 'web-session-0123456789',
      channel: 'web',
    });
    const pending = again.send('silent');
    await pending;
    await server.gateway.close();
    await assert.rejects(
      again.send('hi'),
      (e: unknown) => e instanceof ChatClosedError && e.closeCode === 1001 && /shutting down/.test(e.message),
    );
  });

  it('terminal chat - socket client: nothing listening is a clear connection error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(
      connectWebSocketChat(`ws://127.0.0.1:${port}/ws`, { session: 'alice', timeoutMs: 2000 }),
      (e: unknown) =>
        e instanceof ChatClosedError && /could not connect .* is the Parley server running\?/.test(e.message),
    );
  });

  it('terminal chat - socket client: a server that never answers times out', async () => {
    let release = (): void => undefined;
    const gate = new Promise<readonly OutboundMessage[]>((resolve) => {
      release = () => resolve([]);
    });
    await using server = await startTestChatServer({ handle: () => gate });
    const connection = await connectWebSocketChat(server.wsUrl, { session: 'alice', timeoutMs: 100 });
    await assert.rejects(connection.send('hi'), ChatTimeoutError);
    release();
    await connection.close();
  });
});
