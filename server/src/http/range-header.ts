import type { ByteRange } from '../storage/index.js';

/** What a `Range` header asks of an object of a known size. */
export type RangeRequest =
  /** No usable single byte range (absent, malformed, another unit, several ranges): send it all. */
  | { readonly kind: 'whole' }
  | { readonly kind: 'range'; readonly range: ByteRange }
  /** A well-formed range that selects no byte of the object: 416. */
  | { readonly kind: 'unsatisfiable' };

const SINGLE_BYTE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Resolves a `Range` header (RFC 9110 §14) against an object of `size` bytes: `start-end`,
 * `start-` and the suffix `-length`, an end past the last byte cut to it. Several ranges are
 * answered whole, as `send` (which served the media before) does: players ask for one, and a
 * multipart/byteranges answer is nobody's use here. A malformed header is ignored, as the RFC says.
 */
export function resolveRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = SINGLE_BYTE_RANGE.exec(header.replace(/\s+/g, ''));
  if (!match) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const length = Number(last);
    if (!Number.isSafeInteger(length)) return { kind: 'whole' };
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end: Math.min(end, size - 1) } };
}

/**
 * The same without knowing the size, where that is possible: everything but a suffix range
 * (`bytes=-500`), for which this answers undefined. An open or too long end is left for the store
 * to cut at the object's end.
 */
export function resolveRangeWithoutSize(header: string | undefined): RangeRequest | undefined {
  if (header !== undefined && /^bytes=-\d/.test(header.replace(/\s+/g, ''))) return undefined;
  return resolveRange(header, Number.MAX_SAFE_INTEGER);
}
