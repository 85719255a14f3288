import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { deletedVideoFeed, videoFeed } from '../../../../test/fakes/youtube/atom-feed.js';
import { hubHmac } from '../../../../test/fakes/youtube/websub-hub.js';
import { checkHubSignature } from './hub-signature.js';

const secret = 'per-subscription-secret-0123456789';
const body = videoFeed({ videoId: 'dQw4w9WgXcQ', channelId: 'UCuAXFkgsw1L7xaCfnd5JJOw', title: 'Grüße & <friends>' });
const rawBody = Buffer.from(body, 'utf8');

describe('checkHubSignature', () => {
  it('accepts the sha1 signature the hub fake computes (independent HMAC) over the raw body', () => {
    assert.equal(checkHubSignature({ secret, rawBody, signature: `sha1=${hubHmac(secret, body)}` }), 'valid');
    const deleted = deletedVideoFeed({ videoId: 'dQw4w9WgXcQ', channelId: 'UCuAXFkgsw1L7xaCfnd5JJOw' });
    assert.equal(checkHubSignature({ secret, rawBody: new TextEncoder().encode(deleted), signature: `sha1=${hubHmac(secret, deleted)}` }), 'valid');
  });

  it('accepts the W3C WebSub SHA-2 methods and an uppercase method or hex', () => {
    for (const method of ['sha256', 'sha384', 'sha512'] as const) {
      const hex = createHmac(method, secret).update(rawBody).digest('hex');
      assert.equal(checkHubSignature({ secret, rawBody, signature: `${method}=${hex}` }), 'valid', method);
    }
    assert.equal(checkHubSignature({ secret, rawBody, signature: `SHA1=${hubHmac(secret, body).toUpperCase()}` }), 'valid');
  });

  it('calls a missing or empty header unsigned', () => {
    assert.equal(checkHubSignature({ secret, rawBody, signature: undefined }), 'unsigned');
    assert.equal(checkHubSignature({ secret, rawBody, signature: '' }), 'unsigned');
  });

  it('rejects a wrong secret, a changed byte and a re-encoded body', () => {
    const good = `sha1=${hubHmac(secret, body)}`;
    assert.equal(checkHubSignature({ secret: 'another-secret-0123456789', rawBody, signature: good }), 'invalid');
    const changed = Buffer.from(rawBody);
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 1;
    assert.equal(checkHubSignature({ secret, rawBody: changed, signature: good }), 'invalid');
    assert.equal(checkHubSignature({ secret, rawBody: Buffer.from(body.replace(/\n/g, '\r\n')), signature: good }), 'invalid');
  });

  it('returns invalid without throwing for malformed, truncated, padded or mislabelled signatures', () => {
    const hex = hubHmac(secret, body);
    for (const signature of [
      hex,
      `sha1=${hex.slice(0, 39)}`,
      `sha1=${hex}00`,
      `sha1=${'z'.repeat(40)}`,
      `sha256=${hex}`,
      `md5=${hex.slice(0, 32)}`,
      ` sha1=${hex}`,
      `sha1= ${hex}`,
      `sha1=${hex};`,
      'sha1=',
      'sha1',
      `sha1=${'a'.repeat(10_000)}`,
      'sha1=ä'.padEnd(45, '0'),
    ]) {
      assert.doesNotThrow(() => checkHubSignature({ secret, rawBody, signature }));
      assert.equal(checkHubSignature({ secret, rawBody, signature }), 'invalid', signature.slice(0, 60));
    }
  });
});
