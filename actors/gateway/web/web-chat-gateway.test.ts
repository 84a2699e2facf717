import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { InboundMessage, OutboundMessage } from '../../umm.js';
import type { ActorLogger } from '../../logger.js';
import type { WebChatOptions } from './web-chat-options.js';
import { isLoopbackAddress, isOriginAllowed, mayUseCliChannel } from './peer-policy.js';
import { echoHandler, startTestChatServer } from './test-server.js';
import { openTestSocket } from './test-socket.js';

const SESSION = 'session-0123456789abcdef';

function recordingLogger(): ActorLogger & {
  readonly lines: { level: string; obj: object; msg: string }[];
} {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

async function readySocket(wsUrl: string, hello: object = {}) {
  const socket = await openTestSocket(wsUrl);
  socket.send({ type: 'hello', session: SESSION, ...hello });
  const ready = await socket.next();
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  return socket;
}

describe('web chat gateway', () => {
  it('web chat - hello, message, typing, reply and done round trip with the UMM mapping', async () => {
    const seen: InboundMessage[] = [];
    await using server = await startTestChatServer({
      handle: echoHandler(seen),
      now: () => 1_700_000_000_000,
    });
    await using socket = await openTestSocket(server.wsUrl);
    socket.send({ type: 'hello', session: SESSION, name: 'Ada', locale: 'en-GB' });
    assert.deepEqual(await socket.next(), {
      type: 'ready',
      session: SESSION,
      channel: 'web',
      limits: { maxTextChars: 4000, maxFrameBytes: 65536 },
    });
    socket.send({ type: 'message', id: 'm1', text: 'hello 你好' });
    assert.deepEqual(await socket.next({ typing: true }), { type: 'typing', replyTo: 'm1' });
    assert.deepEqual(await socket.next(), {
      type: 'reply',
      id: `web:${SESSION}:m1/0`,
      replyTo: 'm1',
      text: 'echo: hello 你好',
    });
    assert.deepEqual(await socket.next(), { type: 'done', replyTo: 'm1' });
    assert.deepEqual(seen, [
      {
        id: `web:${SESSION}:m1`,
        channel: 'web',
        conversationId: `web:${SESSION}`,
        sender: { id: SESSION, displayName: 'Ada' },
        content: { type: 'text', text: 'hello 你好' },
        sentAt: 1_700_000_000_000,
        receivedAt: 1_700_000_000_000,
        locale: 'en-GB',
      },
    ]);
    assert.equal(server.gateway.connections, 1);
  });

  it('web chat - slash text and command frames arrive as command content', async () => {
    const seen: InboundMessage[] = [];
    await using server = await startTestChatServer({ handle: echoHandler(seen) });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'a', text: '/Notes  list all' });
    assert.equal((await socket.next()).type, 'reply');
    assert.equal((await socket.next()).type, 'done');
    socket.send({ type: 'command', id: 'b', name: 'help' });
    assert.deepEqual(await socket.next(), {
      type: 'reply',
      id: `web:${SESSION}:b/0`,
      replyTo: 'b',
      text: 'echo: /help',
    });
    assert.deepEqual(
      seen.map((m) => m.content),
      [
        { type: 'command', name: 'notes', args: ['list', 'all'] },
        { type: 'command', name: 'help', args: [] },
      ],
    );
  });

  it('web chat - a resent message keeps its idempotency id and replies come back in send order', async () => {
    const seen: InboundMessage[] = [];
    const base = echoHandler(seen);
    let first = true;
    const handle: WebChatOptions['handle'] = async (message) => {
      // The first answer is the slowest; order must still follow the order sent.
      if (first) {
        first = false;
        await sleep(50);
      }
      return base(message);
    };
    await using server = await startTestChatServer({ handle });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'same', text: 'one' });
    socket.send({ type: 'message', id: 'same', text: 'one' });
    socket.send({ type: 'message', id: 'other', text: 'two' });
    const frames = [];
    for (let i = 0; i < 6; i += 1) frames.push(await socket.next());
    assert.deepEqual(
      frames.map((f) => `${f.type}:${'replyTo' in f ? f.replyTo : ''}`),
      ['reply:same', 'done:same', 'reply:same', 'done:same', 'reply:other', 'done:other'],
    );
    assert.deepEqual(
      seen.map((m) => m.id),
      [`web:${SESSION}:same`, `web:${SESSION}:same`, `web:${SESSION}:other`],
    );
  });

  it('web chat - malformed JSON, unknown types and schema failures get bad_frame and the socket stays usable', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using socket = await openTestSocket(server.wsUrl);
    socket.ws.send('{not json');
    const notJson = await socket.next();
    assert.equal(notJson.type, 'error');
    assert.equal(notJson.type === 'error' && notJson.code, 'bad_frame');
    assert.match(notJson.type === 'error' ? notJson.message : '', /not valid JSON/);

    socket.ws.send('[1,2]');
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'bad_frame',
      message: 'frame must be a JSON object with a "type" field',
    });

    socket.send({ type: 'shout', id: 'x' });
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'bad_frame',
      message: 'unknown frame type "shout"; expected one of: hello, message, command',
      replyTo: 'x',
      path: 'type',
    });

    socket.send({ type: 'hello', session: 42 });
    const badHello = await socket.next();
    assert.equal(badHello.type === 'error' && badHello.path, 'session');
    assert.match(badHello.type === 'error' ? badHello.message : '', /^invalid hello frame: session: /);

    socket.send({ type: 'message', id: 'has space', text: 'hi' });
    const badId = await socket.next();
    assert.equal(badId.type === 'error' && badId.path, 'id');

    socket.send({ type: 'hello', session: 'short' });
    const shortSession = await socket.next();
    assert.equal(shortSession.type === 'error' && shortSession.code, 'bad_frame');
    assert.match(shortSession.type === 'error' ? shortSession.message : '', /at least 16 random characters/);

    socket.send({ type: 'hello', session: SESSION });
    assert.equal((await socket.next()).type, 'ready');
    socket.send({ type: 'message', id: 'm', text: 'still here' });
    assert.deepEqual(await socket.next(), {
      type: 'reply',
      id: `web:${SESSION}:m/0`,
      replyTo: 'm',
      text: 'echo: still here',
    });
  });

  it('web chat - a message before hello is refused with no_session', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using socket = await openTestSocket(server.wsUrl);
    socket.send({ type: 'message', id: 'early', text: 'hi' });
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'no_session',
      message: 'send a hello frame first, then your messages',
      replyTo: 'early',
    });
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
  });

  it('web chat - too long and empty texts are refused with their codes; the limit counts characters', async () => {
    const seen: InboundMessage[] = [];
    await using server = await startTestChatServer({ handle: echoHandler(seen), maxTextChars: 5 });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'long', text: 'abcdef' });
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'message_too_long',
      message: 'the message is longer than 5 characters; shorten it or split it',
      replyTo: 'long',
    });
    for (const text of ['', '  \n\t ']) {
      socket.send({ type: 'message', id: 'empty', text });
      const frame = await socket.next();
      assert.equal(frame.type === 'error' && frame.code, 'empty_message');
    }
    // Five code points, ten UTF-16 units: accepted.
    socket.send({ type: 'message', id: 'emoji', text: '😀😀😀😀😀' });
    assert.equal((await socket.next()).type, 'reply');
    assert.equal(seen.length, 1);
  });

  it('web chat - a binary frame is refused with unsupported_frame and the socket stays open', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using socket = await readySocket(server.wsUrl);
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const frame = await socket.next();
    assert.equal(frame.type === 'error' && frame.code, 'unsupported_frame');
    socket.send({ type: 'message', id: 'after', text: 'ok' });
    assert.equal((await socket.next()).type, 'reply');
  });

  it('web chat - a frame over maxFrameBytes closes the socket with 1009', async () => {
    const logger = recordingLogger();
    await using server = await startTestChatServer({ handle: echoHandler(), maxFrameBytes: 1024, logger });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'big', text: 'x'.repeat(2000) });
    assert.deepEqual(await socket.closed, { code: 1009, reason: '' });
    await sleep(20);
    assert.equal(server.gateway.connections, 0);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /socket error/.test(l.msg)));
  });

  it('web chat - a text frame that is not UTF-8 closes the socket with 1007', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using socket = await readySocket(server.wsUrl);
    // ws does not validate outgoing text, so these bytes reach the server as an invalid text frame.
    socket.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.deepEqual(await socket.closed, { code: 1007, reason: '' });
  });

  it('web chat - a throwing handler gives an internal error with context in the log, then the next message works', async () => {
    const logger = recordingLogger();
    let calls = 0;
    const handle: WebChatOptions['handle'] = (message) => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('model exploded')) : echoHandler()(message);
    };
    await using server = await startTestChatServer({ handle, logger });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'boom', text: 'hi' });
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'internal',
      message: 'something went wrong while answering; please send your message again',
      replyTo: 'boom',
    });
    const logged = logger.lines.find((l) => l.level === 'error');
    assert.ok(logged);
    assert.deepEqual(
      {
        messageId: (logged.obj as { messageId?: string }).messageId,
        conversationId: (logged.obj as { conversationId?: string }).conversationId,
      },
      { messageId: `web:${SESSION}:boom`, conversationId: `web:${SESSION}` },
    );
    const err = (logged.obj as { err?: Error }).err;
    assert.equal(err?.name, 'InboundHandlerError');
    assert.equal((err?.cause as Error).message, 'model exploded');
    socket.send({ type: 'message', id: 'again', text: 'hi' });
    assert.deepEqual(await socket.next(), {
      type: 'reply',
      id: `web:${SESSION}:again/0`,
      replyTo: 'again',
      text: 'echo: hi',
    });
  });

  it('web chat - messages beyond maxPendingPerConnection are refused with busy', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const base = echoHandler();
    await using server = await startTestChatServer({
      handle: async (message) => {
        await gate;
        return base(message);
      },
      maxPendingPerConnection: 1,
    });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'first', text: 'a' });
    socket.send({ type: 'message', id: 'second', text: 'b' });
    const busy = await socket.next();
    assert.equal(busy.type === 'error' && busy.code, 'busy');
    assert.equal(busy.type === 'error' && busy.replyTo, 'second');
    release();
    assert.equal((await socket.next()).type, 'reply');
  });

  it('web chat - channel cli is accepted from loopback and refused when proxied or from a browser', async () => {
    const seen: InboundMessage[] = [];
    await using server = await startTestChatServer({ handle: echoHandler(seen) });
    {
      await using socket = await openTestSocket(server.wsUrl);
      socket.send({ type: 'hello', session: 'alice', channel: 'cli' });
      assert.deepEqual(await socket.next(), {
        type: 'ready',
        session: 'alice',
        channel: 'cli',
        limits: { maxTextChars: 4000, maxFrameBytes: 65536 },
      });
      socket.send({ type: 'message', id: 'c1', text: 'hi' });
      await socket.next();
      assert.equal(seen[0]?.channel, 'cli');
      assert.equal(seen[0]?.conversationId, 'cli:alice');
      assert.equal(seen[0]?.id, 'cli:alice:c1');
    }
    const host = new URL(server.url).host;
    for (const headers of [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { origin: `http://${host}` },
    ]) {
      await using socket = await openTestSocket(server.wsUrl, { headers });
      socket.send({ type: 'hello', session: 'alice', channel: 'cli' });
      const refused = await socket.next();
      assert.equal(refused.type === 'error' && refused.code, 'channel_forbidden', JSON.stringify(headers));
      // The same socket may still join as a web session.
      socket.send({ type: 'hello', session: SESSION });
      assert.equal((await socket.next()).type, 'ready');
    }
  });

  it('web chat - an upgrade from another site is refused with HTTP 403', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await assert.rejects(
      openTestSocket(server.wsUrl, { headers: { origin: 'https://evil.example' } }),
      /403/,
    );
  });

  it('web chat - peer policy predicates', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackAddress(address), address);
    for (const address of [
      '10.0.0.5',
      '::ffff:10.0.0.5',
      '192.168.1.1',
      '::2',
      'localhost',
      '127.example',
      '',
      undefined,
    ]) {
      assert.equal(isLoopbackAddress(address), false, String(address));
    }
    const request = (remoteAddress: string, headers: Record<string, string> = {}) =>
      ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;
    assert.equal(mayUseCliChannel(request('127.0.0.1')), true);
    assert.equal(mayUseCliChannel(request('10.0.0.5')), false);
    assert.equal(mayUseCliChannel(request('::1', { 'x-real-ip': '10.0.0.5' })), false);
    assert.equal(mayUseCliChannel(request('::1', { origin: 'http://localhost:8080' })), false);
    assert.equal(isOriginAllowed(request('10.0.0.5', { host: 'chat.example:443' })), true);
    assert.equal(
      isOriginAllowed(request('10.0.0.5', { host: 'chat.example', origin: 'https://chat.example' })),
      true,
    );
    assert.equal(
      isOriginAllowed(request('10.0.0.5', { host: 'chat.example', origin: 'https://evil.example' })),
      false,
    );
    assert.equal(isOriginAllowed(request('10.0.0.5', { host: 'chat.example', origin: 'null' })), false);
  });

  it('web chat - a socket that stops answering pings is dropped; a live one stays', async () => {
    await using server = await startTestChatServer({ handle: echoHandler(), heartbeatIntervalMs: 100 });
    await using live = await readySocket(server.wsUrl);
    await using dead = await openTestSocket(server.wsUrl, { autoPong: false });
    const { code } = await dead.closed;
    assert.equal(code, 1006, 'terminated without a close frame');
    await sleep(350);
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    assert.equal(server.gateway.connections, 1);
  });

  it('web chat - deliver pushes a reply to every socket of the conversation', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using one = await readySocket(server.wsUrl);
    await using two = await readySocket(server.wsUrl);
    const pushed: OutboundMessage = {
      id: 'reminder-1',
      channel: 'web',
      conversationId: `web:${SESSION}`,
      content: { type: 'location', latitude: 1, longitude: 2, name: 'the office' },
      sentAt: 0,
    };
    assert.equal(server.gateway.deliver(pushed), 2);
    for (const socket of [one, two]) {
      assert.deepEqual(await socket.next(), {
        type: 'reply',
        id: 'reminder-1',
        text: '[location] the office',
      });
    }
    assert.equal(server.gateway.deliver({ ...pushed, conversationId: 'web:nobody' }), 0);
  });

  it('web chat - close says 1001 to every socket and refuses new upgrades', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    await using socket = await readySocket(server.wsUrl);
    const gateway = server.gateway;
    await gateway.close();
    assert.deepEqual(await socket.closed, { code: 1001, reason: 'server shutting down' });
    assert.equal(gateway.connections, 0);
    await gateway.close();
    await server.replaceGateway();
    await using again = await openTestSocket(server.wsUrl);
    assert.equal(again.ws.readyState, WebSocket.OPEN);
  });

  it('web chat - close answers the messages already taken first, and refuses new ones', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const echo = echoHandler();
    await using server = await startTestChatServer({
      handle: async (message) => {
        await held;
        return echo(message);
      },
    });
    await using socket = await readySocket(server.wsUrl);
    socket.send({ type: 'message', id: 'm1', text: 'in flight' });
    await socket.next({ typing: true });
    const closing = server.gateway.close();
    socket.send({ type: 'message', id: 'm2', text: 'too late' });
    assert.deepEqual(await socket.next(), {
      type: 'error',
      code: 'shutting_down',
      message: 'the server is shutting down and did not take this message; send it again once reconnected',
      replyTo: 'm2',
    });
    release();
    assert.deepEqual(await socket.next(), {
      type: 'reply',
      id: `web:${SESSION}:m1/0`,
      replyTo: 'm1',
      text: 'echo: in flight',
    });
    await closing;
    assert.equal((await socket.closed).code, 1001);
  });

  it('web chat - the page is self-contained and has the stable ids', async () => {
    await using server = await startTestChatServer({ handle: echoHandler() });
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    const html = await response.text();
    for (const id of ['id="messages"', 'id="input"', 'id="send"', 'id="status"'])
      assert.ok(html.includes(id), id);
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'no external assets');
  });
});
