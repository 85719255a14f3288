import { isCanonicalId, parseCanonicalId } from '@live-upload/schema';
import { z } from 'zod';
import { UPLOAD_ID_PATTERN } from '../uploads/index.js';

/**
 * One broadcast to turn into a replay: the work-queue job of the VOD worker, one per broadcast
 * (its msg id is `vod:{canonical_id}`, so a second enqueue of the same broadcast is a
 * duplicate the bus drops). Where the media comes from:
 * - `live-archive`: the segments an `HlsFollower` archived while the channel was LIVE, under
 *   `archive_prefix` in the media ObjectStore (never served as such);
 * - `vod-playlist`: a finished HLS VOD an admin or publisher handed in, pulled segment by segment;
 * - `upload`: a publisher's recording of their broadcast (a `broadcast` upload, moderated and
 *   approved), read from the quarantine, which the worker empties once the replay is made. Its
 *   canonical id's ULID is the upload id, so a redelivered promotion asks for the same replay.
 * - `origin-ladder`: a broadcast of our own origin (issue 23): its live ladder is already in the
 *   media store under `prefix` (`origin/{publisher}/{slug}/{session_id}/`); the replay is its
 *   segments copied into the replay layout, no second transcode, and the prefix goes after.
 */
/** Where the origin's `LiveHlsMirror` stores a session's ladder (`originKeyPrefix`). */
const ORIGIN_LADDER_PREFIX = /^origin\/[a-z0-9][a-z0-9-]{0,38}\/[a-z0-9][a-z0-9-]{0,38}\/[0-9A-HJKMNP-TV-Z]{26}\/$/;

export const vodJobSchema = z.strictObject({
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}'),
  /** `publisher/slug`. */
  channel: z.string().min(3).max(130),
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('live-archive'), archive_prefix: z.string().min(2).max(300).endsWith('/') }),
    z.strictObject({ kind: z.literal('vod-playlist'), url: z.url({ protocol: /^https?$/ }).max(2048) }),
    z.strictObject({ kind: z.literal('upload'), upload_id: z.string().regex(UPLOAD_ID_PATTERN) }),
    z.strictObject({ kind: z.literal('origin-ladder'), prefix: z.string().regex(ORIGIN_LADDER_PREFIX) }),
  ]),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime().optional(),
  title: z.string().max(300).optional(),
  requested_at: z.iso.datetime(),
});
export type VodJob = z.infer<typeof vodJobSchema>;

/**
 * The object-key path of a broadcast: `{publisher}/{slug}/{ulid}` (a canonical id has `:`,
 * which object keys do not take). Archives live under `vod-archives/{path}/`, replays under
 * `vods/{path}/`.
 */
export function broadcastKeyPath(canonicalId: string): string {
  const parsed = parseCanonicalId(canonicalId);
  if (!parsed) throw new RangeError(`not a canonical id: ${canonicalId}`);
  return `${parsed.publisher}/${parsed.slug}/${parsed.ulid}`;
}
