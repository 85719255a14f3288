import { LIVE_STATUSES } from '@live-upload/schema';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { STREAM_CURSOR_MAX_LENGTH, decodeStreamCursor } from './stream-cursor.js';
import { foldText } from './stream-entry.js';
import { STREAM_SORTS, type StreamPageRequest } from './stream-index.js';

export const STREAM_LIMIT_DEFAULT = 20;
export const STREAM_LIMIT_MAX = 100;
export const STREAM_QUERY_MAX_LENGTH = 100;
export const STREAM_TAG_MAX_LENGTH = 64;
export const STREAM_TAGS_MAX = 10;

/** A parameter given at most once: a repeated one arrives as an array and is refused. */
const once = (name: string) => z.string({ error: `${name} must be given once` });

/**
 * `GET /api/v1/streams` query parameters, as Koa parses them (a repeated parameter is an array).
 * Unknown parameters are refused, so a typo (`stauts=live`) is a 400, not a silently wider list.
 */
const streamQuerySchema = z.strictObject({
  status: once('status')
    .pipe(z.enum(LIVE_STATUSES, { error: `status must be one of ${LIVE_STATUSES.join(', ')}` }))
    .optional(),
  tag: z
    .union([z.string(), z.array(z.string())], { error: 'tag must be text' })
    .transform((tags) => (typeof tags === 'string' ? [tags] : tags))
    .pipe(
      z
        .array(
          z
            .string()
            .trim()
            .min(1, 'tag must not be empty')
            .max(STREAM_TAG_MAX_LENGTH, `tag must be at most ${STREAM_TAG_MAX_LENGTH} characters`),
        )
        .max(STREAM_TAGS_MAX, `at most ${STREAM_TAGS_MAX} tag parameters`),
    )
    .optional(),
  q: once('q')
    .trim()
    .max(STREAM_QUERY_MAX_LENGTH, `q must be at most ${STREAM_QUERY_MAX_LENGTH} characters`)
    .optional(),
  sort: once('sort')
    .pipe(z.enum(STREAM_SORTS, { error: `sort must be one of ${STREAM_SORTS.join(', ')}` }))
    .default('trending'),
  limit: once('limit')
    .regex(/^[0-9]{1,3}$/, `limit must be an integer from 1 to ${STREAM_LIMIT_MAX}`)
    .transform(Number)
    .pipe(z.number().min(1, `limit must be an integer from 1 to ${STREAM_LIMIT_MAX}`).max(STREAM_LIMIT_MAX, `limit must be an integer from 1 to ${STREAM_LIMIT_MAX}`))
    .default(STREAM_LIMIT_DEFAULT),
  cursor: once('cursor').max(STREAM_CURSOR_MAX_LENGTH, 'cursor is not a cursor this index issued').optional(),
});

/** What `GET /api/v1/streams` asks for, validated and folded: a page request for the index. */
export type StreamQuery = StreamPageRequest;

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((key) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key));
    return `unknown query parameter ${names[0]}; known: status, tag, q, sort, limit, cursor`;
  }
  const field = issue.path[0];
  return typeof field === 'string' ? `${field}: ${issue.message}` : issue.message;
}

/**
 * Parses the query of `GET /api/v1/streams`; a 400 naming the parameter for anything unknown,
 * repeated, out of range, or a cursor that is not one of ours or was made for another query.
 */
export function parseStreamQuery(query: unknown): StreamQuery {
  const parsed = streamQuerySchema.safeParse(query);
  if (!parsed.success) throw new AppError('bad_request', parsed.error.issues[0] ? describeIssue(parsed.error.issues[0]) : 'bad query');
  const { status, tag, q, sort, limit, cursor } = parsed.data;
  const request: StreamQuery = {
    sort,
    limit,
    tags: [...new Set((tag ?? []).map(foldText))],
    ...(status !== undefined ? { status } : {}),
    ...(q !== undefined && q !== '' ? { q: foldText(q) } : {}),
  };
  if (cursor === undefined || cursor === '') return request;
  const after = decodeStreamCursor(cursor, request);
  if (after === 'malformed') throw new AppError('bad_request', 'cursor: not a cursor this index issued');
  if (after === 'other_query') throw new AppError('bad_request', 'cursor: was issued for another sort or other filters; start again without it');
  return { ...request, after };
}
