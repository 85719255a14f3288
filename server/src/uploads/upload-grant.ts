import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { UPLOAD_SOURCES, type UploadSource } from './upload-record.js';

/** A grant never lives longer than this, whatever the caller asks for. */
export const UPLOAD_GRANT_MAX_TTL_MS = 15 * 60 * 1000;

const ISSUER = 'live-upload';
const AUDIENCE = 'live-upload/tus';

/** What a grant allows: one upload, into one channel, of at most `maxSize` bytes of one type. */
export interface UploadGrantScope {
  readonly uploadId: string;
  /** `{publisher}/{slug}`. */
  readonly channel: string;
  readonly maxSize: number;
  readonly type: string;
  readonly source: UploadSource;
}

export interface UploadGrant extends UploadGrantScope {
  readonly expiresAtMs: number;
}

export interface SignedUploadGrant {
  readonly token: string;
  readonly expiresAtMs: number;
}

/** Why a presented token was not accepted; `missing` and `expired` are 401, `invalid` is 403. */
export type UploadGrantProblem = 'missing' | 'invalid' | 'expired';

export class UploadGrantError extends Error {
  constructor(
    readonly problem: UploadGrantProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UploadGrantError';
  }
}

const claimsSchema = z.object({
  sub: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  channel: z.string().min(3).max(80),
  max_size: z.number().int().positive(),
  type: z.string().min(3).max(255),
  source: z.enum(UPLOAD_SOURCES),
  iat: z.number().int(),
  exp: z.number().int(),
});

/**
 * Signs and verifies upload grants: HS256 JWTs (`jose`) with `sub` = upload id and the scope
 * as claims. Verification pins the algorithm, issuer and audience, and refuses a token whose
 * lifetime is longer than 15 minutes even when its signature is good.
 */
export class UploadGrants {
  private readonly key: Uint8Array;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: { secret: string; ttlMs?: number; now?: () => number }) {
    this.key = new TextEncoder().encode(options.secret);
    this.ttlMs = Math.min(options.ttlMs ?? UPLOAD_GRANT_MAX_TTL_MS, UPLOAD_GRANT_MAX_TTL_MS);
    this.now = options.now ?? Date.now;
  }

  async sign(scope: UploadGrantScope): Promise<SignedUploadGrant> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + Math.floor(this.ttlMs / 1000);
    const token = await new SignJWT({ channel: scope.channel, max_size: scope.maxSize, type: scope.type, source: scope.source })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(scope.uploadId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAtMs: expiresAt * 1000 };
  }

  /**
   * The grant a token carries; throws `UploadGrantError` when it is missing, forged, altered or
   * expired. `allowExpired` checks everything but the expiry: the proof that a client held a
   * grant, which a re-grant to resume requires.
   */
  async verify(token: string | undefined, options: { allowExpired?: boolean } = {}): Promise<UploadGrant> {
    if (token === undefined || token === '') throw new UploadGrantError('missing', 'an upload token is required');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.now()),
        ...(options.allowExpired ? { clockTolerance: Number.MAX_SAFE_INTEGER } : {}),
        requiredClaims: ['sub', 'iat', 'exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UploadGrantError('expired', 'the upload token has expired', { cause: error });
      throw new UploadGrantError('invalid', 'the upload token is not valid', { cause: error });
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UploadGrantError('invalid', 'the upload token is not valid');
    const { sub, channel, max_size, type, source, iat, exp } = claims.data;
    if (exp - iat > UPLOAD_GRANT_MAX_TTL_MS / 1000) throw new UploadGrantError('invalid', 'the upload token lives too long');
    return { uploadId: sub, channel, maxSize: max_size, type, source, expiresAtMs: exp * 1000 };
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header value; undefined when there is none.
 * The scheme is case-insensitive (RFC 7235 section 2.1): `bearer` and `BEARER` are accepted.
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^bearer +([A-Za-z0-9._-]{1,4096})$/i.exec(authorization ?? '');
  return match?.[1];
}
