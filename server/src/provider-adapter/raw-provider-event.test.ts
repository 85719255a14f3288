import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRawEvent, encodeRawEvent, rawProviderEventSchema, type RawProviderEvent } from './raw-provider-event.js';

const event: RawProviderEvent = {
  provider: 'twitch',
  message_id: 'befa7b53-d79d-478f-86b9-120f112b044e',
  message_type: 'notification',
  subscription_type: 'channel.update',
  subscription_version: '2',
  message_timestamp: '2026-11-23T10:11:12.123456789Z',
  received_at: '2026-11-23T10:11:12.200Z',
  body: '{"subscription":{"type":"channel.update"},\n "event":{"title":"line\\nbreak \\"quoted\\" 🎮 ünïcode\u2028"}}\n',
};

describe('raw provider event on the bus', () => {
  it('round-trips the body byte for byte, newlines and all, without escaping it into JSON', () => {
    const data = encodeRawEvent(event);
    assert.deepEqual(decodeRawEvent(data), event);
    const text = new TextDecoder().decode(data);
    assert.ok(text.endsWith(event.body), 'the body is stored as received, after the envelope line');
    assert.equal(text.indexOf('\n'), text.indexOf('}\n') + 1, 'the envelope is one line');
  });

  it('writes the envelope line JSON.stringify writes of the event without its body', () => {
    const { body, ...envelope } = { ...event, message_id: 'quote " backslash \\ line\nbreak \u2028 ü', received_at: 'tab\there' };
    const text = new TextDecoder().decode(encodeRawEvent({ ...envelope, body }));
    assert.equal(text, `${JSON.stringify(envelope)}\n${body}`);
  });

  it('reads an envelope exactly as rawProviderEventSchema does: the same accepted, the same refused, extra fields dropped', () => {
    const { body: _body, ...envelope } = event;
    const long = (n: number) => 'x'.repeat(n);
    const envelopes: unknown[] = [
      envelope,
      { ...envelope, extra: 'dropped', nested: { a: 1 } },
      ...['twitch', 'youtube', 'bluesky', 'origin', 'myspace', '', 'Twitch', 1, null].map((provider) => ({ ...envelope, provider })),
      ...['message_id', 'message_type', 'subscription_type', 'subscription_version', 'message_timestamp', 'received_at'].flatMap((field) =>
        ['', long(1), long(16), long(17), long(64), long(65), long(128), long(129), long(256), long(257), 7, null, undefined, ['a'], { a: 1 }].map((value) => ({ ...envelope, [field]: value })),
      ),
      // The schema counts code points: 256 emoji are 512 UTF-16 units and fit in 256.
      ...[128, 129, 256, 257].map((n) => ({ ...envelope, message_id: '🎮'.repeat(n) })),
      ...[32, 33].map((n) => ({ ...envelope, message_type: '🎮'.repeat(n) })),
      { ...envelope, message_type: '\ud83c' }, // a lone surrogate
      [],
      'a string',
      42,
      null,
    ];
    for (const candidate of envelopes) {
      const data = new TextEncoder().encode(`${JSON.stringify(candidate) ?? 'null'}\n{"b":1}`);
      const expected = rawProviderEventSchema.omit({ body: true }).safeParse(candidate);
      const label = JSON.stringify(candidate)?.slice(0, 120);
      if (expected.success) assert.deepEqual(decodeRawEvent(data), { ...expected.data, body: '{"b":1}' }, label);
      else assert.throws(() => decodeRawEvent(data), Error, label);
    }
  });

  it('keeps an empty body', () => {
    assert.equal(decodeRawEvent(encodeRawEvent({ ...event, body: '' })).body, '');
  });

  it('throws on anything else, so the pipeline terminates it as poison', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const hostile: Uint8Array[] = [
      bytes(JSON.stringify(event)), // one JSON object with the body inside: no envelope line
      bytes(''),
      bytes('not json at all'),
      bytes('{"provider":"twitch"}\n{}'), // envelope missing its fields
      bytes(`${JSON.stringify({ ...event, body: undefined, provider: 'myspace' })}\n{}`),
      bytes('[]\n{}'),
      new Uint8Array([...bytes(JSON.stringify({ ...event, body: undefined })), 0x0a, 0xff, 0xfe]), // body not UTF-8
    ];
    for (const data of hostile) assert.throws(() => decodeRawEvent(data), Error, new TextDecoder().decode(data));
  });
});
