/**
 * Test support: a raw WebSocket client that records server frames in order, for asserting the
 * protocol frame by frame. Used by this folder's tests only.
 */
import WebSocket from 'ws';
import type { ServerFrame } from './frames.js';
import { rawDataToBuffer } from './raw-data.js';

export interface TestSocket extends AsyncDisposable {
  readonly ws: WebSocket;
  /** Sends a value as a JSON text frame. */
  send(frame: unknown): void;
  /** The next server frame, skipping `typing` unless asked for; rejects after 5 s. */
  next(options?: { readonly typing?: boolean }): Promise<ServerFrame>;
  /** Resolves when the socket closes, with the close code and reason the client saw. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
}

export interface TestSocketOptions {
  readonly headers?: Record<string, string>;
  /** Answer pings (a dead client does not). @default true */
  readonly autoPong?: boolean;
}

export async function openTestSocket(url: string, options: TestSocketOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers: options.headers ?? {}, autoPong: options.autoPong ?? true });
  const frames: ServerFrame[] = [];
  const waiters: ((frame: ServerFrame) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(rawDataToBuffer(data).toString('utf8')) as ServerFrame;
    const waiter = waiters.shift();
    if (waiter === undefined) frames.push(frame);
    else waiter(frame);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  function nextRaw(): Promise<ServerFrame> {
    const queued = frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (frame: ServerFrame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error('no server frame within 5 s'));
      }, 5000);
      waiters.push(waiter);
    });
  }

  return {
    ws,
    closed,
    send(frame) {
      ws.send(JSON.stringify(frame));
    },
    async next(nextOptions = {}) {
      for (;;) {
        const frame = await nextRaw();
        if (frame.type !== 'typing' || nextOptions.typing === true) return frame;
      }
    },
    async [Symbol.asyncDispose]() {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.terminate();
        await closed;
      }
    },
  };
}
