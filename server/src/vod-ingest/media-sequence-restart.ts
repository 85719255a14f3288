import type { SourceRestart } from './archive-manifest.js';
import type { MediaPlaylist } from './media-playlist.js';

/** What a playlist load means for the archive, in the archive's own sequence numbers. */
export type SequencedPlaylist =
  /** The playlist, renumbered into the archive's sequence (unchanged unless the source restarted before). */
  | { readonly kind: 'current'; readonly playlist: MediaPlaylist }
  /** An older view of the same timeline (a lagging cache or edge): nothing in it is new. */
  | { readonly kind: 'stale' }
  /** The source started its media sequence over: `restart` is the new numbering, to be recorded before archiving. */
  | { readonly kind: 'restarted'; readonly playlist: MediaPlaylist; readonly restart: SourceRestart };

interface SeenPlaylist {
  readonly mediaSequence: number;
  readonly listedUpTo: number;
  /** Source sequence -> the segment's URL without its query (tokens in queries may change every load). */
  readonly paths: ReadonlyMap<number, string>;
}

/**
 * Keeps the archive's media sequence going when the source's starts over. The archive names
 * segments by media sequence (each fetched once, a resumed follower starts after the last), and
 * RFC 8216 (6.2.1) never lets a live playlist's sequence go back; an origin whose encoder
 * restarts does anyway: `EXT-X-MEDIA-SEQUENCE` back to 0 with new segments and often no
 * `EXT-X-DISCONTINUITY`. Taken at its word, every new segment would be "already archived" and
 * the follower would stall until the new numbers passed the old ones.
 *
 * A playlist whose window moved back (its first or last sequence below the previous load's) is
 * a restart unless it is a stale copy of the previous timeline: some sequence both list, with
 * the same URL path at each. A restart renumbers the source from the archive's next sequence on
 * (`offset`), and that first segment is marked a discontinuity (timestamps start over); a
 * lagging copy of the old timeline served after the restart is stale too. A follower resumed from the manifest has no previous load to compare: a whole window behind
 * the archive is then taken as a restart. A playlist with no segment tells nothing and is passed
 * through. The numbering is kept in the manifest head (`sourceRestart`), so a resumed follower
 * goes on with it.
 */
export class MediaSequenceRestarts {
  private previous: SeenPlaylist | undefined;
  /** The timeline before the latest restart: a lagging copy of it served afterwards is stale, not new. */
  private retired: SeenPlaylist | undefined;

  constructor(private restart: SourceRestart | undefined) {}

  /** The source's latest restart, if any (archive sequence = source sequence + `offset`). */
  get current(): SourceRestart | undefined {
    return this.restart;
  }

  /** Reads one playlist load against the previous one; `archiveLast` is the archive's last sequence. */
  next(playlist: MediaPlaylist, archiveLast: number | null): SequencedPlaylist {
    if (playlist.segments.length === 0) return { kind: 'current', playlist: this.renumber(playlist) };
    const seen: SeenPlaylist = {
      mediaSequence: playlist.mediaSequence,
      listedUpTo: playlist.mediaSequence + playlist.segments.length - 1,
      paths: new Map(playlist.segments.map((segment) => [segment.sequence, pathOf(segment.url)])),
    };
    if (this.retired && isSameTimeline(seen, this.retired)) return { kind: 'stale' };
    const previous = this.previous;
    let restarted: boolean;
    if (previous) {
      const movedBack = seen.mediaSequence < previous.mediaSequence || seen.listedUpTo < previous.listedUpTo;
      if (movedBack && isSameTimeline(seen, previous)) return { kind: 'stale' };
      restarted = movedBack;
    } else {
      restarted = archiveLast !== null && seen.listedUpTo + this.offset < archiveLast;
    }
    if (restarted) this.retired = previous;
    this.previous = seen;
    if (!restarted) return { kind: 'current', playlist: this.renumber(playlist) };
    const atSequence = (archiveLast ?? -1) + 1;
    this.restart = { offset: atSequence - playlist.mediaSequence, atSequence, count: (this.restart?.count ?? 0) + 1 };
    return { kind: 'restarted', playlist: this.renumber(playlist), restart: this.restart };
  }

  private get offset(): number {
    return this.restart?.offset ?? 0;
  }

  private renumber(playlist: MediaPlaylist): MediaPlaylist {
    const restart = this.restart;
    if (!restart) return playlist;
    return {
      ...playlist,
      mediaSequence: playlist.mediaSequence + restart.offset,
      segments: playlist.segments.map((segment) => {
        const sequence = segment.sequence + restart.offset;
        return { ...segment, sequence, discontinuity: segment.discontinuity || sequence === restart.atSequence };
      }),
    };
  }
}

/** Both list some sequence, and every sequence both list has the same URL path in each. */
function isSameTimeline(a: SeenPlaylist, b: SeenPlaylist): boolean {
  let shared = 0;
  for (const [sequence, path] of a.paths) {
    const other = b.paths.get(sequence);
    if (other === undefined) continue;
    if (other !== path) return false;
    shared++;
  }
  return shared > 0;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
