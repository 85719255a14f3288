import { isMapLine, parseMediaPlaylist, segmentDurationS } from './live-hls-mirror.js';

/**
 * One rung's live playlist across a ladder that was replaced while viewers watch it (its ffmpeg
 * fell behind real time: the same rungs continue at a faster preset, `WhipSession`). The new
 * ffmpeg writes a playlist of its own segments only, with its own init segment; viewers' players
 * must see one playlist that goes on: the old ladder's last segments, then
 * `#EXT-X-DISCONTINUITY` (a new encoder: RFC 8216 4.3.2.3 asks for it on a change of encoding
 * parameters or sequence) and `#EXT-X-MAP` of the new init, then the new segments, numbered on
 * from the old ones (`EXT-X-MEDIA-SEQUENCE` keeps counting, whatever the files are called), the
 * window sliding as ffmpeg's does, and `EXT-X-DISCONTINUITY-SEQUENCE` counting the
 * discontinuities that slid out (4.3.3.3). Pure: a continuation holds the old segments and
 * joins each new playlist ffmpeg writes to them.
 */

/** A segment as a joined playlist lists it. */
interface JoinedSegment {
  readonly uri: string;
  /** Its media sequence number in the joined playlist. */
  readonly sequence: number;
  /** Its own tag lines (`#EXTINF`, `#EXT-X-PROGRAM-DATE-TIME`), without the URI. */
  readonly tags: readonly string[];
  /** The init segment it is decoded with (`EXT-X-MAP`'s URI). */
  readonly map: string | undefined;
  /** A discontinuity comes before it (`#EXT-X-DISCONTINUITY`). */
  readonly discontinuity: boolean;
  /** Its discontinuity sequence number: the discontinuities before it in the whole broadcast. */
  readonly discontinuitySequence: number;
  readonly durationS: number;
}

interface ParsedPlaylist {
  readonly header: readonly string[];
  readonly segments: readonly JoinedSegment[];
  /** It has `EXT-X-ENDLIST`. */
  readonly ended: boolean;
}

/** Header tags the joined playlist derives from its first segment (`playlistText`), or writes itself. */
const DERIVED_HEADER = /^#(?:EXTM3U$|EXT-X-(?:MEDIA-SEQUENCE|DISCONTINUITY-SEQUENCE|MAP):)/;

/**
 * A live media playlist (`parseMediaPlaylist`'s reading) with what applies to each segment: its
 * sequence number, init segment and discontinuity sequence. The header keeps the lines it does
 * not derive from its first segment.
 */
function parsePlaylist(text: string): ParsedPlaylist {
  const parsed = parseMediaPlaylist(text);
  const headerNumber = (tag: string) => Number(parsed.header.find((line) => line.startsWith(tag))?.slice(tag.length) ?? 0);
  const firstSequence = headerNumber('#EXT-X-MEDIA-SEQUENCE:');
  let discontinuitySequence = headerNumber('#EXT-X-DISCONTINUITY-SEQUENCE:');
  let map = mapUri(parsed.header.find(isMapLine));
  const segments = parsed.segments.map(([uri, lines], index): JoinedSegment => {
    // A discontinuity before the first segment listed is already counted in the header's sequence.
    const discontinuity = index > 0 && lines.includes('#EXT-X-DISCONTINUITY');
    if (discontinuity) discontinuitySequence += 1;
    map = mapUri(lines.find(isMapLine)) ?? map;
    const tags = lines.slice(0, -1).filter((line) => line !== '#EXT-X-DISCONTINUITY' && !isMapLine(line));
    return { uri, sequence: firstSequence + index, tags, map, discontinuity, discontinuitySequence, durationS: segmentDurationS(tags) };
  });
  return { header: parsed.header.filter((line) => !DERIVED_HEADER.test(line)), segments, ended: parsed.ended };
}

function mapUri(line: string | undefined): string | undefined {
  return line === undefined ? undefined : /URI="([^"]+)"/.exec(line)?.[1];
}

/** Writes a media playlist listing `segments`, `ended` with `EXT-X-ENDLIST`. */
function playlistText(header: readonly string[], segments: readonly JoinedSegment[], ended: boolean): string {
  const first = segments[0];
  const lines = ['#EXTM3U', ...header];
  if (first) {
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first.sequence}`);
    if (first.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${first.discontinuitySequence}`);
    if (first.map) lines.push(`#EXT-X-MAP:URI="${first.map}"`);
  }
  segments.forEach((segment, index) => {
    if (index > 0) {
      if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      if (segment.map && segment.map !== segments[index - 1]!.map) lines.push(`#EXT-X-MAP:URI="${segment.map}"`);
    }
    lines.push(...segment.tags, segment.uri);
  });
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/**
 * The old ladder's playlist for one rung, as viewers last had it, continued by a new ffmpeg's.
 * `join` answers the playlist to hand viewers for each playlist the new ffmpeg writes.
 */
export class LivePlaylistContinuation {
  private readonly before: ParsedPlaylist;

  /**
   * `previous`: the rung's playlist as last handed to viewers (itself possibly joined; an
   * `EXT-X-ENDLIST` the old ffmpeg wrote at its exit is dropped). `windowSegments`: how many
   * segments the joined playlist lists (the ladder's `playlistSegments`). `startNumber`: the
   * new ffmpeg's first media sequence number (its `-start_number`).
   */
  constructor(
    previous: string,
    private readonly windowSegments: number,
    private readonly startNumber: number,
  ) {
    this.before = parsePlaylist(previous);
  }

  /** The media sequence number the new ladder's first segment gets. */
  get nextSequence(): number {
    const last = this.before.segments.at(-1);
    return last ? last.sequence + 1 : 0;
  }

  /** `next`: the new ffmpeg's own playlist for this rung (its segments, its init; ended when ffmpeg has finished). */
  join(next: string): string {
    const old = this.before.segments;
    const last = old.at(-1);
    const continued: JoinedSegment[] = [];
    const parsed = parsePlaylist(next);
    // ffmpeg's sequence numbers, shifted to follow the old ones (its window slides as the joined one does).
    const shift = this.nextSequence - this.startNumber;
    for (const segment of parsed.segments) {
      const previous = continued.at(-1) ?? last;
      // The first new segment comes after the old encoder's last: a discontinuity.
      const discontinuity = continued.length === 0 ? last !== undefined : segment.discontinuity;
      continued.push({ ...segment, sequence: segment.sequence + shift, discontinuity, discontinuitySequence: previous ? previous.discontinuitySequence + (discontinuity ? 1 : 0) : 0 });
    }
    const all = [...old, ...continued];
    const window = all.slice(Math.max(0, all.length - this.windowSegments));
    // The old ladder's end is not the broadcast's; the new one's (the session ended) is.
    return playlistText(this.before.header, window, parsed.ended);
  }
}

/** A rung playlist's segment URIs and durations (for the media time a ladder has written). */
export function playlistSegmentDurations(text: string): Array<{ uri: string; durationS: number }> {
  return parsePlaylist(text).segments.map((segment) => ({ uri: segment.uri, durationS: segment.durationS }));
}
