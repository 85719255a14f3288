import type { Subscription } from '../bus/index.js';

/** A broadcast's engagement as our audience beacons counted it (issue 27). */
export interface Engagement {
  /** Our concurrent viewers now (distinct viewing sessions in the latest minutes). */
  readonly viewers: number;
  /** Clips made during the broadcast. */
  readonly clips: number;
  /** Watch time in viewer-minutes. */
  readonly watchMinutes: number;
  /** When `viewers` was counted (ms since the epoch): the start of its minute. */
  readonly viewersAtMs: number;
}

/** Our viewer count is "now" for this long after its minute began; older, no heartbeat came since and it counts 0. */
export const ENGAGEMENT_VIEWERS_FRESH_MS = 3 * 60_000;

/** `engagement` as of `nowMs`: its viewers dropped to 0 once no beacon counted them for `ENGAGEMENT_VIEWERS_FRESH_MS`. Pure. */
export function engagementAt(engagement: Engagement | undefined, nowMs: number): Engagement | undefined {
  if (!engagement || nowMs - engagement.viewersAtMs <= ENGAGEMENT_VIEWERS_FRESH_MS) return engagement;
  return { ...engagement, viewers: 0 };
}

/** Where the directory reads engagement from: the audience totals, current and as they change fleet-wide. */
export interface EngagementSource {
  current(canonicalId: string): Promise<Engagement | undefined>;
  watch(onChange: (canonicalId: string, engagement: Engagement) => void): Promise<Subscription>;
}

/**
 * The trending score of a broadcast: viewers times engagement,
 *
 *   score = floor(viewers x (1 + clips + watch_minutes / 60))
 *
 * where `viewers` is the higher of the providers' `viewer_count` and our own concurrent viewers,
 * `clips` the clips made during the broadcast and `watch_minutes` the viewer-minutes our beacons
 * counted (so each clip weighs like an hour watched). With no engagement counted the score is
 * the viewer count itself; with neither it is null (unknown: listed after every known score).
 * An integer, so it survives a cursor round trip exactly. Pure.
 */
export function trendingScore(viewerCount: number | null, engagement: Engagement | undefined): number | null {
  if (viewerCount === null && engagement === undefined) return null;
  const viewers = Math.max(viewerCount ?? 0, engagement?.viewers ?? 0);
  const factor = 1 + (engagement?.clips ?? 0) + (engagement?.watchMinutes ?? 0) / 60;
  return Math.min(Number.MAX_SAFE_INTEGER, Math.floor(viewers * factor));
}
