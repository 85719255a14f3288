import { type AudienceMinute } from './audience-minute.js';

/**
 * A minute record is split once it holds more set members than this (about 150 KB of JSON).
 * Below it one record per minute is the cheapest to write and to read back; above it every fold
 * would rewrite a big record, and near 65,000 sessions the record would pass NATS's 1 MB
 * message limit and no write of the minute would land any more.
 */
export const SHARD_AFTER_ENTRIES = 10_000;

/**
 * Shard records of a split minute. Sessions are spread by a hash of the session, so a session
 * (and its clips and uploads, keyed by it) is always in one shard: the shards partition the
 * minute, and their counts add up exactly. 64 shards of at most 1 MB hold about 4 million
 * viewing sessions a minute; a report of a split minute reads 65 records.
 */
export const SHARD_COUNT = 64;

/** The shard of a session (FNV-1a of its hash, so any session string spreads evenly). */
export function shardOf(session: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < session.length; index++) {
    hash ^= session.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The KV key of a split minute's shard: one more token under the minute's own key. */
export function shardKeyOf(minuteKey: string, shard: number): string {
  return `${minuteKey}.${shard}`;
}

/** The cells of `minute` spread over `shards` records by session, only the shards that get any. Pure. */
export function splitCells(minute: AudienceMinute, shards: number): Map<number, AudienceMinute> {
  const parts = new Map<number, AudienceMinute>();
  const cellIn = (shard: number, source: string, surface: string, host: string | null) => {
    let part = parts.get(shard);
    if (!part) parts.set(shard, (part = { canonical_id: minute.canonical_id, minute: minute.minute, cells: [], provider_viewers: {} }));
    let cell = part.cells.find((found) => found.source === source && found.surface === surface && found.host === host);
    if (!cell) part.cells.push((cell = { source, surface, host, sessions: [], clips: [], uploads: [] }));
    return cell;
  };
  // `{session}:{n}`: the session is before the last colon.
  const sessionOfMade = (made: string) => made.slice(0, made.lastIndexOf(':'));
  for (const { source, surface, host, sessions, clips, uploads } of minute.cells) {
    for (const session of sessions) cellIn(shardOf(session, shards), source, surface, host).sessions.push(session);
    for (const clip of clips) cellIn(shardOf(sessionOfMade(clip), shards), source, surface, host).clips.push(clip);
    for (const upload of uploads) cellIn(shardOf(sessionOfMade(upload), shards), source, surface, host).uploads.push(upload);
  }
  return parts;
}
