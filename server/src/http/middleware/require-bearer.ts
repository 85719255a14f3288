import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from '../../errors/index.js';
import type { AppState } from '../app-state.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time token check: compares fixed-length digests, so length never leaks or throws. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The token of an `Authorization: Bearer <token>` header (printable ASCII, at most 512
 * characters); undefined for anything else. The scheme is matched in any case (`bearer`,
 * `BEARER`), as RFC 7235 section 2.1 says schemes are, and may be followed by several spaces.
 */
export function presentedBearer(authorization: string | undefined): string | undefined {
  return /^bearer +([\x21-\x7e]{1,512})$/i.exec(authorization ?? '')?.[1];
}

/** `Authorization: Bearer <token>` must be one of the accepted tokens; 401 otherwise. */
export function requireBearer(acceptedTokens: () => readonly string[], realm = 'live-upload'): Middleware<AppState> {
  return async (ctx, next) => {
    const presented = presentedBearer(ctx.get('authorization'));
    let ok = false;
    if (presented !== undefined) for (const token of acceptedTokens()) ok = tokenMatches(presented, token) || ok;
    if (!ok) {
      throw new AppError('unauthorized', 'a valid bearer token is required', {
        headers: { 'WWW-Authenticate': `Bearer realm="${realm}"` },
      });
    }
    await next();
  };
}
