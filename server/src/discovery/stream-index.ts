import type { LiveStatus } from '@live-upload/schema';
import type { StreamEntry } from './stream-entry.js';

/**
 * Orders of the discovery index. Every order ends with the channel name (`a/b` before `a/c`),
 * which is unique, so the order is total: equal keys never reorder between pages.
 *
 * - `trending`: live first, then scheduled, then offline; within each, the highest trending score
 *   first (viewers x engagement, see `trendingScore`; an unknown score after every known one),
 *   then the most recent start (never started last).
 * - `recent`: the most recent start first (never started last), then the most recent update.
 */
export const STREAM_SORTS = ['trending', 'recent'] as const;
export type StreamSort = (typeof STREAM_SORTS)[number];

/** Where a page ends: the sort key of its last entry. Integers only, so it survives a cursor round trip exactly. */
export interface StreamPosition {
  readonly key: readonly number[];
  readonly channel: string;
}

/** Filters, already folded (see `foldText`): an entry is listed when it matches all of them. */
export interface StreamFilters {
  readonly status?: LiveStatus;
  /** Each must be one of the entry's tags (whole tag, case-insensitive). */
  readonly tags: readonly string[];
  /** Must occur in the title, the channel name or `{publisher}/{slug}`. */
  readonly q?: string;
}

export interface StreamPageRequest extends StreamFilters {
  readonly sort: StreamSort;
  readonly limit: number;
  /** Only entries after this position (the previous page's last). */
  readonly after?: StreamPosition;
}

export interface StreamPage {
  readonly entries: readonly StreamEntry[];
  /** Where the next page starts; undefined when nothing matching follows. */
  readonly next: StreamPosition | undefined;
}

/** How many numbers a sort key of each order has (a cursor with another count is not ours). */
export const SORT_KEY_LENGTH: Record<StreamSort, number> = { trending: 3, recent: 2 };

const STATUS_RANK: Record<LiveStatus, number> = { live: 0, scheduled: 1, offline: 2 };

/** Descending by a time or count, "none" after every real value: ascending by the negation, none as 1. */
const descending = (value: number | null) => (value === null ? 1 : -value);

/** The numbers an entry sorts by, ascending; the channel name breaks the remaining ties. */
export function sortKey(entry: StreamEntry, sort: StreamSort): number[] {
  switch (sort) {
    case 'trending':
      return [STATUS_RANK[entry.record.status], descending(entry.trendingScore), descending(entry.startedMs)];
    case 'recent':
      return [descending(entry.startedMs), descending(entry.updatedMs)];
  }
}

function comparePositions(a: StreamPosition, b: StreamPosition): number {
  for (let index = 0; index < a.key.length; index++) {
    const difference = a.key[index]! - b.key[index]!;
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0;
}

const positionOf = (entry: StreamEntry, sort: StreamSort): StreamPosition => ({ key: sortKey(entry, sort), channel: entry.channel });

/** Entries in `sort` order (a new array). Pure. */
export function sortStreams(entries: Iterable<StreamEntry>, sort: StreamSort): StreamEntry[] {
  return [...entries]
    .map((entry) => ({ entry, position: positionOf(entry, sort) }))
    .sort((a, b) => comparePositions(a.position, b.position))
    .map(({ entry }) => entry);
}

/** Whether an entry is listed under these filters. Non-public streams never are. */
export function matchesFilters(entry: StreamEntry, filters: StreamFilters): boolean {
  if (!entry.record.is_public) return false;
  if (filters.status !== undefined && entry.record.status !== filters.status) return false;
  for (const tag of filters.tags) if (!entry.tagKeys.includes(tag)) return false;
  return filters.q === undefined || entry.searchText.includes(filters.q);
}

/** Index of the first entry after `position` in `sorted` (binary search). */
function firstAfter(sorted: readonly StreamEntry[], sort: StreamSort, position: StreamPosition): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePositions(positionOf(sorted[middle]!, sort), position) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * One page of `sorted` (as `sortStreams` returns it for `request.sort`): the first `limit`
 * matching entries after `request.after`. Keyset paging: a cursor names a position, not an
 * offset, so entries added or removed before it do not shift the next page. Pure.
 */
export function pageStreams(sorted: readonly StreamEntry[], request: StreamPageRequest): StreamPage {
  const entries: StreamEntry[] = [];
  const start = request.after === undefined ? 0 : firstAfter(sorted, request.sort, request.after);
  for (let index = start; index < sorted.length; index++) {
    const entry = sorted[index]!;
    if (!matchesFilters(entry, request)) continue;
    if (entries.length === request.limit) return { entries, next: positionOf(entries[entries.length - 1]!, request.sort) };
    entries.push(entry);
  }
  return { entries, next: undefined };
}

/** Sorts, filters and pages in one go. Pure. */
export function queryStreams(entries: Iterable<StreamEntry>, request: StreamPageRequest): StreamPage {
  return pageStreams(sortStreams(entries, request.sort), request);
}
