import { WebChatErrorCode, WebChatFrameError } from '../errors.js';
import type { ClientFrame } from './frames.js';
import { clientFrameSchema, clientFrameTypes } from './frames.js';

/**
 * Parses one text frame from a client.
 * @throws {WebChatFrameError} `bad_frame` saying what is wrong (and `path` for a schema failure), with
 * `replyTo` set when the frame carried a string `id`, so the client can tell which message was refused.
 */
export function parseClientFrame(text: string): ClientFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WebChatFrameError(WebChatErrorCode.badFrame, `frame is not valid JSON (${describe(cause)})`, {
      cause,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebChatFrameError(WebChatErrorCode.badFrame, 'frame must be a JSON object with a "type" field');
  }
  const replyTo = 'id' in json && typeof json.id === 'string' ? json.id : undefined;
  const type = 'type' in json ? json.type : undefined;
  if (typeof type !== 'string' || !(clientFrameTypes as readonly string[]).includes(type)) {
    throw new WebChatFrameError(
      WebChatErrorCode.badFrame,
      `unknown frame type ${JSON.stringify(type) ?? 'undefined'}; expected one of: ${clientFrameTypes.join(', ')}`,
      { replyTo, path: 'type' },
    );
  }
  const result = clientFrameSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.map(String).join('.') || '(frame)';
    throw new WebChatFrameError(
      WebChatErrorCode.badFrame,
      `invalid ${type} frame: ${path}: ${issue?.message ?? 'does not match the schema'}`,
      { replyTo, path },
    );
  }
  return result.data;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
