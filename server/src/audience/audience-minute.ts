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
 * A minute with many viewers is split (`shards`): its cells then live in shard records
 * (`{minute key}.{index}`, same shape, see `audience-minute-shards.ts`) and this one keeps the
 * providers' counts.
 */
export const audienceMinuteSchema = z.object({
  canonical_id: z.string(),
  /** Minutes since the epoch. */
  minute: z.number().int().nonnegative(),
  cells: z.array(audienceCellSchema),
  provider_viewers: z.record(z.string(), z.number().int().nonnegative()),
  /** Set on a split minute's main record: how many shard records hold its cells (by session hash). */
  shards: z.number().int().positive().optional(),
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

/** A cell's sets, looked up in constant time while a fold adds to them (a big minute holds thousands of sessions). */
interface CellSets {
  readonly cell: AudienceCell;
  readonly sessions: Set<string>;
  readonly clips: Set<string>;
  readonly uploads: Set<string>;
}

const cellKeyOf = (cell: { source: string; surface: string; host: string | null }) => JSON.stringify([cell.source, cell.surface, cell.host]);

/** Adds `value` to `list` (and its set) unless there; whether it was new. */
function addTo(list: string[], set: Set<string>, value: string): boolean {
  if (set.has(value)) return false;
  set.add(value);
  list.push(value);
  return true;
}

/** Folds cells into a copy of `current` (or an empty minute): `into` gets each cell's sets, and says whether it added anything. */
function foldCells(current: AudienceMinute | undefined, canonicalId: string, minute: number, into: (cellOf: (key: { source: string; surface: string; host: string | null }) => CellSets) => boolean): AudienceMinute | undefined {
  const next: AudienceMinute = current ? structuredClone(current) : emptyMinute(canonicalId, minute);
  const cells = new Map<string, CellSets>();
  for (const cell of next.cells) cells.set(cellKeyOf(cell), { cell, sessions: new Set(cell.sessions), clips: new Set(cell.clips), uploads: new Set(cell.uploads) });
  const cellOf = (key: { source: string; surface: string; host: string | null }): CellSets => {
    const found = cells.get(cellKeyOf(key));
    if (found) return found;
    const cell: AudienceCell = { source: key.source, surface: key.surface, host: key.host, sessions: [], clips: [], uploads: [] };
    next.cells.push(cell);
    const sets: CellSets = { cell, sessions: new Set(), clips: new Set(), uploads: new Set() };
    cells.set(cellKeyOf(key), sets);
    return sets;
  };
  const changed = into(cellOf);
  return changed || current === undefined ? next : undefined;
}

/**
 * `current` with `beacons` (all of this broadcast and minute) folded in; undefined when nothing
 * changed (every beacon was already counted). Pure: `current` is not modified.
 */
export function foldBeacons(current: AudienceMinute | undefined, canonicalId: string, minute: number, beacons: readonly AudienceBeacon[]): AudienceMinute | undefined {
  return foldCells(current, canonicalId, minute, (cellOf) => {
    let changed = false;
    for (const beacon of beacons) {
      const sets = cellOf(beacon);
      // Every beacon says the session was there this minute; a clip or upload is also one made.
      changed = addTo(sets.cell.sessions, sets.sessions, beacon.session) || changed;
      if (beacon.event === 'clip') changed = addTo(sets.cell.clips, sets.clips, `${beacon.session}:${beacon.n}`) || changed;
      if (beacon.event === 'upload') changed = addTo(sets.cell.uploads, sets.uploads, `${beacon.session}:${beacon.n}`) || changed;
    }
    return changed;
  });
}

/**
 * `current` with every cell of `part` added (a set union per cell; `part`'s providers' counts
 * and `shards` are not taken); undefined when nothing changed. How a split minute's cells are
 * copied into its shards, and how the shards are put together again. Pure.
 */
export function unionCells(current: AudienceMinute | undefined, part: AudienceMinute): AudienceMinute | undefined {
  return foldCells(current, part.canonical_id, part.minute, (cellOf) => {
    let changed = false;
    for (const cell of part.cells) {
      const sets = cellOf(cell);
      for (const session of cell.sessions) changed = addTo(sets.cell.sessions, sets.sessions, session) || changed;
      for (const clip of cell.clips) changed = addTo(sets.cell.clips, sets.clips, clip) || changed;
      for (const upload of cell.uploads) changed = addTo(sets.cell.uploads, sets.uploads, upload) || changed;
    }
    return changed;
  });
}

/** Set members a minute record holds (sessions, clips and uploads of every cell): what its size grows with, about 15 bytes each. */
export function entriesOf(minute: AudienceMinute): number {
  let entries = 0;
  for (const cell of minute.cells) entries += cell.sessions.length + cell.clips.length + cell.uploads.length;
  return entries;
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
