/**
 * End to end: `parley chat`, the terminal chat, in-process on the embedded defaults and against a running
 * assistant over its WebSocket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChat, startParley } from './parley-process.js';

describe('e2e - terminal chat', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-cli-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('chats in-process and the note is still there in the next session', async () => {
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_HTTP_PORT: '1' /* nothing listens: in-process mode */ };
    const first = await runChat(env, ['hello', 'what time is it in Tokyo', 'note: buy milk', '/quit']);
    assert.match(first, /\b(Hello|Hi)\b/);
    assert.match(first, /Tokyo/);
    const second = await runChat(env, ['show my notes', '/quit']);
    assert.match(second, /buy milk/);
    const someoneElse = await runChat(env, ['show my notes', '/quit'], ['--user', 'Jane Doe']);
    assert.match(someoneElse, /no notes yet/, 'notes are per person; any user name works');
  });

  it('talks to a running assistant over its WebSocket', async () => {
    await using parley = await startParley({ PARLEY_DATA_DIR: join(dataDir, 'server') });
    const output = await runChat(
      {},
      ['hello', 'note: call mum', 'show my notes', '/quit'],
      ['--url', parley.url],
    );
    assert.match(output, /\b(Hello|Hi)\b/);
    assert.match(output, /call mum/);
  });
});
