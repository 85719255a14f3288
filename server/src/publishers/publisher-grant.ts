import { createHmac } from 'node:crypto';
import { parseChannelRef } from '@live-upload/schema';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ulid } from 'ulid';
import { z } from 'zod';

/**
 * What a publisher grant may allow. A grant names the capabilities its holder may use, never
 * more: a host page that only uploads recordings asks for `replay-upload` alone.
 * - `replay-upload`: ask `POST /api/v1/uploads/token` for a `broadcast` upload (a recording that
 *   becomes a replay ladder of the channel).
 * - `go-live` (issue 23): open one WHIP session into our own origin
 *   (`POST /api/v1/channels/:publisher/:slug/whip`). Single-use: the origin records the grant id
 *   on the bus when a session opens, and refuses a second offer with the same grant on any replica.
 * - `audience` (issue 27): read the channel's broadcasts' audience numbers
 *   (`GET /api/v1/channels/:publisher/:slug/broadcasts/:canonical_id/audience`).
 */
export const PUBLISHER_CAPABILITIES = ['replay-upload', 'go-live', 'audience'] as const;
export type PublisherCapability = (typeof PUBLISHER_CAPABILITIES)[number];

/** A grant lives this long unless the admin asks for less (or more, up to the maximum). */
export const PUBLISHER_GRANT_DEFAULT_TTL_MS = 15 * 60 * 1000;
/** No grant lives longer than this, whatever is asked, and a token claiming more is refused. */
export const PUBLISHER_GRANT_MAX_TTL_MS = 60 * 60 * 1000;

const ISSUER = 'live-upload';
/** Its own audience: an upload grant (`live-upload/tus`) is never a publisher grant, nor the reverse. */
export const PUBLISHER_GRANT_AUDIENCE = 'live-upload/publisher';
/** The HMAC key is derived from the secret with this label, so no other token signed with the secret verifies as a grant. */
const KEY_LABEL = 'live-upload publisher grant v1';

/** What a grant allows: acting as the publisher of one channel, for some capabilities. */
export interface PublisherGrantScope {
  /** `{publisher}/{slug}`. */
  readonly channel: string;
  readonly capabilities: readonly PublisherCapability[];
}

export interface PublisherGrant extends PublisherGrantScope {
  /** The grant's own id (`jti`, a ULID): what the audit trail names. */
  readonly grantId: string;
  readonly expiresAtMs: number;
}

export interface SignedPublisherGrant extends PublisherGrant {
  readonly token: string;
}

/**
 * Why a presented grant was refused: `missing` and `expired` are 401 (get a fresh one),
 * `invalid` (forged, altered, another audience, malformed) and `out-of-scope` (another channel,
 * a capability it does not carry) are 403.
 */
export type PublisherGrantProblem = 'missing' | 'invalid' | 'expired' | 'out-of-scope';

export class PublisherGrantError extends Error {
  constructor(
    readonly problem: PublisherGrantProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublisherGrantError';
  }
}

const claimsSchema = z.object({
  sub: z.string().refine((value) => parseChannelRef(value) !== undefined),
  jti: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  cap: z.array(z.enum(PUBLISHER_CAPABILITIES)).min(1).max(PUBLISHER_CAPABILITIES.length),
  iat: z.number().int(),
  exp: z.number().int(),
});

/**
 * Signs and verifies publisher grants: short-lived HS256 JWTs (`jose`) that let whoever holds
 * one act as the publisher of one channel for the capabilities it names. The product has no
 * publisher accounts: the host page's backend, which knows its publisher, asks for a grant with
 * the admin token (`POST /api/v1/channels/:publisher/:slug/publisher-grants`) and hands it to
 * its page. `sub` is the channel, `cap` the capabilities, `jti` the grant id. Verification pins
 * the algorithm, issuer and audience, and refuses a token whose lifetime is longer than
 * `PUBLISHER_GRANT_MAX_TTL_MS` even when its signature is good.
 */
export class PublisherGrants {
  private readonly key: Uint8Array;
  private readonly now: () => number;

  constructor(options: { secret: string; now?: () => number }) {
    this.key = createHmac('sha256', options.secret).update(KEY_LABEL).digest();
    this.now = options.now ?? Date.now;
  }

  /** A grant for `scope`, living `ttlMs` (default 15 min, clamped to 1 h). */
  async sign(scope: PublisherGrantScope, ttlMs: number = PUBLISHER_GRANT_DEFAULT_TTL_MS): Promise<SignedPublisherGrant> {
    if (!parseChannelRef(scope.channel)) throw new RangeError(`not a channel: ${scope.channel}`);
    const capabilities = [...new Set(scope.capabilities)];
    if (capabilities.length === 0) throw new RangeError('a publisher grant needs at least one capability');
    const nowMs = this.now();
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = issuedAt + Math.max(1, Math.floor(Math.min(ttlMs, PUBLISHER_GRANT_MAX_TTL_MS) / 1000));
    const grantId = ulid(nowMs);
    const token = await new SignJWT({ cap: capabilities })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(PUBLISHER_GRANT_AUDIENCE)
      .setSubject(scope.channel)
      .setJti(grantId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, channel: scope.channel, capabilities, grantId, expiresAtMs: expiresAt * 1000 };
  }

  /**
   * The grant `token` carries, when it is one of ours, unexpired, for `channel` and carrying
   * `capability`; throws `PublisherGrantError` otherwise.
   */
  async verify(token: string | undefined, required: { readonly channel: string; readonly capability: PublisherCapability }): Promise<PublisherGrant> {
    if (token === undefined || token === '') throw new PublisherGrantError('missing', 'a publisher grant is required');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: PUBLISHER_GRANT_AUDIENCE,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new PublisherGrantError('expired', 'the publisher grant has expired', { cause: error });
      throw new PublisherGrantError('invalid', 'the publisher grant is not valid', { cause: error });
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new PublisherGrantError('invalid', 'the publisher grant is not valid');
    const { sub, jti, cap, iat, exp } = claims.data;
    if (exp - iat > PUBLISHER_GRANT_MAX_TTL_MS / 1000) throw new PublisherGrantError('invalid', 'the publisher grant lives too long');
    if (sub !== required.channel) throw new PublisherGrantError('out-of-scope', `the publisher grant is for another channel, not ${required.channel}`);
    if (!cap.includes(required.capability)) throw new PublisherGrantError('out-of-scope', `the publisher grant does not allow ${required.capability}`);
    return { channel: sub, capabilities: cap, grantId: jti, expiresAtMs: exp * 1000 };
  }
}
