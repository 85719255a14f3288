import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRawEvent, encodeRawEvent, type RawProviderEvent } from './raw-provider-event.js';

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
