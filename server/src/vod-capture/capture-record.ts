import { isCanonicalId, parseCanonicalId } from '@live-upload/schema';
import { z } from 'zod';

/** The key of a broadcast's capture record, and of its lease: `{publisher}.{slug}.{ulid}`. */
export function captureKeyOf(canonicalId: string): string {
  const parsed = parseCanonicalId(canonicalId);
  if (!parsed) throw new RangeError(`not a canonical id: ${canonicalId}`);
  return `${parsed.publisher}.${parsed.slug}.${parsed.ulid}`;
}

/** The lease of a broadcast's capture in the `leases` bucket: one replica follows it at a time. */
export function captureLeaseKeyOf(canonicalId: string): string {
  return `vod-capture.${captureKeyOf(canonicalId)}`;
}

export const CAPTURE_STATES = {
  /** The channel is LIVE with this broadcast: its lease holder follows the HLS playlist. */
  following: 'following',
  /** The canonical OFFLINE came (after the grace window): the holder ends the archive and enqueues the job. */
  ending: 'ending',
} as const;

/**
 * One broadcast being archived, in the `vod-captures` KV bucket: created (KV `create`, so the
 * first LIVE record wins) when its channel goes LIVE with a `playback.hls` and a VOD policy other
 * than `off`; moved to `ending` at its OFFLINE; deleted once its VOD job is enqueued. Every
 * replica watches the bucket and contends for each record's lease; the holder does the work.
 */
export const captureRecordSchema = z.object({
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}'),
  /** `publisher/slug`. */
  channel: z.string(),
  /**
   * The HLS URL followed: the channel's `playback.hls` when the broadcast went LIVE. A URL changed
   * mid-broadcast is not followed (one archive, one source; the next broadcast takes the new one).
   */
  url: z.string(),
  archive_prefix: z.string(),
  /**
   * A broadcast of our own origin (issue 23): its ladder is already in the media store under
   * this prefix (`origin/{publisher}/{slug}/{session_id}/`), so nothing is followed; at OFFLINE
   * the job is an `origin-ladder` one, enqueued by the status consumer itself.
   */
  origin_prefix: z.string().optional(),
  state: z.enum([CAPTURE_STATES.following, CAPTURE_STATES.ending]),
  started_at: z.string(),
  /** From the OFFLINE record (absent while following). */
  ended_at: z.string().optional(),
  /** The broadcast's title, the newest known (the OFFLINE record's, else the LIVE one's). */
  title: z.string().optional(),
  updated_at: z.string(),
});
export type CaptureRecord = z.infer<typeof captureRecordSchema>;
