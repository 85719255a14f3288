import Router from '@koa/router';
import { z } from 'zod';
import { AUDIT_ACTIONS, auditRecordSchema, type AuditLog } from '../audit/index.js';
import { STREAMS, decodeJson, type Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { ALLOWED_VIDEO_MIME_TYPES, MediaProcessError, perceptualHashSchema, probeMedia, sampleFrameHashes } from '../media/index.js';
import { MODERATOR_DECISIONS, applyModeratorDecision, type HashBlocklist } from '../moderation/index.js';
import { readEvidence } from '../moderation/vision/check-evidence.js';
import { UPLOAD_ID_PATTERN, type QuarantinedUploads, type UploadRecord, type UploadStore } from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { moderatorActor, type ModeratorTokens } from './middleware/moderator-actor.js';
import { readJsonBody } from './middleware/read-body.js';
import { sendObject } from './send-object.js';

export interface ModerationRouteDeps {
  readonly bus: Bus;
  readonly uploads: UploadStore;
  readonly audit: AuditLog;
  readonly blocklist: HashBlocklist;
  /** The uploads waiting for moderation (a directory or the fleet's bucket): previewed and hashed here, never served publicly. */
  readonly quarantine: QuarantinedUploads;
  readonly tokens: ModeratorTokens;
  readonly publicUrl: () => string;
  readonly now: () => number;
}

const reasonText = z.string().trim().min(1).max(500);

const decisionSchema = z
  .strictObject({ decision: z.enum(MODERATOR_DECISIONS), reason: reasonText.optional() })
  .refine((body) => body.decision !== 'reject' || body.reason !== undefined, { message: 'is required to reject', path: ['reason'] });

const blocklistAddSchema = z.union([
  z.strictObject({ upload_id: z.string().regex(UPLOAD_ID_PATTERN, 'must be an upload id'), label: reasonText.optional() }),
  z.strictObject({ hashes: z.array(perceptualHashSchema).min(1).max(256), label: reasonText.optional() }),
]);

const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().min(1).optional(),
});

/** Statuses whose file is still in the quarantine and may be previewed or hashed. */
const QUARANTINED = new Set<UploadRecord['status']>(['checking', 'in_review', 'approved', 'rejected']);

/**
 * Moderation and audit: the review queue, decisions, authenticated previews of quarantined
 * files (moderators and the admin), the perceptual-hash blocklist and the audit log (admin).
 */
export function moderationRoutes(deps: ModerationRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1' });
  const moderator = (authorization: string) => moderatorActor(authorization, deps.tokens);
  const admin = (authorization: string) => moderatorActor(authorization, deps.tokens, { adminOnly: true });
  const quarantinedRecord = async (uploadId: string | undefined): Promise<UploadRecord> => {
    const record = uploadId !== undefined && UPLOAD_ID_PATTERN.test(uploadId) ? await deps.uploads.get(uploadId) : undefined;
    if (!record) throw new AppError('not_found', 'no such upload');
    if (!QUARANTINED.has(record.status)) throw new AppError('conflict', `the upload is ${record.status}; its file is not in quarantine`);
    return record;
  };

  router.get('/moderation/queue', async (ctx) => {
    moderator(ctx.get('authorization'));
    const waiting = (await deps.uploads.list())
      .filter((record) => record.status === 'in_review')
      .sort((a, b) => (a.completed_at ?? a.created_at).localeCompare(b.completed_at ?? b.created_at) || a.upload_id.localeCompare(b.upload_id));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      uploads: waiting.map((record) => ({
        upload_id: record.upload_id,
        channel: record.channel,
        status: record.status,
        source: record.source,
        filename: record.filename,
        type: record.type,
        size: record.size,
        title: record.title,
        clip: record.clip,
        provenance: record.provenance ?? null,
        checks: record.checks,
        /** The rules version the automatic checks ran with (null on records decided before rules were versioned). */
        moderation: record.moderation ?? null,
        created_at: record.created_at,
        completed_at: record.completed_at ?? null,
        preview_url: `${deps.publicUrl()}/api/v1/moderation/${record.upload_id}/media`,
      })),
    };
  });

  router.get('/moderation/:upload_id/media', async (ctx) => {
    moderator(ctx.get('authorization'));
    const record = await quarantinedRecord(ctx.params['upload_id']);
    const type = (ALLOWED_VIDEO_MIME_TYPES as readonly string[]).includes(record.type) ? record.type : 'application/octet-stream';
    try {
      // Range, ETag and conditional requests from the store, as /media: the directory or the bucket.
      await sendObject(ctx, deps.quarantine.store, record.upload_id, {
        headers: {
          'Content-Type': type,
          'Cache-Control': 'private, no-store',
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': "default-src 'none'; sandbox",
          'Cross-Origin-Resource-Policy': 'same-origin',
          'Content-Disposition': type === 'application/octet-stream' ? 'attachment' : 'inline',
        },
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw new AppError('not_found', 'the upload has no file in quarantine');
      throw error;
    }
  });

  // A check's evidence (flagged frames the vision checks wrote beside the upload in the quarantine):
  // moderators and the admin only, never cached, and only under this upload's own evidence prefix.
  router.get('/moderation/:upload_id/evidence/:name', async (ctx) => {
    moderator(ctx.get('authorization'));
    const uploadId = ctx.params['upload_id'];
    const record = uploadId !== undefined && UPLOAD_ID_PATTERN.test(uploadId) ? await deps.uploads.get(uploadId) : undefined;
    if (!record) throw new AppError('not_found', 'no such upload');
    const name = ctx.params['name'] ?? '';
    const type = evidenceImageType(name);
    if (!type) throw new AppError('not_found', 'no such evidence');
    let read;
    try {
      // The vision checks' own reader: it refuses any key outside `evidence/{upload_id}/` (a RangeError).
      read = await readEvidence(deps.quarantine.store, record.upload_id, evidenceKey(record.upload_id, name));
    } catch (error) {
      if (error instanceof RangeError) throw new AppError('not_found', 'no such evidence');
      throw error;
    }
    if (!read) throw new AppError('not_found', 'no such evidence');
    ctx.set({
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Content-Disposition': 'inline',
    });
    ctx.type = type;
    ctx.length = read.object.size;
    ctx.body = read.body;
  });

  router.post('/moderation/:upload_id/decision', async (ctx) => {
    const actor = moderator(ctx.get('authorization'));
    const body = await readJsonBody(ctx, decisionSchema);
    const uploadId = ctx.params['upload_id'] ?? '';
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new AppError('not_found', 'no such upload');
    const record = await applyModeratorDecision(deps, { uploadId, decision: body.decision, reason: body.reason ?? null, actor });
    ctx.body = { upload_id: record.upload_id, status: record.status, ...(record.publish_options ? { publish_options: record.publish_options } : {}) };
  });

  router.get('/moderation/blocklist', async (ctx) => {
    admin(ctx.get('authorization'));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { entries: await deps.blocklist.list() };
  });

  router.post('/moderation/blocklist', async (ctx) => {
    const actor = admin(ctx.get('authorization'));
    const body = await readJsonBody(ctx, blocklistAddSchema);
    const label = body.label ?? null;
    const entry =
      'hashes' in body
        ? await deps.blocklist.add({ hashes: body.hashes, label, uploadId: null, createdBy: actor })
        : await deps.blocklist.add({ hashes: await hashUploadFrames(deps, await quarantinedRecord(body.upload_id)), label, uploadId: body.upload_id, createdBy: actor });
    await deps.audit.record({
      actor,
      action: AUDIT_ACTIONS.blocklistAdded,
      target: entry.id,
      reason: label,
      details: { hashes: entry.hashes.length, ...(entry.upload_id ? { upload_id: entry.upload_id } : {}) },
    });
    ctx.status = 201;
    ctx.body = entry;
  });

  router.delete('/moderation/blocklist/:id', async (ctx) => {
    const actor = admin(ctx.get('authorization'));
    const id = ctx.params['id'] ?? '';
    if (!(await deps.blocklist.remove(id))) throw new AppError('not_found', 'no such blocklist entry');
    await deps.audit.record({ actor, action: AUDIT_ACTIONS.blocklistRemoved, target: id });
    ctx.status = 204;
  });

  router.get('/audit', async (ctx) => {
    admin(ctx.get('authorization'));
    const parsed = auditQuerySchema.safeParse(ctx.query);
    if (!parsed.success) throw new AppError('bad_request', `${String(parsed.error.issues[0]?.path[0] ?? 'query')}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const messages = await deps.bus.readLatest(STREAMS.audit.name, { limit: parsed.data.limit, ...(parsed.data.before ? { beforeSeq: parsed.data.before } : {}) });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      records: messages.map((message) => ({ seq: message.seq, ...decodeJson(message.data, auditRecordSchema) })),
      next_before: messages.length === parsed.data.limit ? (messages.at(-1)?.seq ?? null) : null,
    };
  });

  return router;
}

/**
 * An evidence file's name: one path segment (no `/`, no `..`, nothing encoded), an image by its
 * extension. The key is then always `evidence/{upload_id}/{name}`: nothing outside the upload's
 * own evidence prefix (its bytes, another upload's frames, tus objects) can be named.
 */
const EVIDENCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,95}(?:\.[A-Za-z0-9_-]{1,16})*\.(jpe?g|png|webp)$/;
const EVIDENCE_TYPES: Readonly<Record<string, string>> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The media type of an evidence image named `name`, or undefined when the name is not one an evidence file may have. */
export function evidenceImageType(name: string): string | undefined {
  const match = EVIDENCE_NAME_PATTERN.exec(name);
  return match ? EVIDENCE_TYPES[match[1]!.toLowerCase()] : undefined;
}

/** Where an upload's evidence file `name` lives in the quarantine store (the prefix the vision checks write under). */
export function evidenceKey(uploadId: string, name: string): string {
  return `evidence/${uploadId}/${name}`;
}

/** The blocklist hashes of a quarantined upload: its sampled frames. */
async function hashUploadFrames(deps: ModerationRouteDeps, record: UploadRecord): Promise<string[]> {
  const local = await deps.quarantine.localFile(record.upload_id);
  if (!local) throw new AppError('not_found', 'the upload has no file in quarantine');
  const path = local.path;
  try {
    const { durationS } = await probeMedia(path);
    if (durationS === undefined || !(durationS > 0)) throw new AppError('bad_request', 'upload_id: the upload has no known duration to sample frames from');
    const hashes = await sampleFrameHashes(path, { durationS });
    if (hashes.length === 0) throw new AppError('bad_request', 'upload_id: no frame of the upload has a picture to hash');
    return hashes;
  } catch (error) {
    if (error instanceof MediaProcessError) throw new AppError('bad_request', 'upload_id: the upload is not a readable video', { cause: error });
    throw error;
  } finally {
    await local.release();
  }
}
