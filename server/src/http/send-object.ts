import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from 'koa';
import { AppError } from '../errors/index.js';
import { RangeNotSatisfiableError, type ObjectStore, type StoredObject } from '../storage/index.js';
import type { AppState } from './app-state.js';
import { resolveRange, resolveRangeWithoutSize, type RangeRequest } from './range-header.js';

export interface SendObjectOptions {
  /** Headers of every answer that carries the object or stands for it (200, 206, 304): type, caching. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Answers a GET or HEAD with one object of a store, as a static file server would: `ETag` and
 * `Last-Modified` from the store, the conditional requests of RFC 9110 §13 (`If-Match` and
 * `If-Unmodified-Since` fail with 412; `If-None-Match` and `If-Modified-Since` answer 304), one
 * byte range (206, `If-Range` honoured; 416 with `Content-Range: bytes *\/size` past the end),
 * `Accept-Ranges`, and the body streamed from the store (Koa ends the store's stream when the
 * client goes away). A key with no object is a 404.
 *
 * A plain GET (no condition, no suffix range: what players send) is one read of the store; the
 * rest look at the object first. On S3 that is one request to the store instead of two.
 */
export async function sendObject(ctx: Context, store: ObjectStore, key: string, options: SendObjectOptions): Promise<void> {
  if (ctx.method === 'GET' && !CONDITIONS.some((header) => ctx.get(header))) {
    const requested = resolveRangeWithoutSize(ctx.get('Range') || undefined);
    if (requested && requested.kind !== 'unsatisfiable') return streamObject(ctx, store, key, requested, options);
  }
  const object = await store.head(key);
  if (!object) throw new AppError('not_found', 'no such file');
  const validators = validatorsOf(object);
  if (preconditionFails(ctx, validators)) throw new AppError('precondition_failed', 'the file does not match the precondition');
  if (notModified(ctx, validators)) {
    ctx.set({ ...options.headers, ETag: validators.etag, 'Last-Modified': validators.lastModified });
    ctx.status = 304;
    return;
  }

  const requested: RangeRequest =
    ctx.method === 'GET' && ifRangeHolds(ctx.get('If-Range'), validators) ? resolveRange(ctx.get('Range') || undefined, object.size) : { kind: 'whole' };
  if (requested.kind === 'unsatisfiable') throw unsatisfiable(object.size);
  if (ctx.method === 'HEAD') {
    ctx.set({ ...options.headers, ETag: validators.etag, 'Last-Modified': validators.lastModified, 'Accept-Ranges': 'bytes' });
    ctx.status = 200;
    ctx.length = object.size;
    return;
  }

  await streamObject(ctx, store, key, requested, options);
}

/** Request headers that make a GET conditional. */
const CONDITIONS = ['If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since', 'If-Range'] as const;

/** Answers 200 or 206 with the bytes `requested` (a range's end past the object is cut by the store). */
async function streamObject(
  ctx: Context,
  store: ObjectStore,
  key: string,
  requested: Exclude<RangeRequest, { kind: 'unsatisfiable' }>,
  options: SendObjectOptions,
): Promise<void> {
  let read;
  try {
    read = await store.get(key, requested.kind === 'range' ? requested.range : undefined);
  } catch (error) {
    // A range past the end (found by the read itself, or the object shrank since the look).
    if (error instanceof RangeNotSatisfiableError) throw unsatisfiable(error.size);
    throw error;
  }
  if (!read) throw new AppError('not_found', 'no such file');
  const served = validatorsOf(read.object);
  ctx.set({ ...options.headers, ETag: served.etag, 'Last-Modified': served.lastModified, 'Accept-Ranges': 'bytes' });
  if (requested.kind === 'range') {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${read.range.start}-${read.range.end}/${read.object.size}`);
  } else {
    ctx.status = 200;
  }
  ctx.length = Math.max(0, read.range.end - read.range.start + 1);
  await pipeBody(ctx, read.body, key);
}

/**
 * Streams the body to the socket ourselves (Koa stays out, as `send` kept it out before): a viewer
 * who closes the player mid-download is how media ends every day, not an error for Koa to print
 * with a stack. Either side ending early destroys the other (the store's connection goes back at
 * once); only the store breaking off is logged, and its viewer sees the connection close.
 */
async function pipeBody(ctx: Context, body: Readable, key: string): Promise<void> {
  ctx.respond = false;
  let endedBy: 'viewer' | 'store' | undefined;
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) endedBy ??= 'viewer';
  });
  body.once('error', () => {
    endedBy ??= 'store';
  });
  try {
    await pipeline(body, ctx.res);
  } catch (error) {
    if (endedBy === 'store') (ctx.state as Partial<AppState>).log?.warn({ err: error, key }, 'the media store broke off a response');
  }
}

interface Validators {
  readonly etag: string;
  /** HTTP date. */
  readonly lastModified: string;
  /** What HTTP dates can say: whole seconds. */
  readonly lastModifiedSeconds: number;
}

function validatorsOf(object: StoredObject): Validators {
  const lastModifiedSeconds = Math.floor(object.lastModifiedMs / 1000);
  return { etag: object.etag, lastModified: new Date(lastModifiedSeconds * 1000).toUTCString(), lastModifiedSeconds };
}

function unsatisfiable(size: number): AppError {
  return new AppError('range_not_satisfiable', 'the range is outside the file', { headers: { 'Content-Range': `bytes */${size}` } });
}

/** `If-Match` (strong comparison) or, without it, `If-Unmodified-Since`. */
function preconditionFails(ctx: Context, validators: Validators): boolean {
  const ifMatch = ctx.get('If-Match');
  if (ifMatch) return !etagListMatches(ifMatch, validators.etag, 'strong');
  const since = httpDateSeconds(ctx.get('If-Unmodified-Since'));
  return since !== undefined && validators.lastModifiedSeconds > since;
}

/** `If-None-Match` (weak comparison) or, without it, `If-Modified-Since`. */
function notModified(ctx: Context, validators: Validators): boolean {
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch) return etagListMatches(ifNoneMatch, validators.etag, 'weak');
  const since = httpDateSeconds(ctx.get('If-Modified-Since'));
  return since !== undefined && validators.lastModifiedSeconds <= since;
}

/** A range applies unless `If-Range` names another version (an ETag compared strongly, or a date). */
function ifRangeHolds(ifRange: string, validators: Validators): boolean {
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === validators.etag && !ifRange.startsWith('W/');
  const date = httpDateSeconds(ifRange);
  return date !== undefined && validators.lastModifiedSeconds === date;
}

function etagListMatches(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  const candidates = header.split(',').map((candidate) => candidate.trim());
  if (candidates.includes('*')) return true;
  const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
  return candidates.some((candidate) =>
    comparison === 'strong' ? !candidate.startsWith('W/') && !etag.startsWith('W/') && candidate === etag : opaque(candidate) === opaque(etag),
  );
}

function httpDateSeconds(value: string): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
