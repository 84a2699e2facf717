/**
 * Conversion between the UMM domain types (`actors/umm.ts`) and their protobuf wire form
 * (`proto/parley/v1/message.proto`), done once, at the edge where bytes enter or leave a process.
 *
 * `*ToWire` never fails for a well-typed domain message. `*FromWire` validates what the generated
 * decoder cannot (a set `oneof`, a known channel, present required fields) and throws
 * {@link UmmWireError} naming the field, so a malformed message from the bus is refused, not guessed at.
 *
 * @example
 * ```ts
 * const bytes = encodeInbound(message);          // publish to parley.in.<shard>
 * const same = decodeInbound(bytes);             // on the node that owns the shard
 * ```
 */
import * as wire from '../../proto/index.js';
import type { Channel, Content, InboundMessage, OutboundMessage, Sender } from '../umm.js';
import { UmmWireError } from './errors.js';

const channelToWire: Readonly<Record<Channel, wire.Channel>> = {
  cli: wire.Channel.CHANNEL_CLI,
  web: wire.Channel.CHANNEL_WEB,
  telegram: wire.Channel.CHANNEL_TELEGRAM,
  whatsapp: wire.Channel.CHANNEL_WHATSAPP,
};

/** Converts a domain inbound message to its generated wire type. */
export function inboundToWire(message: InboundMessage): wire.InboundMessage {
  return {
    id: message.id,
    channel: channelToWire[message.channel],
    conversationId: message.conversationId,
    sender: senderToWire(message.sender),
    content: contentToWire(message.content),
    sentAt: new Date(message.sentAt),
    receivedAt: new Date(message.receivedAt),
    replyTo: message.replyTo,
    locale: message.locale,
  };
}

/** Converts a domain outbound message to its generated wire type. */
export function outboundToWire(message: OutboundMessage): wire.OutboundMessage {
  return {
    id: message.id,
    channel: channelToWire[message.channel],
    conversationId: message.conversationId,
    content: contentToWire(message.content),
    sentAt: new Date(message.sentAt),
    replyTo: message.replyTo,
  };
}

/**
 * Converts a wire inbound message to the domain type.
 * @throws {UmmWireError} when a required field is unset or the channel or content kind is unknown.
 */
export function inboundFromWire(message: wire.InboundMessage): InboundMessage {
  const { id } = message;
  return {
    id: required(id, 'id', message.id),
    channel: channelFromWire(message.channel, id),
    conversationId: required(id, 'conversation_id', message.conversationId),
    sender: senderFromWire(message.sender, id),
    content: contentFromWire(message.content, id),
    sentAt: timeFromWire(message.sentAt, id, 'sent_at'),
    receivedAt: timeFromWire(message.receivedAt, id, 'received_at'),
    ...optional('replyTo', message.replyTo),
    ...optional('locale', message.locale),
  };
}

/**
 * Converts a wire outbound message to the domain type.
 * @throws {UmmWireError} when a required field is unset or the channel or content kind is unknown.
 */
export function outboundFromWire(message: wire.OutboundMessage): OutboundMessage {
  const { id } = message;
  return {
    id: required(id, 'id', message.id),
    channel: channelFromWire(message.channel, id),
    conversationId: required(id, 'conversation_id', message.conversationId),
    content: contentFromWire(message.content, id),
    sentAt: timeFromWire(message.sentAt, id, 'sent_at'),
    ...optional('replyTo', message.replyTo),
  };
}

/** Encodes a domain inbound message as protobuf bytes. */
export function encodeInbound(message: InboundMessage): Uint8Array {
  return wire.InboundMessage.encode(inboundToWire(message)).finish();
}

/**
 * Decodes protobuf bytes into a domain inbound message.
 * @throws {UmmWireError} when the bytes are not a valid UMM inbound message.
 */
export function decodeInbound(bytes: Uint8Array): InboundMessage {
  return inboundFromWire(decodeOrThrow(() => wire.InboundMessage.decode(bytes)));
}

/** Encodes a domain outbound message as protobuf bytes. */
export function encodeOutbound(message: OutboundMessage): Uint8Array {
  return wire.OutboundMessage.encode(outboundToWire(message)).finish();
}

/**
 * Decodes protobuf bytes into a domain outbound message.
 * @throws {UmmWireError} when the bytes are not a valid UMM outbound message.
 */
export function decodeOutbound(bytes: Uint8Array): OutboundMessage {
  return outboundFromWire(decodeOrThrow(() => wire.OutboundMessage.decode(bytes)));
}

function senderToWire(sender: Sender): wire.Sender {
  return { id: sender.id, displayName: sender.displayName };
}

function contentToWire(content: Content): wire.Content {
  switch (content.type) {
    case 'text':
      return { kind: { $case: 'text', value: { text: content.text } } };
    case 'image':
      return {
        kind: {
          $case: 'image',
          value: {
            mimeType: content.mimeType,
            url: content.url,
            caption: content.caption,
            width: content.width,
            height: content.height,
          },
        },
      };
    case 'location':
      return {
        kind: {
          $case: 'location',
          value: { latitude: content.latitude, longitude: content.longitude, name: content.name },
        },
      };
    case 'voice':
      return {
        kind: {
          $case: 'voice',
          value: {
            mimeType: content.mimeType,
            durationMs: content.durationMs,
            url: content.url,
            transcript: content.transcript,
          },
        },
      };
    case 'command':
      return { kind: { $case: 'command', value: { name: content.name, args: [...content.args] } } };
    case 'contact':
      return { kind: { $case: 'contact', value: { name: content.name, phone: content.phone } } };
    default: {
      const unreachable: never = content;
      return unreachable;
    }
  }
}

function contentFromWire(content: wire.Content | undefined, id: string): Content {
  const kind = content?.kind;
  if (kind === undefined)
    throw new UmmWireError(id, 'content.kind', 'is unset or of a kind this build does not know');
  switch (kind.$case) {
    case 'text':
      return { type: 'text', text: kind.value.text };
    case 'image': {
      const { value } = kind;
      return {
        type: 'image',
        mimeType: value.mimeType,
        ...optional('url', value.url),
        ...optional('caption', value.caption),
        ...optional('width', value.width),
        ...optional('height', value.height),
      };
    }
    case 'location':
      return {
        type: 'location',
        latitude: kind.value.latitude,
        longitude: kind.value.longitude,
        ...optional('name', kind.value.name),
      };
    case 'voice': {
      const { value } = kind;
      return {
        type: 'voice',
        mimeType: value.mimeType,
        durationMs: value.durationMs,
        ...optional('url', value.url),
        ...optional('transcript', value.transcript),
      };
    }
    case 'command':
      return { type: 'command', name: kind.value.name, args: [...kind.value.args] };
    case 'contact':
      return { type: 'contact', name: kind.value.name, ...optional('phone', kind.value.phone) };
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}

function channelFromWire(channel: wire.Channel, id: string): Channel {
  switch (channel) {
    case wire.Channel.CHANNEL_CLI:
      return 'cli';
    case wire.Channel.CHANNEL_WEB:
      return 'web';
    case wire.Channel.CHANNEL_TELEGRAM:
      return 'telegram';
    case wire.Channel.CHANNEL_WHATSAPP:
      return 'whatsapp';
    case wire.Channel.CHANNEL_UNSPECIFIED:
    case wire.Channel.UNRECOGNIZED:
      break;
    default: {
      // The decoder passes unknown enum numbers through as they are.
      const _unknown: never = channel;
    }
  }
  throw new UmmWireError(id, 'channel', `is unspecified or unknown (${String(channel)})`);
}

function senderFromWire(sender: wire.Sender | undefined, id: string): Sender {
  if (sender === undefined) throw new UmmWireError(id, 'sender', 'is unset');
  return { id: required(id, 'sender.id', sender.id), ...optional('displayName', sender.displayName) };
}

function timeFromWire(time: Date | undefined, id: string, field: string): number {
  const ms = time?.getTime();
  if (ms === undefined || Number.isNaN(ms)) throw new UmmWireError(id, field, 'is unset');
  return ms;
}

function required(id: string, field: string, value: string): string {
  if (value === '') throw new UmmWireError(id, field, 'is empty');
  return value;
}

/** `{ [key]: value }` when the value is present, else `{}`: proto3 `optional` to exact optional properties. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function decodeOrThrow<T>(decode: () => T): T {
  try {
    return decode();
  } catch (cause) {
    throw new UmmWireError('', '(bytes)', 'are not a valid protobuf message', { cause });
  }
}
