import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ulid } from 'ulid';
import { UPLOAD_GRANT_MAX_TTL_MS, UploadGrantError, UploadGrants, bearerToken, type UploadGrantScope } from './upload-grant.js';

const SECRET = 'unit-test-upload-secret-0123456789abcdef';
const scope: UploadGrantScope = { uploadId: ulid(), channel: 'acme/show', maxSize: 1000, type: 'video/mp4', source: 'clip' };

async function problemOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UploadGrantError);
    return error.problem;
  }
  return 'accepted';
}

describe('UploadGrants', () => {
  it('signs a grant that verifies to its scope, living at most 15 minutes', async () => {
    let clock = 1_700_000_000_000;
    const grants = new UploadGrants({ secret: SECRET, ttlMs: 60 * 60 * 1000, now: () => clock });
    const signed = await grants.sign(scope);
    assert.equal(signed.expiresAtMs, clock + UPLOAD_GRANT_MAX_TTL_MS, 'a longer ttl is clamped');
    assert.deepEqual(await grants.verify(signed.token), { ...scope, expiresAtMs: signed.expiresAtMs });
    clock += UPLOAD_GRANT_MAX_TTL_MS + 1000;
    assert.equal(await problemOf(grants.verify(signed.token)), 'expired');
  });

  it('refuses a missing, forged, altered, unsigned or over-long token', async () => {
    const grants = new UploadGrants({ secret: SECRET });
    const { token } = await grants.sign(scope);
    assert.equal(await problemOf(grants.verify(undefined)), 'missing');
    assert.equal(await problemOf(grants.verify('garbage')), 'invalid');
    assert.equal(await problemOf(new UploadGrants({ secret: `${SECRET}x` }).verify(token)), 'invalid');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = Buffer.from(JSON.stringify({ ...claims, max_size: 10 ** 9 })).toString('base64url');
    assert.equal(await problemOf(grants.verify(`${header}.${altered}.${signature}`)), 'invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    assert.equal(await problemOf(grants.verify(`${none}.${payload}.`)), 'invalid');
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const longLived = await new SignJWT({ channel: 'acme/show', max_size: 1000, type: 'video/mp4', source: 'clip' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('live-upload')
      .setAudience('live-upload/tus')
      .setSubject(scope.uploadId)
      .setIssuedAt(now)
      .setExpirationTime(now + 24 * 3600)
      .sign(key);
    assert.equal(await problemOf(grants.verify(longLived)), 'invalid');
    const wrongAudience = await new SignJWT({ channel: 'acme/show', max_size: 1000, type: 'video/mp4', source: 'clip' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('live-upload')
      .setAudience('somewhere-else')
      .setSubject(scope.uploadId)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    assert.equal(await problemOf(grants.verify(wrongAudience)), 'invalid');
  });

  it('reads a bearer token from an Authorization header, the scheme in any case (RFC 7235)', () => {
    for (const header of ['Bearer a.b.c', 'bearer a.b.c', 'BEARER a.b.c', 'Bearer  a.b.c']) assert.equal(bearerToken(header), 'a.b.c', header);
    for (const header of [null, undefined, '', 'Basic a.b.c', 'Bearer ', 'Bearera.b.c', 'Bearer a b']) assert.equal(bearerToken(header), undefined);
  });
});
