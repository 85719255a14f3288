import { z } from 'zod';
import { madeIn, viewersOf, type AudienceMinute } from './audience-minute.js';

/** Recent minutes kept in the totals: trending's "viewers now" is the higher of the last two. */
const RECENT_MINUTES = 2;

/**
 * A broadcast's running engagement (KV `audience-totals`, key `{publisher}.{slug}.{ulid}`),
 * what discovery's trending order reads without scanning minutes: viewer-minutes (watch time),
 * clips and uploads made, and our viewers in the latest minutes. Kept from the changes of the
 * minute records; the audience report itself always sums the minutes.
 */
export const audienceTotalsSchema = z.object({
  canonical_id: z.string(),
  viewer_minutes: z.number().int().nonnegative(),
  clips: z.number().int().nonnegative(),
  uploads: z.number().int().nonnegative(),
  /** The newest minutes seen, newest first: `{ minute, viewers }`. */
  recent: z.array(z.object({ minute: z.number().int().nonnegative(), viewers: z.number().int().nonnegative() })),
});
export type AudienceTotals = z.infer<typeof audienceTotalsSchema>;

/**
 * What one write of a minute record (or of one shard of a split minute) added: new viewing
 * sessions (each a viewer-minute), clips and uploads. Additive, so the writes to a split
 * minute's shards add up to the minute's.
 */
export interface MinuteDelta {
  readonly minute: number;
  readonly viewerMinutes: number;
  readonly clips: number;
  readonly uploads: number;
}

/** What a minute record's change adds to its broadcast's totals. Pure. */
export function minuteDelta(previous: AudienceMinute | undefined, next: AudienceMinute): MinuteDelta {
  const before = previous ? viewersOf(previous) : 0;
  const madeBefore = previous ? madeIn(previous) : { clips: 0, uploads: 0 };
  const madeAfter = madeIn(next);
  return {
    minute: next.minute,
    viewerMinutes: Math.max(0, viewersOf(next) - before),
    clips: Math.max(0, madeAfter.clips - madeBefore.clips),
    uploads: Math.max(0, madeAfter.uploads - madeBefore.uploads),
  };
}

/** The sum of deltas of one minute (the shards of a split minute written by one fold). */
export function sumDeltas(minute: number, deltas: readonly MinuteDelta[]): MinuteDelta {
  return deltas.reduce((sum, delta) => ({ minute, viewerMinutes: sum.viewerMinutes + delta.viewerMinutes, clips: sum.clips + delta.clips, uploads: sum.uploads + delta.uploads }), { minute, viewerMinutes: 0, clips: 0, uploads: 0 });
}

/**
 * `current` with a minute's delta added. Pure. A minute's viewers in `recent` grow by its new
 * sessions: a minute enters `recent` with its first sessions (or not at all, when it is older
 * than those kept), so the sum is all of its sessions.
 */
export function addMinuteDelta(current: AudienceTotals | undefined, canonicalId: string, delta: MinuteDelta): AudienceTotals {
  const base: AudienceTotals = current ?? { canonical_id: canonicalId, viewer_minutes: 0, clips: 0, uploads: 0, recent: [] };
  const viewers = (base.recent.find((entry) => entry.minute === delta.minute)?.viewers ?? 0) + delta.viewerMinutes;
  const recent = [...base.recent.filter((entry) => entry.minute !== delta.minute), { minute: delta.minute, viewers }]
    .sort((a, b) => b.minute - a.minute)
    .slice(0, RECENT_MINUTES);
  // A late minute (an older one than those kept) adds to the sums but not to "now".
  const kept = recent.some((entry) => entry.minute === delta.minute) ? recent : base.recent;
  return {
    canonical_id: canonicalId,
    viewer_minutes: base.viewer_minutes + delta.viewerMinutes,
    clips: base.clips + delta.clips,
    uploads: base.uploads + delta.uploads,
    recent: kept,
  };
}

/** Our viewers now: the higher of the newest minutes (the current one is still filling). */
export function currentViewersOf(totals: AudienceTotals): number {
  return Math.max(0, ...totals.recent.map((entry) => entry.viewers));
}
