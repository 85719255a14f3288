import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bodyBytes,
  createEventSubSender,
  reserializeBody,
  resign,
  truncateSignature,
  twitchTimestamp,
  uppercaseSignature,
  withBody,
  withMessageId,
  withSignature,
  withTimestamp,
  type EventSubWebhookRequest,
} from '../../../../test/fakes/twitch/eventsub.js';
import { EVENTSUB_HEADERS } from './eventsub-headers.js';
import { signEventSubMessage } from './sign-eventsub-message.js';
import { checkEventSubTimestamp, verifyEventSubSignature } from './verify-signature.js';

const secret = 's3cre7-at-least-10-chars';
const nowMs = Date.parse('2026-03-01T18:00:00Z');
const sender = createEventSubSender({ secret, now: () => nowMs });

function verifyRequest(request: EventSubWebhookRequest, withSecret: string = secret): boolean {
  return verifyEventSubSignature({
    secret: withSecret,
    messageId: request.messageId,
    timestamp: request.timestamp,
    rawBody: bodyBytes(request),
    signature: request.headers[EVENTSUB_HEADERS.messageSignature],
  });
}

describe('verifyEventSubSignature', () => {
  it('accepts a request signed by the Twitch sender fake (independent HMAC)', () => {
    for (const request of [
      sender.streamOnline(),
      sender.streamOffline(),
      sender.channelUpdate({ title: 'Grüße aus Köln 🎉' }),
      sender.verification(),
      sender.revocation(),
      sender.notification('channel.follow', '2', { user_id: '1' }),
    ]) {
      assert.equal(verifyRequest(request), true, request.subscriptionType);
    }
  });

  it('reads every hex digit of a signature', () => {
    const digits = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const request = sender.channelUpdate({ title: `digits ${i}` });
      assert.equal(verifyRequest(request), true);
      for (const digit of (request.headers[EVENTSUB_HEADERS.messageSignature] ?? '').slice(7)) digits.add(digit);
    }
    assert.equal(digits.size, 16, [...digits].sort().join(''));
  });

  it('accepts a Buffer body and a Uint8Array secret', () => {
    const request = sender.streamOnline();
    assert.equal(
      verifyEventSubSignature({
        secret: new TextEncoder().encode(secret),
        messageId: request.messageId,
        timestamp: request.timestamp,
        rawBody: Buffer.from(request.body, 'utf8'),
        signature: request.headers[EVENTSUB_HEADERS.messageSignature],
      }),
      true,
    );
  });

  it('rejects a re-serialized JSON body carrying the signature of the original bytes', () => {
    const request = sender.channelUpdate();
    assert.equal(verifyRequest(reserializeBody(request, 'pretty')), false);
    assert.equal(verifyRequest(reserializeBody(request, 'reordered')), false);
  });

  it('rejects a body with one byte changed', () => {
    const request = sender.channelUpdate({ title: 'harmless' });
    assert.equal(verifyRequest(withBody(request, request.body.replace('harmless', 'harmlesS'))), false);
  });

  it('rejects a message id or timestamp swapped under the same signature', () => {
    const request = sender.streamOnline();
    assert.equal(verifyRequest(withMessageId(request, 'another-id')), false);
    assert.equal(verifyRequest(withTimestamp(request, twitchTimestamp(nowMs + 1))), false);
  });

  it('rejects a request signed with a wrong secret', () => {
    assert.equal(verifyRequest(resign(sender.streamOnline(), 'not-the-secret')), false);
    assert.equal(verifyRequest(sender.streamOnline(), 'not-the-secret'), false);
  });

  it('returns false without throwing for truncated, uppercase, garbage, empty or missing signatures', () => {
    const request = sender.streamOnline();
    const good = request.headers[EVENTSUB_HEADERS.messageSignature] ?? '';
    const variants: EventSubWebhookRequest[] = [
      truncateSignature(request, 40),
      truncateSignature(request, good.length - 1),
      truncateSignature(request, 7),
      uppercaseSignature(request),
      withSignature(request, `${good}00`),
      withSignature(request, `sha256=${'zz'.repeat(32)}`),
      withSignature(request, `sha256=${'a'.repeat(63)}`),
      withSignature(request, `sha1=${good.slice(7)}`),
      withSignature(request, good.slice(7)),
      withSignature(request, ` ${good}`),
      withSignature(request, 'sha256=ä' + good.slice(8)),
      withSignature(request, ''),
      withSignature(request, 'garbage'),
      withSignature(request, `${good}\n`),
      withSignature(request, `Sha256=${good.slice(7)}`),
      // Each char just outside the lowercase hex digits, first and last digit.
      ...['/', ':', '`', 'g', 'A', 'F', 'G', ' ', '\u0660'].flatMap((char) => [
        withSignature(request, `sha256=${char}${good.slice(8)}`),
        withSignature(request, `${good.slice(0, -1)}${char}`),
      ]),
      // Well-formed, one digit off.
      withSignature(request, `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`),
    ];
    for (const variant of variants) {
      assert.doesNotThrow(() => verifyRequest(variant));
      assert.equal(verifyRequest(variant), false, variant.headers[EVENTSUB_HEADERS.messageSignature]);
    }
    assert.equal(
      verifyEventSubSignature({ secret, messageId: request.messageId, timestamp: request.timestamp, rawBody: bodyBytes(request), signature: undefined }),
      false,
    );
  });
});

describe('signEventSubMessage', () => {
  it('produces the header the Twitch fake produces, and that verification accepts', () => {
    const request = sender.streamOffline();
    const signature = signEventSubMessage(secret, request.messageId, request.timestamp, bodyBytes(request));
    assert.equal(signature, request.headers[EVENTSUB_HEADERS.messageSignature]);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  });
});

describe('checkEventSubTimestamp', () => {
  it('accepts a fresh nanosecond timestamp', () => {
    assert.equal(checkEventSubTimestamp(twitchTimestamp(nowMs - 5_000), nowMs), 'ok');
    assert.equal(checkEventSubTimestamp('2026-03-01T17:59:59.123456789Z', nowMs), 'ok');
  });

  it('calls a message older than 10 minutes stale (a replay)', () => {
    assert.equal(checkEventSubTimestamp(twitchTimestamp(nowMs - 10 * 60_000 - 1), nowMs), 'stale');
    assert.equal(checkEventSubTimestamp('2026-03-01T17:49:59.999999999Z', nowMs), 'stale');
    assert.equal(checkEventSubTimestamp(twitchTimestamp(nowMs - 10 * 60_000 + 1), nowMs), 'ok');
  });

  it('calls a message more than a minute ahead future', () => {
    assert.equal(checkEventSubTimestamp(twitchTimestamp(nowMs + 61_000), nowMs), 'future');
    assert.equal(checkEventSubTimestamp(twitchTimestamp(nowMs + 30_000), nowMs), 'ok');
  });

  it('reads the nanosecond digits without rounding into the next millisecond', () => {
    // 17:50:00.000999999 is 999,999 ns past the 10-minute mark: just inside it, not stale.
    assert.equal(checkEventSubTimestamp('2026-03-01T17:50:00.000999999Z', nowMs), 'ok');
    assert.equal(checkEventSubTimestamp('2026-03-01T17:49:59.999999999Z', nowMs), 'stale');
  });

  it('accepts offsets and calls malformed timestamps invalid', () => {
    assert.equal(checkEventSubTimestamp('2026-03-01T19:00:00.5+01:00', nowMs), 'ok');
    for (const bad of [
      undefined,
      '',
      'yesterday',
      '2026-03-01',
      '2026-03-01 18:00:00Z',
      '2026-03-01T18:00:00',
      '2026-03-01T18:00:00.1234567890Z',
      '2026-02-30T18:00:00Z',
      '2026-13-01T18:00:00Z',
      '2026-03-01T24:00:00Z',
      '2026-03-01T18:00:00.Z',
      '1772388000000',
    ]) {
      assert.equal(checkEventSubTimestamp(bad, nowMs), 'invalid', String(bad));
    }
  });
});
