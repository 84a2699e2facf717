/**
 * The Unified Message Model (UMM) as domain types.
 *
 * Every channel adapter maps its platform's events to {@link InboundMessage} and sends
 * {@link OutboundMessage}s back. The wire form lives in `proto/parley/v1/message.proto`; conversion to and
 * from it happens once, at the edge (see `actors/gateway/umm-wire.ts`).
 */

/** The channels Parley speaks on. */
export const Channels = ['cli', 'web', 'telegram', 'whatsapp'] as const;
export type Channel = (typeof Channels)[number];

/** What a message carries. Discriminated on `type`. */
export type Content =
  /** Plain text typed by a person. */
  | { readonly type: 'text'; readonly text: string }
  /** A picture; `url` points at the platform's copy when the bytes are not inlined. */
  | {
      readonly type: 'image';
      readonly mimeType: string;
      readonly url?: string;
      readonly caption?: string;
      readonly width?: number;
      readonly height?: number;
    }
  /** A point on the map, optionally named. */
  | {
      readonly type: 'location';
      readonly latitude: number;
      readonly longitude: number;
      readonly name?: string;
    }
  /** A voice note; `transcript` is filled when speech-to-text ran. */
  | {
      readonly type: 'voice';
      readonly mimeType: string;
      readonly durationMs: number;
      readonly url?: string;
      readonly transcript?: string;
    }
  /** A slash command such as `/help` or `/notes list`; `name` without the slash. */
  | { readonly type: 'command'; readonly name: string; readonly args: readonly string[] }
  /** A shared contact card. */
  | { readonly type: 'contact'; readonly name: string; readonly phone?: string };

export type ContentType = Content['type'];

/** Who sent a message, as the platform names them. */
export interface Sender {
  /** The platform's stable id for the person (e.g. Telegram user id, web session id). */
  readonly id: string;
  readonly displayName?: string;
}

/** A message from a person to Parley. */
export interface InboundMessage {
  /**
   * Stable idempotency id, unique per platform event: `<channel>:<account>:<event id>`, e.g.
   * `telegram:mybot:1234`. A redelivered event carries the same id and is answered only once.
   */
  readonly id: string;
  readonly channel: Channel;
  /** The conversation this message belongs to, unique across channels (e.g. `web:3f2a...`). */
  readonly conversationId: string;
  readonly sender: Sender;
  readonly content: Content;
  /** When the person sent it (platform clock), ms since the epoch. */
  readonly sentAt: number;
  /** When Parley received it, ms since the epoch. */
  readonly receivedAt: number;
  /** The id of the message this one answers, if any. */
  readonly replyTo?: string;
  /** BCP 47 language tag when the platform tells it (e.g. `en`, `zh-CN`). */
  readonly locale?: string;
}

/** A message from Parley to a person. */
export interface OutboundMessage {
  /** Unique id of this reply, derived from the inbound id so retries produce the same ids. */
  readonly id: string;
  readonly channel: Channel;
  readonly conversationId: string;
  readonly content: Content;
  readonly sentAt: number;
  /** The inbound message this answers. */
  readonly replyTo?: string;
}

/** A short, human-readable rendering of any content, for logs-free previews and text-only channels. */
export function describeContent(content: Content): string {
  switch (content.type) {
    case 'text':
      return content.text;
    case 'image':
      return content.caption ? `[image] ${content.caption}` : '[image]';
    case 'location':
      return `[location] ${content.name ?? `${content.latitude},${content.longitude}`}`;
    case 'voice':
      return content.transcript ?? '[voice]';
    case 'command':
      return `/${[content.name, ...content.args].join(' ')}`;
    case 'contact':
      return `[contact] ${content.name}`;
    default: {
      const unreachable: never = content;
      return unreachable;
    }
  }
}

/**
 * The hand-off from a channel gateway to the runtime: deliver one inbound message to its conversation
 * and resolve with the replies to send back (possibly none, e.g. for a redelivered duplicate).
 *
 * A rejection means answering failed; the gateway tells the person and keeps the connection.
 */
export type InboundHandler = (message: InboundMessage) => Promise<readonly OutboundMessage[]>;

/**
 * Length of a text in characters (Unicode code points, so an emoji counts once), as every limit on
 * message length counts it. Stops counting at `limit` when given.
 */
export function countCodePoints(text: string, limit = Infinity): number {
  let count = 0;
  for (const _ of text) {
    count += 1;
    if (count >= limit) break;
  }
  return count;
}
