import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { AppError } from '../errors/index.js';
import { MediaProcessError, createJobLimiter, type JobLimiter } from '../media/index.js';
import { AUDIO_REFERENCE_DEMUXERS, AUDIO_REFERENCE_ID_PATTERN, fingerprintAudioFile, type AudioReference, type AudioReferences, type AudioReferenceSummary } from '../moderation/index.js';
import type { AppState } from './app-state.js';
import { moderatorActor, type ModeratorTokens } from './middleware/moderator-actor.js';
import { closeGracefullyAfterAnswer } from './read-request-body.js';

/** The largest reference file taken by default: an hour of 320 kbit/s MP3 is 144 MB; a video reference should be sent as its audio. */
export const AUDIO_REFERENCE_MAX_BYTES = 256 * 1024 * 1024;

/** The longest reference by default: a reference is a recording (a song, a score, a programme), not a day of radio; cut longer ones into parts. */
export const AUDIO_REFERENCE_MAX_DURATION_S = 3600;

export interface AudioReferenceRouteDeps {
  readonly references: AudioReferences;
  readonly audit: AuditLog;
  readonly tokens: ModeratorTokens;
  /** Default `AUDIO_REFERENCE_MAX_BYTES`. */
  readonly maxBytes?: number;
  /** Default `AUDIO_REFERENCE_MAX_DURATION_S`. */
  readonly maxDurationS?: number;
  /** Where a file waits while it is fingerprinted (a private directory per request, removed on every path). Default the OS temp dir. */
  readonly tempDir?: string;
  /** Files fingerprinted at once on this replica (ffmpeg is CPU-bound). Default 1. */
  readonly concurrency?: number;
}

/** Printable text: no control characters (a title ends up in logs, audit records and the moderation page). */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !/\p{Cc}/u.test(value), { message: 'must not contain control characters' });

const addQuerySchema = z.strictObject({
  title: text(200),
  owner: text(200).optional(),
  notes: text(1000).optional(),
});

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().regex(AUDIO_REFERENCE_ID_PATTERN, 'must be a reference id').optional(),
});

/**
 * The audio references the fingerprint check matches uploads against (issue 22), admin only:
 *
 * - `POST /api/v1/moderation/audio-references?title=…&owner=…&notes=…` with the audio or video
 *   file itself as the body (any `Content-Type`; the file is recognised by its content). The
 *   text goes in the query, URL-encoded, so the body is the file and nothing else (no multipart
 *   to parse). The file is streamed to a private temp file (at most `maxBytes`), fingerprinted,
 *   and deleted whatever happens: only the fingerprint is kept. 201 with the reference.
 * - `GET /api/v1/moderation/audio-references?limit=&after=`: a page, oldest first, without
 *   fingerprints; `next_after` continues it.
 * - `GET /api/v1/moderation/audio-references/:id`, `DELETE /api/v1/moderation/audio-references/:id`.
 *
 * Additions and removals are audited (`audio_reference.added`, `audio_reference.removed`).
 */
export function audioReferenceRoutes(deps: AudioReferenceRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/moderation/audio-references' });
  const admin = (authorization: string) => moderatorActor(authorization, deps.tokens, { adminOnly: true });
  const maxBytes = deps.maxBytes ?? AUDIO_REFERENCE_MAX_BYTES;
  const maxDurationS = deps.maxDurationS ?? AUDIO_REFERENCE_MAX_DURATION_S;
  const limiter: JobLimiter = createJobLimiter(deps.concurrency ?? 1);

  router.post('/', async (ctx) => {
    const actor = admin(ctx.get('authorization'));
    const query = parseQuery(addQuerySchema, ctx.query);
    const directory = await mkdtemp(join(deps.tempDir ?? tmpdir(), 'live-upload-audio-reference-'));
    try {
      const path = join(directory, 'reference');
      const bytes = await saveRequestBody(ctx.req, path, maxBytes);
      if (bytes === 0) throw new AppError('bad_request', 'the body is empty: send the audio or video file as the request body');
      const frames = await limiter.run(() => fingerprintReference(path, maxDurationS));
      const reference = await deps.references.add({ frames, title: query.title, owner: query.owner ?? null, notes: query.notes ?? null, createdBy: actor });
      await deps.audit.record({
        actor,
        action: AUDIT_ACTIONS.audioReferenceAdded,
        target: reference.id,
        reason: reference.title,
        details: { owner: reference.owner, duration_s: reference.duration_s, bytes },
      });
      ctx.status = 201;
      ctx.body = summaryOf(reference);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  router.get('/', async (ctx) => {
    admin(ctx.get('authorization'));
    const query = parseQuery(listQuerySchema, ctx.query);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.references.page({ limit: query.limit, ...(query.after ? { after: query.after } : {}) });
  });

  router.get('/:id', async (ctx) => {
    admin(ctx.get('authorization'));
    const reference = await deps.references.get(ctx.params['id'] ?? '');
    if (!reference) throw new AppError('not_found', 'no such audio reference');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = summaryOf(reference);
  });

  router.delete('/:id', async (ctx) => {
    const actor = admin(ctx.get('authorization'));
    const id = ctx.params['id'] ?? '';
    const reference = await deps.references.get(id);
    if (!reference || !(await deps.references.remove(id))) throw new AppError('not_found', 'no such audio reference');
    await deps.audit.record({ actor, action: AUDIT_ACTIONS.audioReferenceRemoved, target: id, reason: reference.title });
    ctx.status = 204;
  });

  return router;
}

function summaryOf(reference: AudioReference): AudioReferenceSummary {
  const { fingerprint: _fingerprint, ...summary } = reference;
  return summary;
}

function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path[0] === undefined ? 'query' : String(issue.path[0]);
  const message = issue?.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
  throw new AppError('bad_request', `${field}: ${message}`);
}

/** The reference's sub-fingerprints, or a 400 saying what is wrong with the file. */
async function fingerprintReference(path: string, maxDurationS: number): Promise<Uint32Array> {
  let heard;
  try {
    // A few seconds past the limit, to tell a file at the limit from one beyond it.
    heard = await fingerprintAudioFile(path, { maxDurationS: maxDurationS + 5, demuxers: AUDIO_REFERENCE_DEMUXERS });
  } catch (error) {
    if (error instanceof MediaProcessError && error.kind === 'timeout') throw new AppError('bad_request', 'the file took too long to decode', { cause: error });
    if (error instanceof MediaProcessError) throw new AppError('bad_request', 'the body is not a readable audio or video file (MP4, WebM, Matroska, MP3, WAV, FLAC, Ogg or AAC)', { cause: error });
    throw error;
  }
  if (heard.kind === 'no-audio') throw new AppError('bad_request', 'the file has no audio stream');
  if (heard.kind === 'too-short') throw new AppError('bad_request', 'the audio is too short to fingerprint (under 3 s)');
  if (heard.durationS > maxDurationS) throw new AppError('payload_too_large', `the audio is longer than ${maxDurationS} s: send it in parts`);
  return heard.frames;
}

/**
 * Streams a request body into a new file, refusing more than `limitBytes` with a 413 (at once
 * when `Content-Length` says so, else when the bytes pass it; the rest is read and dropped and
 * the connection closes after the answer, as `readRequestBody` does). Writes wait for the disk
 * (the request is paused meanwhile). A client that goes away mid-body is a 400.
 */
function saveRequestBody(request: IncomingMessage, path: string, limitBytes: number): Promise<number> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(refuseBody(request, limitBytes));
  return new Promise((resolve, reject) => {
    const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    let received = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      file.destroy();
      request.resume();
      reject(error);
    };
    file.on('error', (error) => fail(error));
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limitBytes) {
        fail(refuseBody(request, limitBytes));
        return;
      }
      if (!file.write(chunk)) {
        request.pause();
        file.once('drain', () => request.resume());
      }
    });
    request.on('end', () => {
      if (settled) return;
      file.end(() => {
        if (settled) return;
        settled = true;
        resolve(received);
      });
    });
    for (const event of ['aborted', 'error'] as const) {
      request.on(event, (error?: Error) => fail(new AppError('bad_request', 'body ended before it was complete', error ? { cause: error } : undefined)));
    }
  });
}

function refuseBody(request: IncomingMessage, limitBytes: number): AppError {
  request.resume();
  closeGracefullyAfterAnswer(request.socket);
  return new AppError('payload_too_large', `body is larger than ${limitBytes} bytes`, { headers: { Connection: 'close' } });
}
