import { decodeTime, monotonicFactory, ulid } from 'ulid';
import type { ChannelRef } from './channel-ref.js';
import { CHANNEL_PART_PATTERN } from './channel-ref.js';

const CANONICAL_ID_PATTERN = /^stream:([a-z0-9][a-z0-9-]{0,38}):([a-z0-9][a-z0-9-]{0,38}):([0-9A-HJKMNP-TV-Z]{26})$/;

/**
 * `stream:{publisher}:{slug}:{ulid}`: one per broadcast, sortable by the time the broadcast
 * started (the ULID's time part is the start time, not the time we heard of it).
 */
export function createCanonicalId(ref: ChannelRef, startedAtMs: number, random?: () => number): string {
  if (!CHANNEL_PART_PATTERN.test(ref.publisher) || !CHANNEL_PART_PATTERN.test(ref.slug)) {
    throw new RangeError(`not a channel: ${ref.publisher}/${ref.slug}`);
  }
  const id = random ? monotonicFactory(random)(startedAtMs) : ulid(startedAtMs);
  return `stream:${ref.publisher}:${ref.slug}:${id}`;
}

export interface ParsedCanonicalId extends ChannelRef {
  readonly ulid: string;
  readonly startedAtMs: number;
}

export function parseCanonicalId(value: string): ParsedCanonicalId | undefined {
  const match = CANONICAL_ID_PATTERN.exec(value);
  if (!match) return undefined;
  const [, publisher, slug, id] = match as unknown as [string, string, string, string];
  return { publisher, slug, ulid: id, startedAtMs: decodeTime(id) };
}

/**
 * The channel a canonical id belongs to, without its start time: `parseCanonicalId` decodes the
 * ULID's time with the `ulid` package, which a browser bundle that only needs the channel (the
 * badge's SSE reader) would otherwise carry.
 */
export function canonicalIdChannel(value: string): ChannelRef | undefined {
  const match = CANONICAL_ID_PATTERN.exec(value);
  return match ? { publisher: match[1]!, slug: match[2]! } : undefined;
}

export function isCanonicalId(value: string): boolean {
  return CANONICAL_ID_PATTERN.test(value);
}
