import { canonicalIdChannel, isLiveStatus, parseChannelRef, type LiveStatusSummary } from '@live-upload/schema';

/*
 * A small hand-written check instead of the zod schema, which would add ~440 KB to the badge
 * bundle. The vocabulary (statuses, channel syntax) is the schema package's own, zod-free.
 */
export { isLiveStatus };

/** `{publisher}/{slug}` as the schema defines it. */
export function isChannel(value: unknown): value is string {
  return typeof value === 'string' && parseChannelRef(value) !== undefined;
}

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/**
 * Reads one SSE `data:` payload. Returns the record when every field of the status summary has
 * the right shape (title at most 512 characters), otherwise undefined: a malformed frame is
 * ignored. Reading a field of `null` throws, which lands in the same `catch` as bad JSON.
 */
export function parseStatusRecord(data: string): LiveStatusSummary | undefined {
  try {
    const record = JSON.parse(data) as Unchecked<LiveStatusSummary>;
    const { title, started_at: startedAt, viewer_count: viewers } = record;
    const badge = record.badge as Unchecked<LiveStatusSummary['badge']>;
    if (
      isChannel(record.channel) &&
      isLiveStatus(record.status) &&
      (title === null || (typeof title === 'string' && title.length <= 512)) &&
      (startedAt === null || typeof startedAt === 'string') &&
      (viewers === null || isCount(viewers)) &&
      isCount(record.seq) &&
      typeof badge.label === 'string' &&
      typeof badge.color === 'string' &&
      typeof badge.animate === 'boolean'
    ) {
      return record as LiveStatusSummary;
    }
  } catch {
    // not JSON, or not an object: ignored like any other malformed frame
  }
  return undefined;
}

/** A replay's transcode progress, as the live-events stream relays it (`event: vod-progress`). */
export interface ReplayProgress {
  /** `{publisher}/{slug}`, read from the canonical id. */
  readonly channel: string;
  readonly canonicalId: string;
  /** `queued`, `transcoding`, `published`, `failed`, ... */
  readonly state: string;
  readonly percent: number | undefined;
}

/** Reads one `vod-progress` payload; undefined when it is not one (ignored like a malformed status). */
export function parseReplayProgress(data: string): ReplayProgress | undefined {
  try {
    const frame = JSON.parse(data) as { canonical_id?: unknown; state?: unknown; percent?: unknown };
    const stream = typeof frame.canonical_id === 'string' ? canonicalIdChannel(frame.canonical_id) : undefined;
    if (!stream || typeof frame.state !== 'string' || frame.state.length > 32) return undefined;
    const percent = typeof frame.percent === 'number' && frame.percent >= 0 && frame.percent <= 100 ? frame.percent : undefined;
    return { channel: `${stream.publisher}/${stream.slug}`, canonicalId: frame.canonical_id as string, state: frame.state, percent };
  } catch {
    return undefined;
  }
}
