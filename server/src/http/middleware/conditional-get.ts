import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/**
 * RFC 9110 §13.1.2: does `If-None-Match` match this entity tag? Weak comparison (a `W/` prefix
 * on either side is ignored), `*` matches anything. Evaluated by the origin whatever the
 * request's `Cache-Control` says, unlike the `fresh` module, which answers "stale" for
 * `no-cache` (which fetch adds to every conditional request).
 */
export function ifNoneMatchMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const target = opaque(etag);
  return ifNoneMatch.split(',').some((candidate) => opaque(candidate) === target);
}

/** A strong entity tag for a representation: the first 27 base64url characters of its SHA-256 (162 bits). */
export function contentEtag(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 27)}"`;
}

/**
 * Sets `ETag` and, when the request's `If-None-Match` matches it, answers `304 Not Modified`.
 * True when it did: the caller sends no body. Headers set before the call go out with the 304.
 */
export function answeredNotModified(ctx: Context, etag: string): boolean {
  ctx.set('ETag', etag);
  if (!ifNoneMatchMatches(ctx.get('if-none-match'), etag)) return false;
  ctx.status = 304;
  return true;
}
