import { isCanonicalId } from '@live-upload/schema';

/** What `<live-upload>` reads from a channel's canonical record, beyond the badge's summary. */
export interface PlaybackInfo {
  /** The channel's live HLS URL (`playback.hls`), http(s) only. */
  readonly hls: string | undefined;
  /** The current broadcast (`stream:{publisher}:{slug}:{ulid}`), the clip's provenance. */
  readonly canonicalId: string | undefined;
  /** When the broadcast started, ms since the epoch. */
  readonly startedAtMs: number | undefined;
}


/**
 * Reads playback URL, canonical id and start time from a record as received (SSE frame or
 * `GET /api/v1/channels/:publisher/:slug`). Fields of the wrong shape read as absent; relative
 * URLs resolve against `base` (the endpoint); only http(s) URLs are kept.
 */
export function readPlaybackInfo(record: unknown, base: string): PlaybackInfo {
  const fields = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
  const playback = fields['playback'];
  const raw = typeof playback === 'object' && playback !== null ? (playback as Record<string, unknown>)['hls'] : undefined;
  let hls: string | undefined;
  if (typeof raw === 'string' && raw.length <= 2048) {
    try {
      const url = new URL(raw, base);
      if (url.protocol === 'https:' || url.protocol === 'http:') hls = url.href;
    } catch {
      hls = undefined;
    }
  }
  const id = fields['canonical_id'];
  const started = typeof fields['started_at'] === 'string' ? Date.parse(fields['started_at']) : Number.NaN;
  return {
    hls,
    canonicalId: typeof id === 'string' && isCanonicalId(id) ? id : undefined,
    startedAtMs: Number.isFinite(started) ? started : undefined,
  };
}
