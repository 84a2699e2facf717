import { createInterface } from 'node:readline';
import type { ChatConnection } from './chat-connection.js';

export interface TerminalChatOptions {
  readonly connection: ChatConnection;
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** @default 'you> ' */
  readonly prompt?: string;
  /** Printed once before the first prompt. */
  readonly banner?: string;
}

/**
 * A readline REPL over a {@link ChatConnection}: each non-empty line is sent and its replies printed,
 * one per line. `/quit` (or `/exit`), end of input, or Ctrl+C ends it. A failed send prints
 * `! <why>` and the loop goes on. Does not close the connection; the caller owns it.
 */
export async function runTerminalChat(options: TerminalChatOptions): Promise<void> {
  const { connection, input, output, banner } = options;
  const lines = createInterface({ input, output, prompt: options.prompt ?? 'you> ' });
  lines.on('SIGINT', () => lines.close());
  if (banner !== undefined) output.write(`${banner}\n`);
  lines.prompt();
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '/quit' || line === '/exit') break;
      if (line !== '') {
        try {
          for (const reply of await connection.send(line)) output.write(`${reply}\n`);
        } catch (error) {
          output.write(`! ${describeError(error)}\n`);
        }
      }
      lines.prompt();
    }
  } finally {
    lines.close();
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
