import { channelPageUrl, type Badge, type LiveMetadata, type LiveStatus } from '@live-upload/schema';
import { trendingScore, type Engagement } from './engagement.js';

/** The fields of a canonical record the discovery index keeps (not the providers, sources or raw event). */
export type StreamRecord = Pick<
  LiveMetadata,
  'channel' | 'canonical_id' | 'status' | 'title' | 'started_at' | 'viewer_count' | 'tags' | 'badge' | 'is_public' | 'updated_at' | 'seq'
>;

/** One channel in the discovery index: its record, its name, and what sorting and filtering read, computed once. */
export interface StreamEntry {
  readonly channel: string;
  /** The channel's configured title; null: none. */
  readonly channelTitle: string | null;
  /** The channel's configured title, else `{publisher}/{slug}`. */
  readonly channelName: string;
  readonly record: StreamRecord;
  /** `started_at` in ms since the epoch; null when the channel never went live. */
  readonly startedMs: number | null;
  readonly updatedMs: number;
  /** Title, channel name and `{publisher}/{slug}`, folded (see `foldText`), for `q`. */
  readonly searchText: string;
  /** The tags, folded, for `tag`. */
  readonly tagKeys: readonly string[];
  /** What our audience beacons counted for the current broadcast (issue 27); undefined: nothing yet. */
  readonly engagement: Engagement | undefined;
  /** `trendingScore` of the viewer count and the engagement; null: neither known. */
  readonly trendingScore: number | null;
}

/** One stream as `GET /api/v1/streams` lists it. */
export interface StreamSummary {
  readonly channel: string;
  readonly channel_name: string;
  readonly canonical_id: string | null;
  readonly status: LiveStatus;
  readonly title: string | null;
  readonly started_at: string | null;
  readonly viewer_count: number | null;
  readonly tags: readonly string[];
  readonly badge: Badge;
  /** The channel's landing page, `{publicUrl}/c/{publisher}/{slug}`. */
  readonly url: string;
}

/** Case- and width-insensitive form of free text: NFKC, then lower case. The same on both sides of a match. */
export function foldText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function timeMs(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** The index entry of a channel from its canonical record, configured title and current broadcast's engagement. Pure. */
export function streamEntry(record: StreamRecord, channelTitle: string | null, engagement?: Engagement): StreamEntry {
  const channelName = channelTitle ?? record.channel;
  const kept: StreamRecord = {
    channel: record.channel,
    canonical_id: record.canonical_id,
    status: record.status,
    title: record.title,
    started_at: record.started_at,
    viewer_count: record.viewer_count,
    tags: [...record.tags],
    badge: { ...record.badge },
    is_public: record.is_public,
    updated_at: record.updated_at,
    seq: record.seq,
  };
  return {
    channel: record.channel,
    channelTitle,
    channelName,
    record: kept,
    startedMs: timeMs(record.started_at),
    updatedMs: timeMs(record.updated_at) ?? 0,
    searchText: foldText([record.title ?? '', channelName, record.channel].join('\n')),
    tagKeys: record.tags.map(foldText),
    engagement,
    trendingScore: trendingScore(record.viewer_count, engagement),
  };
}

/** What the index answers for one entry. Pure. */
export function summarizeStream(entry: StreamEntry, publicUrl: string): StreamSummary {
  const { record } = entry;
  return {
    channel: entry.channel,
    channel_name: entry.channelName,
    canonical_id: record.canonical_id,
    status: record.status,
    title: record.title,
    started_at: record.started_at,
    viewer_count: record.viewer_count,
    tags: record.tags,
    badge: record.badge,
    url: channelPageUrl(publicUrl, entry.channel),
  };
}
