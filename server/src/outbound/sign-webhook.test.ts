import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { WEBHOOK_HEADERS, signWebhook, webhookHeaders } from './sign-webhook.js';
import { generateWebhookSecret, parseWebhookSecret } from './webhook-secret.js';

/** The test vector published with the Standard Webhooks reference libraries ("sign function works"). */
const SPEC_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;

describe('signWebhook', () => {
  it('matches the Standard Webhooks published test vector', () => {
    const key = parseWebhookSecret(SPEC_VECTOR.secret);
    assert.ok(key, 'the spec secret parses');
    assert.equal(key.length, 24);
    assert.equal(signWebhook(key, SPEC_VECTOR.id, SPEC_VECTOR.timestamp, SPEC_VECTOR.body), SPEC_VECTOR.signature);
  });

  it('signs id, timestamp and the exact body bytes: any change gives another signature', () => {
    const key = parseWebhookSecret(SPEC_VECTOR.secret)!;
    const base = signWebhook(key, SPEC_VECTOR.id, SPEC_VECTOR.timestamp, SPEC_VECTOR.body);
    assert.notEqual(signWebhook(key, SPEC_VECTOR.id, SPEC_VECTOR.timestamp + 1, SPEC_VECTOR.body), base);
    assert.notEqual(signWebhook(key, 'msg_other', SPEC_VECTOR.timestamp, SPEC_VECTOR.body), base);
    assert.notEqual(signWebhook(key, SPEC_VECTOR.id, SPEC_VECTOR.timestamp, '{"test":2432232314}'), base);
    const unicode = '{"title":"Café ☕"}';
    const expected = createHmac('sha256', key).update(Buffer.from(`${SPEC_VECTOR.id}.1.${unicode}`, 'utf8')).digest('base64');
    assert.equal(signWebhook(key, SPEC_VECTOR.id, 1, unicode), `v1,${expected}`);
  });

  it('refuses an id with a full stop and a timestamp that is not whole seconds', () => {
    const key = parseWebhookSecret(SPEC_VECTOR.secret)!;
    assert.throws(() => signWebhook(key, 'msg_a.b', 1, '{}'), RangeError);
    assert.throws(() => signWebhook(key, 'msg_a', 1.5, '{}'), RangeError);
    assert.throws(() => signWebhook(key, 'msg_a', -1, '{}'), RangeError);
  });

  it('sends one space-separated signature per key during a rotation', () => {
    const current = parseWebhookSecret(generateWebhookSecret())!;
    const previous = parseWebhookSecret(SPEC_VECTOR.secret)!;
    const headers = webhookHeaders([current, previous], SPEC_VECTOR.id, SPEC_VECTOR.timestamp, SPEC_VECTOR.body);
    assert.equal(headers[WEBHOOK_HEADERS.id], SPEC_VECTOR.id);
    assert.equal(headers[WEBHOOK_HEADERS.timestamp], String(SPEC_VECTOR.timestamp));
    const signatures = headers[WEBHOOK_HEADERS.signature]!.split(' ');
    assert.equal(signatures.length, 2);
    assert.equal(signatures[1], SPEC_VECTOR.signature);
    assert.notEqual(signatures[0], SPEC_VECTOR.signature);
    assert.throws(() => webhookHeaders([], 'msg_x', 1, '{}'), RangeError);
  });
});

describe('webhook secrets', () => {
  it('generates whsec_ secrets of 32 random bytes that parse back', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    assert.notEqual(a, b);
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(parseWebhookSecret(a)?.length, 32);
  });

  it('refuses secrets without the prefix, not base64, or outside 24-64 bytes', () => {
    const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
    // The character before the padding has unused low bits: setting one is not canonical base64.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const strayBits = (text: string) => text.slice(0, -2) + alphabet[alphabet.indexOf(text.at(-2)!) + 1]! + '=';
    assert.equal(parseWebhookSecret(`whsec_${b64(24)}`)?.length, 24);
    assert.equal(parseWebhookSecret(`whsec_${b64(64)}`)?.length, 64);
    for (const bad of [
      'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_',
      `whsec_${b64(23)}`,
      `whsec_${b64(65)}`,
      `WHSEC_${b64(32)}`,
      `whsec_${b64(32).replace(/=$/, '')}`,
      `whsec_${b64(32).slice(0, -2)}_-`,
      `whsec_ ${b64(32)}`,
      `whsec_${b64(32)}\n`,
      `whsec_${'A'.repeat(10_000)}`,
      `whsec_${strayBits(b64(32))}`,
    ]) {
      assert.equal(parseWebhookSecret(bad), undefined, JSON.stringify(bad.slice(0, 60)));
    }
  });
});
