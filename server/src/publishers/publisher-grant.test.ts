import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ulid } from 'ulid';
import { UploadGrants } from '../uploads/index.js';
import { PUBLISHER_GRANT_AUDIENCE, PUBLISHER_GRANT_DEFAULT_TTL_MS, PUBLISHER_GRANT_MAX_TTL_MS, PublisherGrantError, PublisherGrants } from './publisher-grant.js';

const SECRET = 'unit-test-upload-secret-0123456789abcdef';
const CHANNEL = 'acme/show';
const required = { channel: CHANNEL, capability: 'replay-upload' } as const;

async function problemOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PublisherGrantError, String(error));
    return error.problem;
  }
  return 'accepted';
}

/** A token with these claims, signed the way the grants sign (the key derived from the secret), or with `key`. */
async function handMade(claims: { sub?: string; cap?: unknown; aud?: string; iat?: number; exp?: number; jti?: string }, key?: Uint8Array): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  const derived = createHmac('sha256', SECRET).update('live-upload publisher grant v1').digest();
  return new SignJWT({ cap: claims.cap ?? ['replay-upload'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('live-upload')
    .setAudience(claims.aud ?? PUBLISHER_GRANT_AUDIENCE)
    .setSubject(claims.sub ?? CHANNEL)
    .setJti(claims.jti ?? ulid())
    .setIssuedAt(claims.iat ?? nowS)
    .setExpirationTime(claims.exp ?? nowS + 60)
    .sign(key ?? derived);
}

describe('PublisherGrants', () => {
  it('signs a grant for one channel that verifies to its scope, 15 minutes by default and never past an hour', async () => {
    let clock = 1_700_000_000_000;
    const grants = new PublisherGrants({ secret: SECRET, now: () => clock });
    const signed = await grants.sign({ channel: CHANNEL, capabilities: ['replay-upload', 'replay-upload'] });
    assert.equal(signed.expiresAtMs, clock + PUBLISHER_GRANT_DEFAULT_TTL_MS);
    assert.deepEqual(signed.capabilities, ['replay-upload']);
    const verified = await grants.verify(signed.token, required);
    assert.deepEqual(verified, { channel: CHANNEL, capabilities: ['replay-upload'], grantId: signed.grantId, expiresAtMs: signed.expiresAtMs });

    const long = await grants.sign({ channel: CHANNEL, capabilities: ['replay-upload'] }, 24 * 3600 * 1000);
    assert.equal(long.expiresAtMs, clock + PUBLISHER_GRANT_MAX_TTL_MS, 'a longer ttl is clamped');
    clock += PUBLISHER_GRANT_DEFAULT_TTL_MS + 1000;
    assert.equal(await problemOf(grants.verify(signed.token, required)), 'expired');
    assert.equal((await grants.verify(long.token, required)).channel, CHANNEL);
  });

  it("refuses another channel's grant and a capability it does not carry as out of scope", async () => {
    const grants = new PublisherGrants({ secret: SECRET });
    const { token } = await grants.sign({ channel: 'other/show', capabilities: ['replay-upload'] });
    assert.equal(await problemOf(grants.verify(token, required)), 'out-of-scope');
    assert.equal(await problemOf(grants.verify(token, { channel: 'acme/show-2', capability: 'replay-upload' })), 'out-of-scope');
    assert.equal(await problemOf(grants.verify(await handMade({ cap: ['go-live'] }), required)), 'out-of-scope', 'a go-live grant does not allow replay uploads');
    assert.equal(await problemOf(grants.verify(await handMade({ cap: ['go-back'] }), required)), 'invalid', 'an unknown capability is not a grant');
  });

  it('refuses a missing, forged, altered, unsigned, over-long or malformed token, and any token of another audience', async () => {
    const grants = new PublisherGrants({ secret: SECRET });
    const { token } = await grants.sign({ channel: CHANNEL, capabilities: ['replay-upload'] });
    assert.equal(await problemOf(grants.verify(undefined, required)), 'missing');
    assert.equal(await problemOf(grants.verify('', required)), 'missing');
    assert.equal(await problemOf(grants.verify('garbage', required)), 'invalid');
    assert.equal(await problemOf(new PublisherGrants({ secret: `${SECRET}x` }).verify(token, required)), 'invalid');

    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = Buffer.from(JSON.stringify({ ...claims, sub: 'other/show' })).toString('base64url');
    assert.equal(await problemOf(grants.verify(`${header}.${altered}.${signature}`, { channel: 'other/show', capability: 'replay-upload' })), 'invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    assert.equal(await problemOf(grants.verify(`${none}.${payload}.`, required)), 'invalid');

    const nowS = Math.floor(Date.now() / 1000);
    assert.equal(await problemOf(grants.verify(await handMade({}), required)), 'accepted', 'the hand-made token is otherwise a good grant');
    assert.equal(await problemOf(grants.verify(await handMade({ exp: nowS + 24 * 3600 }), required)), 'invalid', 'lives too long');
    assert.equal(await problemOf(grants.verify(await handMade({ aud: 'live-upload/tus' }), required)), 'invalid', 'another audience');
    assert.equal(await problemOf(grants.verify(await handMade({ cap: [] }), required)), 'invalid', 'no capability');
    assert.equal(await problemOf(grants.verify(await handMade({ sub: 'not a channel' }), { channel: 'not a channel', capability: 'replay-upload' })), 'invalid');
    assert.equal(await problemOf(grants.verify(await handMade({ jti: 'not-a-ulid' }), required)), 'invalid');
    assert.equal(await problemOf(grants.verify(await handMade({}, new TextEncoder().encode(SECRET)), required)), 'invalid', 'signed with the raw secret, not the grant key');
  });

  it('never takes an upload grant signed with the same secret as a publisher grant', async () => {
    const uploadGrant = await new UploadGrants({ secret: SECRET }).sign({ uploadId: ulid(), channel: CHANNEL, maxSize: 1000, type: 'video/mp4', source: 'broadcast' });
    assert.equal(await problemOf(new PublisherGrants({ secret: SECRET }).verify(uploadGrant.token, required)), 'invalid');
  });

  it('signs no grant without a channel or a capability', async () => {
    const grants = new PublisherGrants({ secret: SECRET });
    await assert.rejects(grants.sign({ channel: 'nope', capabilities: ['replay-upload'] }), RangeError);
    await assert.rejects(grants.sign({ channel: CHANNEL, capabilities: [] }), RangeError);
  });
});
