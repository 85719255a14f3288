import { parseCanonicalId } from '@live-upload/schema';
import { z } from 'zod';
import type { AudienceBeacon } from './beacon.js';

/** One minute in ms: the grain of the aggregate. */
export const MINUTE_MS = 60_000;

/**
 * One cell of a minute: the viewing sessions seen (short hashes), and the clips and uploads made
 * (`{session}:{n}`), for one referral source on one surface. Sets, not counters: folding a
 * beacon twice (a redelivery, a second replica's retry) changes nothing, so counts stay exact.
 */
export const audienceCellSchema = z.object({
  source: z.string(),
  surface: z.string(),
  host: z.string().nullable(),
  sessions: z.array(z.string()),
  clips: z.array(z.string()),
  uploads: z.array(z.string()),
});
export type AudienceCell = z.infer<typeof audienceCellSchema>;

/**
 * A broadcast's minute (KV `audience-minutes`, key `{publisher}.{slug}.{ulid}.{minute}`): our
 * viewers by source and surface, and the highest `viewer_count` each provider reported in it.
 */
export const audienceMinuteSchema = z.object({
  canonical_id: z.string(),
  /** Minutes since the epoch. */
  minute: z.number().int().nonnegative(),
  cells: z.array(audienceCellSchema),
  provider_viewers: z.record(z.string(), z.number().int().nonnegative()),
});
export type AudienceMinute = z.infer<typeof audienceMinuteSchema>;

/** `{publisher}.{slug}.{ulid}` of a canonical id (a KV key and prefix); undefined when it is not one. */
export function broadcastKeyOf(canonicalId: string): string | undefined {
  const parsed = parseCanonicalId(canonicalId);
  return parsed ? `${parsed.publisher}.${parsed.slug}.${parsed.ulid}` : undefined;
}

/** The KV key of a broadcast's minute. */
export function minuteKeyOf(broadcastKey: string, minute: number): string {
  return `${broadcastKey}.${minute}`;
}

export const minuteOf = (atMs: number): number => Math.floor(atMs / MINUTE_MS);

const emptyMinute = (canonicalId: string, minute: number): AudienceMinute => ({ canonical_id: canonicalId, minute, cells: [], provider_viewers: {} });

function addTo(list: string[], value: string): boolean {
  if (list.includes(value)) return false;
  list.push(value);
  return true;
}

/**
 * `current` with `beacons` (all of this broadcast and minute) folded in; undefined when nothing
 * changed (every beacon was already counted). Pure: `current` is not modified.
 */
export function foldBeacons(current: AudienceMinute | undefined, canonicalId: string, minute: number, beacons: readonly AudienceBeacon[]): AudienceMinute | undefined {
  const next: AudienceMinute = current ? structuredClone(current) : emptyMinute(canonicalId, minute);
  let changed = current === undefined;
  for (const beacon of beacons) {
    let cell = next.cells.find((found) => found.source === beacon.source && found.surface === beacon.surface && found.host === beacon.host);
    if (!cell) {
      cell = { source: beacon.source, surface: beacon.surface, host: beacon.host, sessions: [], clips: [], uploads: [] };
      next.cells.push(cell);
    }
    // Every beacon says the session was there this minute; a clip or upload is also one made.
    changed = addTo(cell.sessions, beacon.session) || changed;
    if (beacon.event === 'clip') changed = addTo(cell.clips, `${beacon.session}:${beacon.n}`) || changed;
    if (beacon.event === 'upload') changed = addTo(cell.uploads, `${beacon.session}:${beacon.n}`) || changed;
  }
  return changed ? next : undefined;
}

/** `current` with a provider's reported viewer count kept if it is the minute's highest; undefined when nothing changed. Pure. */
export function foldProviderViewers(current: AudienceMinute | undefined, canonicalId: string, minute: number, provider: string, viewers: number): AudienceMinute | undefined {
  if (current && (current.provider_viewers[provider] ?? -1) >= viewers) return undefined;
  const next: AudienceMinute = current ? structuredClone(current) : emptyMinute(canonicalId, minute);
  next.provider_viewers[provider] = viewers;
  return next;
}

/** Distinct viewing sessions of a minute (a session has one source and surface, but a union is safe either way). */
export function viewersOf(minute: AudienceMinute): number {
  const sessions = new Set<string>();
  for (const cell of minute.cells) for (const session of cell.sessions) sessions.add(session);
  return sessions.size;
}

/** Clips and uploads made in a minute. */
export function madeIn(minute: AudienceMinute): { clips: number; uploads: number } {
  let clips = 0;
  let uploads = 0;
  for (const cell of minute.cells) {
    clips += cell.clips.length;
    uploads += cell.uploads.length;
  }
  return { clips, uploads };
}
