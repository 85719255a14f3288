import { createHash } from 'node:crypto';
import { channelRefSchema } from '@live-upload/schema';
import { z } from 'zod';
import { SORT_KEY_LENGTH, STREAM_SORTS, type StreamFilters, type StreamPosition, type StreamSort } from './stream-index.js';

/** Longest cursor we read: ours are about 150 characters. */
export const STREAM_CURSOR_MAX_LENGTH = 512;

const CURSOR_VERSION = 1;
const CHECK_DOMAIN = 'live-upload/stream-cursor/v1\n';

/** What a cursor carries: the order and filters it was made for, and where the page ended. */
const cursorPayloadSchema = z.strictObject({
  v: z.literal(CURSOR_VERSION),
  s: z.enum(STREAM_SORTS),
  /** Fingerprint of the filters: a cursor continues only the query that made it. */
  f: z.string().regex(/^[0-9a-f]{16}$/),
  k: z.array(z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)).max(3),
  c: channelRefSchema,
});

type CursorPayload = z.infer<typeof cursorPayloadSchema>;

/** What a cursor is bound to: the order and the (folded) filters. */
export interface CursorScope extends StreamFilters {
  readonly sort: StreamSort;
}

function fingerprint(scope: CursorScope): string {
  const filters = JSON.stringify([scope.status ?? null, [...new Set(scope.tags)].sort(), scope.q ?? null]);
  return createHash('sha256').update(filters, 'utf8').digest('hex').slice(0, 16);
}

function check(payload: string): string {
  return createHash('sha256').update(CHECK_DOMAIN + payload, 'utf8').digest('base64url').slice(0, 12);
}

/**
 * The opaque `next_cursor` for a page that ended at `position`: base64url JSON and a checksum.
 * Not secret and not signed: any cursor that passes `decodeStreamCursor` names a position a
 * client could reach by paging, so forging one gains nothing; the checksum catches garbling.
 */
export function encodeStreamCursor(scope: CursorScope, position: StreamPosition): string {
  const payload: CursorPayload = { v: CURSOR_VERSION, s: scope.sort, f: fingerprint(scope), k: [...position.key], c: position.channel };
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${encoded}.${check(encoded)}`;
}

/** Why a cursor was refused, for the 400 message. */
export type CursorProblem = 'malformed' | 'other_query';

/**
 * The position a cursor names, when it is one of ours (intact) and was made for this same order
 * and filters; else the problem. Never throws.
 */
export function decodeStreamCursor(text: string, scope: CursorScope): StreamPosition | CursorProblem {
  if (text.length > STREAM_CURSOR_MAX_LENGTH) return 'malformed';
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{12})$/.exec(text);
  if (!match || check(match[1]!) !== match[2]) return 'malformed';
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(match[1]!, 'base64url')));
  } catch {
    return 'malformed';
  }
  const parsed = cursorPayloadSchema.safeParse(json);
  if (!parsed.success || parsed.data.k.length !== SORT_KEY_LENGTH[parsed.data.s]) return 'malformed';
  if (parsed.data.s !== scope.sort || parsed.data.f !== fingerprint(scope)) return 'other_query';
  return { key: parsed.data.k, channel: parsed.data.c };
}
