import { ARCHIVE_STATES, GAP_REASONS, type ArchiveEntry, type ArchiveHead, type ArchiveTotals } from './archive-manifest.js';
import type { ArchiveSink } from './archive-sink.js';
import { INGEST_FAILURE_REASONS, IngestError, type IngestFailureReason } from './ingest-error.js';
import { parseMediaPlaylist, parsePlaylist, pickVariant, type MediaPlaylist } from './media-playlist.js';
import type { SegmentFetcher } from './segment-fetcher.js';

/** How an ingest ended: what the archive manifest's head now says, with the totals. */
export interface IngestOutcome {
  readonly state: ArchiveHead['state'];
  readonly endedBy?: 'endlist' | 'stop';
  readonly failure?: { readonly reason: IngestFailureReason; readonly message: string };
  readonly totals: ArchiveTotals;
}

export function outcomeOf(sink: ArchiveSink): IngestOutcome {
  const { state, endedBy, failure } = sink.head;
  return {
    state,
    ...(endedBy ? { endedBy } : {}),
    ...(failure ? { failure: { reason: failure.reason as IngestFailureReason, message: failure.message } } : {}),
    totals: sink.totals,
  };
}

/**
 * Runs an ingest's body and writes how it ended: `ended` when it returns, `failed` with the
 * reason when it throws `IngestError`. Anything else (the store failing) propagates and leaves
 * the manifest `following`, so the job can be retried and resumed.
 */
export async function finishIngest(sink: ArchiveSink, body: () => Promise<'endlist' | 'stop'>): Promise<IngestOutcome> {
  if (sink.head.state !== ARCHIVE_STATES.following) return outcomeOf(sink);
  try {
    await sink.end(await body());
  } catch (error) {
    if (!(error instanceof IngestError)) throw error;
    await sink.fail(error.reason, error.message);
  }
  return outcomeOf(sink);
}

/**
 * Loads the media playlist at `url`. A master playlist (on the first load) leads to its best
 * variant (`pickVariant`), recorded in the manifest as `mediaUrl`; a master behind a master is refused.
 */
export async function loadMediaPlaylist(
  fetcher: SegmentFetcher,
  url: string,
  sink: ArchiveSink,
  signal?: AbortSignal,
): Promise<{ playlist: MediaPlaylist; mediaUrl: string }> {
  const limits = fetcher.limits;
  const loaded = await fetcher.fetchPlaylist(url, signal);
  const playlist = parsePlaylist(loaded.text, loaded.url, limits);
  if (playlist.kind === 'media') return { playlist, mediaUrl: url };
  const variant = pickVariant(playlist);
  await sink.setMediaUrl(variant.url);
  const media = await fetcher.fetchPlaylist(variant.url, signal);
  return { playlist: parseMediaPlaylist(media.text, media.url, limits), mediaUrl: variant.url };
}

/**
 * Archives what a media playlist lists beyond what the archive holds, in sequence order: each
 * new segment once (by media sequence, so a segment seen in ten refreshes is fetched once),
 * a gap for sequence numbers that fell off the window unseen or failed every try, the per-
 * broadcast caps checked before each fetch. Shared by the live follower and the VOD pull.
 */
export class PlaylistArchiver {
  private consecutiveGaps = 0;

  constructor(
    private readonly sink: ArchiveSink,
    private readonly fetcher: SegmentFetcher,
    private readonly onEntry: (entry: ArchiveEntry) => void = () => {},
  ) {}

  /** Archives the new part of `playlist`; stops between segments once `signal` aborts. How many entries it added. */
  async archiveNew(playlist: MediaPlaylist, signal?: AbortSignal): Promise<number> {
    let added = 0;
    for (const segment of playlist.segments) {
      if (signal?.aborted) break;
      const last = this.sink.lastSequence;
      if (last !== null && segment.sequence <= last) continue;
      if (last !== null && segment.sequence > last + 1) {
        const missing = segment.sequence - last - 1;
        await this.record({
          kind: 'gap',
          fromSequence: last + 1,
          toSequence: segment.sequence - 1,
          reason: GAP_REASONS.missedRefresh,
          durationS: missing * playlist.targetDurationS,
          durationEstimated: true,
          detail: `${missing} segment(s) left the playlist before they were seen`,
        });
        added++;
      }
      this.checkCaps();
      if (segment.gap) {
        await this.record({ kind: 'gap', fromSequence: segment.sequence, toSequence: segment.sequence, reason: GAP_REASONS.sourceGap, durationS: segment.durationS, durationEstimated: false });
        added++;
        continue;
      }
      let initKey: string | undefined;
      if (segment.initUrl) {
        initKey = this.sink.initKeyOf(segment.initUrl);
        if (!initKey) {
          const init = await this.fetcher.archiveInit(segment.initUrl, this.sink, signal);
          if (init.kind === 'unavailable') throw new IngestError(INGEST_FAILURE_REASONS.sourceUnavailable, `the init section stayed unavailable: ${init.detail}`);
          initKey = init.key;
        }
      }
      const result = await this.fetcher.archiveSegment(segment, this.sink, signal);
      if (result.kind === 'archived') {
        this.consecutiveGaps = 0;
        await this.record({
          kind: 'segment',
          sequence: segment.sequence,
          key: result.key,
          format: result.format,
          durationS: segment.durationS,
          bytes: result.bytes,
          discontinuity: segment.discontinuity,
          discontinuitySequence: segment.discontinuitySequence,
          ...(segment.programDateTime ? { programDateTime: segment.programDateTime } : {}),
          ...(initKey ? { initKey } : {}),
        });
        if (this.sink.totals.bytes > this.fetcher.limits.maxArchiveBytes) {
          throw new IngestError(INGEST_FAILURE_REASONS.archiveTooLarge, `the archive passed ${this.fetcher.limits.maxArchiveBytes} bytes`);
        }
      } else {
        if (signal?.aborted) break;
        await this.record({
          kind: 'gap',
          fromSequence: segment.sequence,
          toSequence: segment.sequence,
          reason: GAP_REASONS.segmentUnavailable,
          durationS: segment.durationS,
          durationEstimated: false,
          detail: `${result.attempts} tries: ${result.detail}`,
        });
        this.consecutiveGaps++;
        if (this.consecutiveGaps > this.fetcher.limits.maxConsecutiveGaps) {
          throw new IngestError(INGEST_FAILURE_REASONS.sourceUnavailable, `${this.consecutiveGaps} segments in a row were unavailable; last: ${result.detail}`);
        }
      }
      added++;
    }
    return added;
  }

  private checkCaps(): void {
    const { segments, missingSegments } = this.sink.totals;
    const max = this.fetcher.limits.maxSegments;
    if (segments + missingSegments >= max) {
      throw new IngestError(INGEST_FAILURE_REASONS.tooManySegments, `the broadcast reached ${max} segments, the most one archive may hold`);
    }
  }

  private async record(entry: ArchiveEntry): Promise<void> {
    await this.sink.append(entry);
    this.onEntry(entry);
  }
}
