import { readFile } from 'node:fs/promises';
import type { Logger } from '../observability/index.js';
import { assertObjectKey, type ObjectStore } from '../storage/index.js';
import type { LiveHlsSink } from './origin-session.js';

/** The content type each file of an origin ladder is stored (and served) with. */
export function originContentType(path: string): string | undefined {
  if (path.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (path.endsWith('.m4s')) return 'video/iso.segment';
  if (path.endsWith('.mp4')) return 'video/mp4';
  if (path.endsWith('.jpg')) return 'image/jpeg';
  if (path.endsWith('.vtt')) return 'text/vtt';
  return undefined;
}

/** A rung's complete playlist, every segment since the start, written at `close` (what the replay is made from). */
export const ORIGIN_ARCHIVE_PLAYLIST = 'archive.m3u8';

/** A rung directory's name as ffmpeg's `%v` gives it (`720p`, `audio`). */
const RUNG_NAME = '[A-Za-z0-9_][A-Za-z0-9_-]{0,31}';

const INIT_NAME = `(?:init(?:_\\d{1,3})?|init_r\\d{1,2}_${RUNG_NAME})\\.mp4`;
/**
 * The name of a rung's init segment: `init_{n}.mp4` as the first ffmpeg numbers its variants,
 * or `init_r{k}_{rung}.mp4`, the init segment of the k-th ffmpeg that continued the same rungs
 * when the ladder fell behind (same directories, segment numbers and timestamps continued, a
 * new encoder configuration, so a new init after an `EXT-X-DISCONTINUITY`).
 */
export const ORIGIN_INIT_NAME = new RegExp(`^${INIT_NAME}$`);

/** Where a ladder file may be, unanchored: `master.m3u8`, or `{rung}/{index.m3u8|<an init name>|seg-{n}.m4s}` (the `/origin` route matches it too). */
export const ORIGIN_LADDER_FILE_PATTERN = `(?:master\\.m3u8|${RUNG_NAME}/(?:index\\.m3u8|${INIT_NAME}|seg-\\d{1,9}\\.m4s))`;
const LADDER_FILE = new RegExp(`^${ORIGIN_LADDER_FILE_PATTERN}$`);

export interface LiveHlsMirrorOptions {
  /**
   * Keep every segment in the store after it left the live window (default true): the replay
   * is made from these very segments (`origin-ladder` VOD job), which removes the prefix once
   * it is published. False: a segment that left its rung's playlist is deleted after
   * `deleteDelayMs` (a broadcast that makes no replay).
   */
  readonly keepForReplay?: boolean;
  /** How long a segment that left the live window stays, so a viewer mid-download is not cut (default 30 s). */
  readonly deleteDelayMs?: number;
  readonly logger?: Logger;
}

/** A segment as the archive keeps it: its lines as first seen, and the `EXT-X-MAP` line it is read with. */
interface ArchivedSegment {
  /** Its own lines (`#EXTINF`, date-time; `#EXT-X-DISCONTINUITY` and `#EXT-X-MAP` where the init changed) then its URI. */
  readonly lines: string[];
  readonly map: string | undefined;
}

interface RungArchive {
  /** The first playlist's header lines (version, target duration, map of the first init, ...): the archive's. */
  readonly firstHeader: string[];
  /** The last live playlist as it was: its header (media and discontinuity sequence of the window) and segments. */
  latest: { header: string[]; segments: Array<[string, string[]]> };
  /** Every segment ever listed, in order, as first seen. */
  readonly segments: Map<string, ArchivedSegment>;
  /** The last archived segment's map line. */
  lastMap: string | undefined;
  /** The segments the last live playlist listed. */
  window: Set<string>;
}

/**
 * Mirrors a live ladder ffmpeg writes on the terminating replica into the media ObjectStore
 * under `prefix` (`originKeyPrefix`), where every replica serves it (`/origin/...`). The
 * watcher hands segments before the playlists that list them, so a playlist in the store never
 * names a segment that is not there yet. Rung playlists are kept as the live window ffmpeg
 * writes; each rung's complete list of segments is remembered so that `close` can store, beside
 * the final live playlists (with `EXT-X-ENDLIST`), an `archive.m3u8` per rung naming every
 * segment of the broadcast: the replay is made from it with no second transcode.
 *
 * Errors reject `fileWritten` (the watcher retries the file on its next pass).
 */
export class LiveHlsMirror implements LiveHlsSink {
  private readonly rungs = new Map<string, RungArchive>();
  private readonly pendingDeletes = new Set<NodeJS.Timeout>();
  private master: string | undefined;
  private closed = false;
  /** The keys stored before the session went live (what `discard` removes); not kept after `live()`. */
  private readonly storedBeforeLive = new Set<string>();
  private isLive = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly options: LiveHlsMirrorOptions = {},
  ) {
    if (!prefix.endsWith('/')) throw new RangeError(`a key prefix ends in "/": ${prefix}`);
  }

  async fileWritten(relativePath: string, absolutePath: string): Promise<void> {
    if (this.closed) throw new Error(`the ladder of ${this.prefix} was closed; ${relativePath} came after`);
    if (!LADDER_FILE.test(relativePath)) throw new RangeError(`not a file of a live ladder: ${JSON.stringify(relativePath)}`);
    const key = `${this.prefix}${relativePath}`;
    assertObjectKey(key);
    const contentType = originContentType(relativePath)!;
    if (!this.isLive) this.storedBeforeLive.add(key);
    if (!relativePath.endsWith('.m3u8')) {
      await this.store.putFile(key, absolutePath, { contentType });
      return;
    }
    const text = await readFile(absolutePath, 'utf8');
    await this.store.put(key, text, { contentType });
    if (relativePath === 'master.m3u8') {
      this.master = text;
      return;
    }
    const rung = relativePath.slice(0, relativePath.indexOf('/'));
    const left = this.remember(rung, text);
    if (left.length > 0 && this.options.keepForReplay === false) this.deleteLater(left.map((name) => `${this.prefix}${rung}/${name}`));
  }

  /** Removes what a ladder replaced before the session went live had stored (its master playlist too), and forgets its rungs. */
  async discard(): Promise<void> {
    if (this.isLive || this.closed) throw new Error(`the ladder of ${this.prefix} is live or closed: it is not discarded`);
    const keys = [...this.storedBeforeLive];
    this.storedBeforeLive.clear();
    this.rungs.clear();
    this.master = undefined;
    await Promise.all(keys.map((key) => this.store.delete(key)));
  }

  live(): void {
    this.isLive = true;
    this.storedBeforeLive.clear();
  }

  /**
   * The broadcast ended: each rung's last live playlist again with `EXT-X-ENDLIST` (players
   * stop waiting for more) and its `archive.m3u8`, every segment of the broadcast as a VOD
   * playlist. Pending deletions of segments that left the window still happen.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [rung, archive] of this.rungs) {
      await this.store.put(`${this.prefix}${rung}/index.m3u8`, playlistText(archive.latest.header, archive.latest.segments, true), { contentType: originContentType('.m3u8')! });
      const all = [...archive.segments].filter(([name]) => this.options.keepForReplay !== false || archive.window.has(name));
      await this.store.put(`${this.prefix}${rung}/${ORIGIN_ARCHIVE_PLAYLIST}`, archiveText(archive.firstHeader, all), { contentType: originContentType('.m3u8')! });
    }
  }

  /** The master playlist last stored (undefined before the ladder was playable). */
  get masterPlaylist(): string | undefined {
    return this.master;
  }

  /** Stops pending deletions (the process is stopping; the replay job or a later sweep removes the prefix). */
  dispose(): void {
    for (const timer of this.pendingDeletes) clearTimeout(timer);
    this.pendingDeletes.clear();
  }

  /**
   * Adds a rung playlist's new segments to its archive, each with its lines as first seen (a
   * later playlist lists the same segment without the `EXT-X-DISCONTINUITY` and `EXT-X-MAP` that
   * announced a continuing encoder once it is first in the window); answers the segments that
   * left the live window.
   */
  private remember(rung: string, text: string): string[] {
    const parsed = parseMediaPlaylist(text);
    let archive = this.rungs.get(rung);
    if (!archive) this.rungs.set(rung, (archive = { firstHeader: parsed.header, latest: parsed, segments: new Map(), lastMap: undefined, window: new Set() }));
    archive.latest = parsed;
    let map = parsed.header.find(isMapLine);
    for (const [name, lines] of parsed.segments) {
      map = lines.find(isMapLine) ?? map;
      if (archive.segments.has(name)) continue;
      archive.segments.set(name, { lines: archive.segments.size > 0 ? withInitChange(lines, map, archive.lastMap) : lines, map });
      archive.lastMap = map;
    }
    const window = new Set(parsed.segments.map(([name]) => name));
    const left = [...archive.window].filter((name) => !window.has(name));
    archive.window = window;
    return left;
  }

  private deleteLater(keys: readonly string[]): void {
    const timer = setTimeout(() => {
      this.pendingDeletes.delete(timer);
      void Promise.all(keys.map((key) => this.store.delete(key))).catch((error: unknown) =>
        this.options.logger?.warn({ err: error, prefix: this.prefix }, 'origin: a segment that left the live window was not deleted'),
      );
    }, this.options.deleteDelayMs ?? 30_000);
    timer.unref();
    this.pendingDeletes.add(timer);
  }
}

/** Tags that belong to the segment after them, even before the first one. */
const SEGMENT_TAG = /^#(?:EXTINF|EXT-X-PROGRAM-DATE-TIME|EXT-X-DISCONTINUITY$)/;

/**
 * A media playlist's header lines and its segments (each with the tag lines before its URI: an
 * `EXT-X-MAP` after a segment tag or after the first segment is the next segment's).
 */
export function parseMediaPlaylist(text: string): { header: string[]; segments: Array<[string, string[]]>; ended: boolean } {
  const header: string[] = [];
  const segments: Array<[string, string[]]> = [];
  let pending: string[] = [];
  let ended = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === '#EXT-X-ENDLIST') {
      ended = true;
      continue;
    }
    if (line.startsWith('#')) {
      if (segments.length === 0 && !SEGMENT_TAG.test(line) && pending.length === 0) header.push(line);
      else pending.push(line);
      continue;
    }
    segments.push([line, [...pending, line]]);
    pending = [];
  }
  return { header, segments, ended };
}

/** True for an `EXT-X-MAP` line (a segment's init segment). */
export function isMapLine(line: string): boolean {
  return line.startsWith('#EXT-X-MAP:');
}

/** A segment's duration from its tag lines (`#EXTINF:<seconds>,`), 0 without one. */
export function segmentDurationS(lines: readonly string[]): number {
  return Number(/^#EXTINF:([\d.]+)/.exec(lines.find((line) => line.startsWith('#EXTINF:')) ?? '')?.[1] ?? 0);
}

/**
 * A segment's lines where the init segment it is read with differs from the one before it:
 * `EXT-X-DISCONTINUITY` and its `EXT-X-MAP` before it, added where the playlist that first listed
 * it gave them only in its header (it was first in that window).
 */
function withInitChange(lines: readonly string[], map: string | undefined, previousMap: string | undefined): string[] {
  if (map === previousMap || map === undefined || (lines.includes('#EXT-X-DISCONTINUITY') && lines.some(isMapLine))) return [...lines];
  const own = lines.filter((line) => line !== '#EXT-X-DISCONTINUITY' && !isMapLine(line));
  return ['#EXT-X-DISCONTINUITY', map, ...own];
}

/**
 * A rung's archive as a VOD playlist: the first playlist's header, with the map of the first
 * segment listed and no media or discontinuity sequence, then every segment's lines (the first
 * segment's without a discontinuity or map of its own).
 */
function archiveText(firstHeader: readonly string[], segments: ReadonlyArray<[string, ArchivedSegment]>): string {
  const firstMap = segments[0]?.[1].map;
  const header = firstHeader.filter((line) => !/^#EXT-X-(?:MEDIA-SEQUENCE|DISCONTINUITY-SEQUENCE|PLAYLIST-TYPE|MAP):/.test(line));
  header.push(...(firstMap !== undefined ? [firstMap] : []), '#EXT-X-PLAYLIST-TYPE:VOD');
  const listed = segments.map(([name, { lines }], index): [string, string[]] => [name, index === 0 ? lines.filter((line) => line !== '#EXT-X-DISCONTINUITY' && !isMapLine(line)) : lines]);
  return playlistText(header, listed, true);
}

function playlistText(header: readonly string[], segments: ReadonlyArray<[string, string[]]>, ended: boolean): string {
  return `${[...header, ...segments.flatMap(([, lines]) => lines), ...(ended ? ['#EXT-X-ENDLIST'] : [])].join('\n')}\n`;
}
