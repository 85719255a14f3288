import { parseCanonicalId, parseChannelRef } from '@live-upload/schema';
import { z } from 'zod';
import { UPLOAD_ID_PATTERN, UPLOAD_SOURCES } from './upload-record.js';

/** C0/C1 controls, and the bidi / zero-width format characters used to disguise a file name. */
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;
const MAX_CLIP_SECONDS = 3600;
/** The longest stretch of a broadcast one upload may claim to come from. */
export const MAX_PROVENANCE_SPAN_MS = MAX_CLIP_SECONDS * 1000;

const canonicalStreamId = z.string().max(128).refine((value) => parseCanonicalId(value) !== undefined, 'must be a canonical stream id (stream:{publisher}:{slug}:{ulid})');
/** ISO 8601 with a zone (`Z` or an offset); normalized to UTC milliseconds (`2026-03-01T18:00:05.000Z`). */
const programTime = z.iso
  .datetime({ offset: true })
  .max(40)
  .transform((value) => new Date(value).toISOString());

/**
 * Where in a broadcast an upload comes from: the broadcast's canonical id and the program time
 * (the stream's `EXT-X-PROGRAM-DATE-TIME` clock) of its first and last frame.
 */
export const uploadProvenanceSchema = z
  .strictObject({ canonical_id: canonicalStreamId, from: programTime, to: programTime })
  .refine((range) => Date.parse(range.from) <= Date.parse(range.to), { message: 'to must not be before from', path: ['to'] })
  .refine((range) => Date.parse(range.to) - Date.parse(range.from) <= MAX_PROVENANCE_SPAN_MS, {
    message: `spans at most ${MAX_PROVENANCE_SPAN_MS / 1000} s`,
    path: ['to'],
  });
export type UploadProvenance = z.infer<typeof uploadProvenanceSchema>;

const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_OR_FORMAT.test(value), 'must not contain control or format characters');

/** `POST /api/v1/uploads/token`. Size and type limits come from config and are checked by the caller. */
export const uploadRequestSchema = z
  .strictObject({
    channel: z.string().refine((value) => parseChannelRef(value) !== undefined, 'must be publisher/slug'),
    filename: displayText(255)
      .refine((value) => !/[/\\]/.test(value), 'must be a file name, not a path')
      .refine((value) => value !== '.' && value !== '..', 'must be a file name, not a path'),
    size: z.number().int().min(1, 'must be at least 1 byte: an empty upload is useless').max(Number.MAX_SAFE_INTEGER),
    type: z
      .string()
      .max(255)
      .transform((value) => (value.split(';')[0] ?? '').trim().toLowerCase())
      .pipe(z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'must be a media type such as video/mp4')),
    source: z.enum(UPLOAD_SOURCES),
    title: displayText(140).optional(),
    clip: z
      .strictObject({
        canonical_id: z.string().refine((value) => parseCanonicalId(value) !== undefined, 'must be a canonical stream id'),
        from_s: z.number().min(0),
        to_s: z.number().min(0),
      })
      .refine((clip) => clip.to_s > clip.from_s, { message: 'to_s must be after from_s', path: ['to_s'] })
      .refine((clip) => clip.to_s - clip.from_s <= MAX_CLIP_SECONDS, { message: `a clip is at most ${MAX_CLIP_SECONDS} s`, path: ['to_s'] })
      .optional(),
    provenance: uploadProvenanceSchema.optional(),
  })
  .superRefine((request, context) => {
    if (request.source === 'clip' && !request.clip) {
      context.addIssue({ code: 'custom', path: ['clip'], message: 'is required when source is clip' });
    }
    if (request.source !== 'clip' && request.clip) {
      context.addIssue({ code: 'custom', path: ['clip'], message: 'is only for source clip' });
    }
    if (request.source === 'broadcast' && request.provenance) {
      context.addIssue({ code: 'custom', path: ['provenance'], message: 'is not for source broadcast: a publisher recording becomes a replay of its own' });
    }
    const stream = request.clip && parseCanonicalId(request.clip.canonical_id);
    if (stream && `${stream.publisher}/${stream.slug}` !== request.channel) {
      context.addIssue({ code: 'custom', path: ['clip', 'canonical_id'], message: 'must be a stream of the same channel' });
    }
    const origin = request.provenance && parseCanonicalId(request.provenance.canonical_id);
    if (origin && `${origin.publisher}/${origin.slug}` !== request.channel) {
      context.addIssue({ code: 'custom', path: ['provenance', 'canonical_id'], message: 'must be a stream of the channel the upload is for' });
    }
    if (request.clip && request.provenance && request.clip.canonical_id !== request.provenance.canonical_id) {
      context.addIssue({ code: 'custom', path: ['provenance', 'canonical_id'], message: 'must be the stream of clip.canonical_id' });
    }
  });
export type UploadRequest = z.infer<typeof uploadRequestSchema>;

/** `POST /api/v1/uploads/token` to resume: a fresh token for an upload of that channel still `uploading`. */
export const uploadRenewalSchema = z.strictObject({
  upload_id: z.string().regex(UPLOAD_ID_PATTERN, 'must be an upload id'),
  channel: z.string().refine((value) => parseChannelRef(value) !== undefined, 'must be publisher/slug'),
  /** The grant the client held for this upload (expired is fine): proof that the upload is its own. */
  token: z.string().min(1).max(4096),
});
export type UploadRenewal = z.infer<typeof uploadRenewalSchema>;
