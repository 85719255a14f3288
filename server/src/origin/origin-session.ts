import { z } from 'zod';

/**
 * Our own origin (issue 23): a publisher goes live from `<live-upload>` (or any WHIP client)
 * into this server. One WHIP session per channel at a time, terminated by the replica that
 * answered its offer (WebRTC media goes to that process); everything else about it is on the
 * bus, so any replica can answer for it.
 *
 * The flow, one way:
 *   WHIP offer -> `OriginSessions.claim` (one per channel, compare-and-set) -> werift peer
 *   connection -> RTP -> ffmpeg -> live HLS ladder on local disk -> `LiveHlsOutput` copies it
 *   to the media ObjectStore under `origin/{publisher}/{slug}/{session_id}/` (served to viewers
 *   by every replica) -> first segment written: `OriginSignals.online` -> raw event
 *   `provider: 'origin'` -> the pipeline's origin adapter -> canonical LIVE, `playback.hls` the
 *   session's master playlist. The end (DELETE, media timeout, peer gone): `OriginSignals.offline`
 *   -> the same pipeline -> OFFLINE after the grace window -> the replay, made from the origin's
 *   own ladder (no second transcode).
 */

export const ORIGIN_SESSION_STATES = ['connecting', 'live', 'ended'] as const;
export type OriginSessionState = (typeof ORIGIN_SESSION_STATES)[number];

/** What the bus keeps of a session (bucket `origin-sessions`, key `{publisher}.{slug}`: one per channel). */
export const originSessionSchema = z.strictObject({
  /** A ULID; the WHIP resource is `/api/v1/whip/sessions/{session_id}`. */
  session_id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  /** `{publisher}/{slug}`. */
  channel: z.string(),
  /** The process that terminates the WebRTC session (a BusLease-style holder id): DELETE and PATCH on another replica are relayed to it over the bus. */
  replica: z.string(),
  state: z.enum(ORIGIN_SESSION_STATES),
  /** The publisher grant that opened it (`jti`): a go-live grant opens one session, once. */
  grant_id: z.string(),
  created_at: z.iso.datetime(),
  /** When the first segment of the ladder was stored (the broadcast's start as viewers see it). */
  live_at: z.iso.datetime().optional(),
  ended_at: z.iso.datetime().optional(),
  /** `deleted` (the publisher ended), `media-timeout`, `peer-closed`, `limit` (bitrate or size above the channel's), `replica-stopped`, `error`. */
  ended_reason: z.string().max(64).optional(),
  video: z.strictObject({ codec: z.enum(['h264', 'vp8']), width: z.number().int().positive(), height: z.number().int().positive() }).nullable().optional(),
  audio: z.strictObject({ codec: z.literal('opus') }).nullable().optional(),
  /** The master playlist's path on our origin: `/origin/{publisher}/{slug}/{session_id}/master.m3u8`. */
  playlist_path: z.string(),
  /** Heartbeat of the terminating replica; a session whose replica stopped beating is ended by another. */
  heartbeat_at: z.iso.datetime(),
});
export type OriginSession = z.infer<typeof originSessionSchema>;

/** Where the origin's media lives in the media ObjectStore. */
export function originKeyPrefix(channel: string, sessionId: string): string {
  return `origin/${channel}/${sessionId}/`;
}

/** The viewer-facing path of a session's master playlist (served by the origin route from the ObjectStore). */
export function originPlaylistPath(channel: string, sessionId: string): string {
  return `/origin/${channel}/${sessionId}/master.m3u8`;
}

/**
 * What the session tells the rest of the product. Implemented by the origin provider's signal
 * publisher (raw events `provider: 'origin'` into the pipeline), called by the WHIP session.
 * Each is idempotent per session (its msg id is `origin:{session_id}:{online|offline}`).
 */
export interface OriginSignals {
  online(session: OriginSession): Promise<void>;
  offline(session: OriginSession): Promise<void>;
}

/**
 * Where the live ladder goes as ffmpeg writes it. ffmpeg writes into a local directory of the
 * terminating replica (`master.m3u8`, `{rung}/index.m3u8`, `{rung}/init.mp4`,
 * `{rung}/seg-{n}.m4s`, with `temp_file` so a playlist appears whole); the session watches
 * it and calls `fileWritten` for each file once complete, a playlist only after every segment
 * it lists. A ladder continued while live (its ffmpeg fell behind: the same rungs at a faster
 * preset) adds `{rung}/init_r{k}_{rung}.mp4` and its rung playlists go on, joined to the old
 * ones after an `EXT-X-DISCONTINUITY`; the master playlist stays. The implementation mirrors them to the media ObjectStore under `originKeyPrefix`
 * (and removes segments that fell out of the live window); viewers on any replica read them there.
 */
export interface LiveHlsSink {
  fileWritten(relativePath: string, absolutePath: string): Promise<void>;
  /**
   * The ladder is replaced before the session went live with it (the publisher's picture grew:
   * its rungs are planned again; or its ffmpeg fell behind real time: a lighter one follows),
   * whether or not its master playlist was handed: nothing handed so far is part of the
   * broadcast. Forgets it, and removes what was stored. Never called after `live()`.
   */
  discard(): Promise<void>;
  /**
   * The session went live with the ladder handed so far: viewers learn its master playlist from
   * now on, so nothing of it is discarded any more.
   */
  live(): void;
  /** The session ended: the last playlists are final (`EXT-X-ENDLIST`). */
  close(): Promise<void>;
}
