import type { Subscription } from '../bus/index.js';

/** A broadcast's engagement as our audience beacons counted it (issue 27). */
export interface Engagement {
  /** Our concurrent viewers now (distinct viewing sessions in the latest minutes). */
  readonly viewers: number;
  /** Clips made during the broadcast. */
  readonly clips: number;
  /** Watch time in viewer-minutes. */
  readonly watchMinutes: number;
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
