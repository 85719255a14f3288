import { z } from 'zod';
import { INGEST_FAILURE_REASONS } from './ingest-error.js';
import { SEGMENT_FORMATS } from './segment-format.js';

/**
 * The archive manifest: what an ingest has stored under its prefix, in media-sequence order,
 * written as it goes so another replica resumes where a crashed one stopped and the ladder
 * knows every segment, discontinuity and hole. It is paged: `manifest.json` (the head: source,
 * state, how many pages) and `entries/NNNNNN.json` (up to `entriesPerPage` entries each, with
 * running totals), so each write is small however long the broadcast, and the follower keeps
 * only the current page in memory.
 */
export const ARCHIVE_STATES = {
  /** Being written (or its writer crashed: resume it). */
  following: 'following',
  /** Done: `EXT-X-ENDLIST`, or the caller's `stop()` (the channel went offline). Usable. */
  ended: 'ended',
  /** Refused or stopped with `failure`; not to be published (delete the prefix). */
  failed: 'failed',
} as const;
export type ArchiveState = (typeof ARCHIVE_STATES)[keyof typeof ARCHIVE_STATES];

export const GAP_REASONS = {
  /** The playlist moved past segments we never saw listed (refreshes missed, a long stall). */
  missedRefresh: 'missed_refresh',
  /** Listed, but every try failed (404, 5xx, a dropped connection). */
  segmentUnavailable: 'segment_unavailable',
  /** The source marked it `EXT-X-GAP`. */
  sourceGap: 'source_gap',
} as const;

const failureReasons = Object.values(INGEST_FAILURE_REASONS) as [string, ...string[]];

const segmentEntrySchema = z.object({
  kind: z.literal('segment'),
  sequence: z.number().int().nonnegative(),
  key: z.string(),
  format: z.enum(Object.values(SEGMENT_FORMATS) as [string, ...string[]]),
  durationS: z.number().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** The source put `EXT-X-DISCONTINUITY` before it. (A gap entry before it is a break too.) */
  discontinuity: z.boolean(),
  discontinuitySequence: z.number().int().nonnegative(),
  programDateTime: z.string().optional(),
  /** The archived init section (fMP4) it needs. */
  initKey: z.string().optional(),
});

const gapEntrySchema = z.object({
  kind: z.literal('gap'),
  /** The first and last missing media sequence numbers, inclusive. */
  fromSequence: z.number().int().nonnegative(),
  toSequence: z.number().int().nonnegative(),
  reason: z.enum(Object.values(GAP_REASONS) as [string, ...string[]]),
  /** Seconds missing: exact when the segments were listed, else segments x target duration. */
  durationS: z.number().nonnegative(),
  durationEstimated: z.boolean(),
  detail: z.string().optional(),
});

export const archiveEntrySchema = z.discriminatedUnion('kind', [segmentEntrySchema, gapEntrySchema]);
export type ArchiveSegmentEntry = z.infer<typeof segmentEntrySchema> & { readonly format: (typeof SEGMENT_FORMATS)[keyof typeof SEGMENT_FORMATS] };
export type ArchiveGapEntry = z.infer<typeof gapEntrySchema> & { readonly reason: (typeof GAP_REASONS)[keyof typeof GAP_REASONS] };
export type ArchiveEntry = ArchiveSegmentEntry | ArchiveGapEntry;

export const archiveTotalsSchema = z.object({
  segments: z.number().int().nonnegative(),
  gaps: z.number().int().nonnegative(),
  /** Sequence numbers covered by gaps. */
  missingSegments: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Seconds of archived media (gaps excluded). */
  durationS: z.number().nonnegative(),
  /** The highest media sequence number handled (archived or recorded as a gap). */
  lastSequence: z.number().int().nonnegative().nullable(),
});
export type ArchiveTotals = z.infer<typeof archiveTotalsSchema>;

export const EMPTY_TOTALS: ArchiveTotals = { segments: 0, gaps: 0, missingSegments: 0, bytes: 0, durationS: 0, lastSequence: null };

export const archivePageSchema = z.object({
  index: z.number().int().nonnegative(),
  entries: z.array(archiveEntrySchema),
  /** Totals through this page's last entry. */
  totals: archiveTotalsSchema,
});
export type ArchivePage = { readonly index: number; readonly entries: ArchiveEntry[]; readonly totals: ArchiveTotals };

/**
 * The source started its media sequence over (an encoder restart): archive sequence = source
 * sequence + `offset` from `atSequence` on (the first segment after it, marked a discontinuity).
 * The latest one only; `count` says how many there were. See media-sequence-restart.ts.
 */
export const sourceRestartSchema = z.object({
  offset: z.number().int(),
  atSequence: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});
export type SourceRestart = z.infer<typeof sourceRestartSchema>;

export const archiveHeadSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['live', 'vod']),
  /** The URL handed in (a master playlist's chosen variant is `mediaUrl`). */
  source: z.string(),
  mediaUrl: z.string().optional(),
  state: z.enum(Object.values(ARCHIVE_STATES) as [string, ...string[]]),
  endedBy: z.enum(['endlist', 'stop']).optional(),
  failure: z.object({ reason: z.enum(failureReasons), message: z.string() }).optional(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
  entriesPerPage: z.number().int().positive(),
  pageCount: z.number().int().nonnegative(),
  /** Init section URL -> its archived key. */
  initSections: z.record(z.string(), z.string()),
  /** Set once the source restarted its media sequence; a resumed follower goes on with it. */
  sourceRestart: sourceRestartSchema.optional(),
});
export type ArchiveHead = z.infer<typeof archiveHeadSchema> & { readonly state: ArchiveState };
