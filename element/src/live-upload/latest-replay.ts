import { isCanonicalId, parseCanonicalId } from '@live-upload/schema';

/** A channel's newest public replay, as `<live-upload>` plays and clips it. */
export interface LatestReplayInfo {
  /** The broadcast (`stream:{publisher}:{slug}:{ulid}`): a replay clip's provenance. */
  readonly canonicalId: string;
  /** When the broadcast started (the ULID's time), ms since the epoch: second 0 of the replay's timeline. */
  readonly startedAtMs: number;
  /** The master playlist, absolute http(s). */
  readonly url: string;
  readonly poster: string | undefined;
  /** The replay's length when the server knows it, ms. */
  readonly durationMs: number | undefined;
}

function httpUrl(value: unknown, base: string): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads `latest_replay` from a `/status` answer (`latestReplaySchema`). Anything of the wrong
 * shape reads as no replay; URLs resolve against `base` (the endpoint) and only http(s) are kept.
 */
export function readLatestReplay(summary: unknown, base: string): LatestReplayInfo | undefined {
  const replay = typeof summary === 'object' && summary !== null ? (summary as Record<string, unknown>)['latest_replay'] : undefined;
  if (typeof replay !== 'object' || replay === null) return undefined;
  const fields = replay as Record<string, unknown>;
  const id = fields['canonical_id'];
  const url = httpUrl(fields['url'], base);
  if (typeof id !== 'string' || !isCanonicalId(id) || !url) return undefined;
  const startedAtMs = parseCanonicalId(id)?.startedAtMs;
  if (startedAtMs === undefined) return undefined;
  const duration = fields['duration_s'];
  return {
    canonicalId: id,
    startedAtMs,
    url,
    poster: httpUrl(fields['poster'], base),
    durationMs: typeof duration === 'number' && Number.isFinite(duration) && duration > 0 ? duration * 1000 : undefined,
  };
}

/** `GET /api/v1/channels/:publisher/:slug/status`'s latest replay (undefined: none, or the server lists none). */
export async function fetchLatestReplay(endpoint: string, channel: string, signal?: AbortSignal): Promise<LatestReplayInfo | undefined> {
  const base = new URL(`${endpoint.replace(/\/$/, '')}/`, location.href).href;
  // Revalidated (its ETag names the replay): a replay published a moment ago is not hidden by a cached answer.
  const response = await fetch(new URL(`api/v1/channels/${channel}/status`, base), { credentials: 'omit', cache: 'no-cache', ...(signal ? { signal } : {}) });
  if (!response.ok) return undefined;
  return readLatestReplay(await response.json(), base);
}
