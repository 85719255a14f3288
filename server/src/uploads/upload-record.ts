import { z } from 'zod';

/**
 * Where an upload came from: `clip`, `recording` and `file` are viewers' (the element's);
 * `broadcast` is a recording of the channel's own broadcast uploaded by its publisher (with a
 * publisher grant), which becomes a replay ladder instead of a clip.
 */
export const UPLOAD_SOURCES = ['clip', 'recording', 'file', 'broadcast'] as const;
export type UploadSource = (typeof UPLOAD_SOURCES)[number];

/** The life of an upload, as its uploader sees it. */
export const UPLOAD_STATUSES = ['uploading', 'checking', 'in_review', 'approved', 'rejected', 'published', 'deleted'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** Which status may follow which. `deleted` is final; incomplete uploads that expire become `deleted`. */
export const UPLOAD_TRANSITIONS: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  uploading: ['checking', 'deleted'],
  checking: ['in_review', 'approved', 'rejected', 'published', 'deleted'],
  in_review: ['approved', 'rejected', 'published', 'deleted'],
  /** Approved by policy or a moderator; the promotion job publishes it, or rejects it when it cannot be transcoded. */
  approved: ['published', 'rejected', 'deleted'],
  rejected: ['deleted'],
  published: ['deleted'],
  deleted: [],
};

/** Statuses of an upload still on its way through the pipeline: each holds a place in its channel's cap. */
export const PENDING_UPLOAD_STATUSES = ['uploading', 'checking', 'in_review', 'approved'] as const satisfies readonly UploadStatus[];

export function isPendingUpload(status: UploadStatus): boolean {
  return (PENDING_UPLOAD_STATUSES as readonly UploadStatus[]).includes(status);
}

/** Server-generated upload ids are ULIDs; nothing else is ever a key or a file name. */
export const UPLOAD_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** `error`: the check could not decide (a tool timed out): never an automatic approval. */
export const CHECK_RESULTS = ['pending', 'pass', 'fail', 'review', 'error'] as const;

/** One moderation check. `detail` is for moderators only. */
export const uploadCheckSchema = z.object({
  name: z.string(),
  result: z.enum(CHECK_RESULTS),
  detail: z.string().optional(),
  at: z.string().optional(),
  duration_ms: z.number().nonnegative().optional(),
  /** Structured facts for moderators (probe summary, blocklist hits). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type UploadCheck = z.infer<typeof uploadCheckSchema>;

export const clipRangeSchema = z.object({
  canonical_id: z.string(),
  from_s: z.number(),
  to_s: z.number(),
});

/** Where in a broadcast the upload comes from (`UploadProvenance`, as stored). */
export const provenanceSchema = z.object({
  canonical_id: z.string(),
  from: z.string(),
  to: z.string(),
});

/** What is kept per upload in the `uploads` KV bucket, keyed by upload id. */
export const uploadRecordSchema = z.object({
  upload_id: z.string().regex(UPLOAD_ID_PATTERN),
  channel: z.string(),
  status: z.enum(UPLOAD_STATUSES),
  source: z.enum(UPLOAD_SOURCES),
  /** As the uploader named it; for display to moderators only, never a path. */
  filename: z.string(),
  /** Media type essence, lowercase (`video/webm`). */
  type: z.string(),
  /** Declared size in bytes: the most the tus upload may be. */
  size: z.number().int().positive(),
  title: z.string().nullable(),
  clip: clipRangeSchema.nullable(),
  /** Absent on records written before provenance existed, and when the uploader named none. */
  provenance: provenanceSchema.optional(),
  checks: z.array(uploadCheckSchema),
  /** Set once published: where the promoted media lives. */
  media: z.record(z.string(), z.unknown()).optional(),
  /**
   * A `broadcast` upload, once promoted: the replay it became (its canonical id, and the replay
   * record's API path, which tells the replay's own state: queued, transcoding, published...).
   */
  replay: z.object({ canonical_id: z.string(), vod: z.string() }).optional(),
  /**
   * The moderation rules the automatic decision ran with (issue 22): the bus revision of the
   * rules document (0: the built-in default) and whose it was (`default` or the channel). Absent
   * on records decided before the rules were versioned, and while the checks run.
   */
  moderation: z.object({ policy_version: z.number().int().nonnegative(), policy_scope: z.string() }).optional(),
  /**
   * How the published renditions are made, as a moderator decided (issue 22): `blur_faces` when
   * the upload was approved with faces blurred; the publishing transcode blurs every rendition
   * (MP4, HLS, poster) then, and the quarantined original stays as it was. Absent: published as uploaded.
   */
  publish_options: z.object({ blur_faces: z.boolean() }).optional(),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().optional(),
  /** When its first bytes were stored: from then on it keeps its channel place until the incomplete-upload expiry, not only for the start window. */
  received_at: z.string().optional(),
});
export type UploadRecord = z.infer<typeof uploadRecordSchema>;

export class UploadTransitionError extends Error {
  constructor(
    readonly from: UploadStatus,
    readonly to: UploadStatus,
  ) {
    super(`an upload cannot go from ${from} to ${to}`);
    this.name = 'UploadTransitionError';
  }
}

export function canTransition(from: UploadStatus, to: UploadStatus): boolean {
  return from === to || UPLOAD_TRANSITIONS[from].includes(to);
}

/**
 * The record after moving it to `to` at `atIso`. Moving to the status it already has returns
 * it unchanged (so a repeated completion is a no-op); a move the table forbids throws.
 */
export function transitionUpload(record: UploadRecord, to: UploadStatus, atIso: string): UploadRecord {
  if (record.status === to) return record;
  if (!canTransition(record.status, to)) throw new UploadTransitionError(record.status, to);
  return {
    ...record,
    status: to,
    updated_at: atIso,
    ...(to === 'checking' ? { completed_at: atIso } : {}),
  };
}
