import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as wire from '../../proto/index.js';
import type { Content, InboundMessage, OutboundMessage } from '../umm.js';
import { UmmWireError } from './errors.js';
import {
  decodeInbound,
  decodeOutbound,
  encodeInbound,
  encodeOutbound,
  inboundFromWire,
  inboundToWire,
  outboundFromWire,
  outboundToWire,
} from './umm-wire.js';

/** Every content type, once with every optional field set and once with none. */
const contents: readonly (readonly [string, Content])[] = [
  ['text', { type: 'text', text: 'hello 你好 👋' }],
  ['text empty', { type: 'text', text: '' }],
  [
    'image full',
    {
      type: 'image',
      mimeType: 'image/jpeg',
      url: 'https://example.com/a.jpg',
      caption: 'a cat',
      width: 640,
      height: 480,
    },
  ],
  ['image bare', { type: 'image', mimeType: 'image/png' }],
  ['location full', { type: 'location', latitude: 51.5007, longitude: -0.1246, name: 'Big Ben' }],
  ['location bare', { type: 'location', latitude: -33.8568, longitude: 151.2153 }],
  [
    'voice full',
    { type: 'voice', mimeType: 'audio/ogg', durationMs: 4200, url: 'file:///v.ogg', transcript: 'remind me' },
  ],
  ['voice bare', { type: 'voice', mimeType: 'audio/ogg', durationMs: 0 }],
  ['command with args', { type: 'command', name: 'notes', args: ['list', '--all'] }],
  ['command bare', { type: 'command', name: 'help', args: [] }],
  ['contact full', { type: 'contact', name: 'Ada Lovelace', phone: '+44 20 7946 0000' }],
  ['contact bare', { type: 'contact', name: 'Grace' }],
];

function inbound(content: Content, extra: Partial<InboundMessage> = {}): InboundMessage {
  return {
    id: 'web:s1:m1',
    channel: 'web',
    conversationId: 'web:s1',
    sender: { id: 's1' },
    content,
    sentAt: 1_700_000_000_123,
    receivedAt: 1_700_000_000_456,
    ...extra,
  };
}

function outbound(content: Content, extra: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: 'web:s1:m1/r0',
    channel: 'web',
    conversationId: 'web:s1',
    content,
    sentAt: 1_700_000_001_000,
    ...extra,
  };
}

describe('umm-wire', () => {
  for (const [label, content] of contents) {
    it(`umm-wire - inbound ${label} round-trips through the generated types and the binary codec`, () => {
      const message = inbound(content);
      assert.deepEqual(inboundFromWire(inboundToWire(message)), message);
      const bytes = encodeInbound(message);
      assert.ok(bytes.byteLength > 0);
      assert.deepEqual(decodeInbound(bytes), message);
    });

    it(`umm-wire - outbound ${label} round-trips through the generated types and the binary codec`, () => {
      const message = outbound(content);
      assert.deepEqual(outboundFromWire(outboundToWire(message)), message);
      assert.deepEqual(decodeOutbound(encodeOutbound(message)), message);
    });
  }

  it('umm-wire - every channel and every optional envelope field survive the codec', () => {
    for (const channel of ['cli', 'web', 'telegram', 'whatsapp'] as const) {
      const message = inbound(
        { type: 'text', text: 'hi' },
        { channel, sender: { id: '42', displayName: 'Zoë' }, replyTo: 'telegram:bot:41', locale: 'zh-CN' },
      );
      assert.deepEqual(decodeInbound(encodeInbound(message)), message);
      const reply = outbound({ type: 'text', text: 'ok' }, { channel, replyTo: message.id });
      assert.deepEqual(decodeOutbound(encodeOutbound(reply)), reply);
    }
  });

  it('umm-wire - absent optionals stay absent keys, not undefined values', () => {
    const decoded = decodeInbound(encodeInbound(inbound({ type: 'image', mimeType: 'image/png' })));
    assert.equal('replyTo' in decoded, false);
    assert.equal('locale' in decoded, false);
    assert.equal('displayName' in decoded.sender, false);
    assert.deepEqual(Object.keys(decoded.content).sort(), ['mimeType', 'type']);
  });

  it('umm-wire - the wire form uses the generated enum and oneof shapes', () => {
    const w = inboundToWire(
      inbound({ type: 'command', name: 'notes', args: ['add'] }, { channel: 'telegram' }),
    );
    assert.equal(w.channel, wire.Channel.CHANNEL_TELEGRAM);
    assert.deepEqual(w.content?.kind, { $case: 'command', value: { name: 'notes', args: ['add'] } });
    assert.ok(w.sentAt instanceof Date);
  });

  it('umm-wire - a message without content is refused naming the field', () => {
    const bytes = wire.InboundMessage.encode(
      wire.InboundMessage.fromPartial({
        id: 'x:1',
        channel: wire.Channel.CHANNEL_WEB,
        conversationId: 'web:s',
        sender: { id: 's' },
        sentAt: new Date(1),
        receivedAt: new Date(2),
      }),
    ).finish();
    assert.throws(
      () => decodeInbound(bytes),
      (error: unknown) =>
        error instanceof UmmWireError && error.field === 'content.kind' && error.messageId === 'x:1',
    );
  });

  it('umm-wire - an unspecified or unknown channel is refused', () => {
    const good = inboundToWire(inbound({ type: 'text', text: 'hi' }));
    for (const channel of [wire.Channel.CHANNEL_UNSPECIFIED, 99 as wire.Channel]) {
      const bytes = wire.InboundMessage.encode({ ...good, channel }).finish();
      assert.throws(
        () => decodeInbound(bytes),
        (error: unknown) => error instanceof UmmWireError && error.field === 'channel',
      );
    }
  });

  it('umm-wire - missing sender, id or timestamps are refused', () => {
    const good = inboundToWire(inbound({ type: 'text', text: 'hi' }));
    const cases: readonly [string, wire.InboundMessage][] = [
      ['sender', { ...good, sender: undefined }],
      ['id', { ...good, id: '' }],
      ['sent_at', { ...good, sentAt: undefined }],
      ['received_at', { ...good, receivedAt: undefined }],
    ];
    for (const [field, message] of cases) {
      assert.throws(
        () => decodeInbound(wire.InboundMessage.encode(message).finish()),
        (error: unknown) => error instanceof UmmWireError && error.field === field,
        field,
      );
    }
  });

  it('umm-wire - bytes that are not protobuf are refused with a UmmWireError', () => {
    assert.throws(() => decodeOutbound(Uint8Array.of(0xff, 0xff, 0xff)), UmmWireError);
  });
});
