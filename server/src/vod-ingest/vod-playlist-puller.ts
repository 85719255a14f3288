import type { ArchiveEntry } from './archive-manifest.js';
import type { ArchiveSink } from './archive-sink.js';
import { INGEST_FAILURE_REASONS, IngestError, TransientFetchError } from './ingest-error.js';
import { PlaylistArchiver, finishIngest, loadMediaPlaylist, type IngestOutcome } from './playlist-archiver.js';
import type { SegmentFetcher } from './segment-fetcher.js';

export interface VodPullOptions {
  /** The VOD media playlist (or a master playlist: its best variant is pulled). */
  readonly url: string;
  /** The archive; one left `following` by a crashed replica is resumed after its last sequence. */
  readonly sink: ArchiveSink;
  readonly fetcher: SegmentFetcher;
  /** Aborting stops between segments; the archive ends `stop` with what it holds. */
  readonly signal?: AbortSignal;
  readonly onEntry?: (entry: ArchiveEntry) => void;
}

/**
 * Pulls a finished HLS VOD (an admin's or publisher's playlist URL) segment by segment into the
 * archive, with the live follower's fetcher, limits and SSRF rules. The playlist must be final
 * (`EXT-X-ENDLIST`): a live one is refused with `not_a_vod` (follow it instead). A playlist
 * that cannot be loaded is retried a few times before the pull fails `source_unavailable`.
 */
export function pullVodPlaylist(options: VodPullOptions): Promise<IngestOutcome> {
  const { sink, fetcher, signal } = options;
  return finishIngest(sink, async () => {
    const limits = fetcher.limits;
    let loaded: Awaited<ReturnType<typeof loadMediaPlaylist>> | undefined;
    for (let failures = 1; !loaded; failures++) {
      try {
        loaded = await loadMediaPlaylist(fetcher, sink.head.mediaUrl ?? options.url, sink, signal);
      } catch (error) {
        if (signal?.aborted) return 'stop';
        if (!(error instanceof TransientFetchError)) throw error;
        if (failures > limits.maxPlaylistFailures) {
          throw new IngestError(INGEST_FAILURE_REASONS.sourceUnavailable, `the playlist failed ${failures} times in a row; last: ${error.message}`, { cause: error });
        }
        await fetcher.sleep(limits.retryDelayMs * 2 ** (failures - 1), signal);
      }
    }
    if (!loaded.playlist.endlist) {
      throw new IngestError(INGEST_FAILURE_REASONS.notAVod, `${loaded.mediaUrl} has no EXT-X-ENDLIST: it is a live playlist, not a finished VOD`);
    }
    await new PlaylistArchiver(sink, fetcher, options.onEntry).archiveNew(loaded.playlist, signal);
    return signal?.aborted ? 'stop' : 'endlist';
  });
}
