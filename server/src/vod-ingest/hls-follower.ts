import { EventEmitter } from 'node:events';
import type { ArchiveEntry } from './archive-manifest.js';
import type { ArchiveSink } from './archive-sink.js';
import type { IngestClock } from './ingest-clock.js';
import { INGEST_FAILURE_REASONS, IngestError, TransientFetchError } from './ingest-error.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import { MediaSequenceRestarts } from './media-sequence-restart.js';
import { PlaylistArchiver, finishIngest, loadMediaPlaylist, type IngestOutcome } from './playlist-archiver.js';
import type { SegmentFetcher } from './segment-fetcher.js';

export interface HlsFollowerOptions {
  /** The live media playlist (or a master playlist: its best variant is followed). */
  readonly url: string;
  /** The broadcast's archive; an archive left `following` by a crashed replica is resumed. */
  readonly sink: ArchiveSink;
  readonly fetcher: SegmentFetcher;
  readonly clock: IngestClock;
}

/** What a follower reports as it goes (for progress, logs and tests). */
export interface HlsFollowerEvents {
  /** A playlist load: its media sequence, how many segments it listed, whether it had anything new. */
  refresh: [refresh: { readonly mediaSequence: number; readonly segments: number; readonly changed: boolean }];
  /** An entry written to the manifest: a segment archived, or a gap recorded. */
  entry: [entry: ArchiveEntry];
  /**
   * The source started its media sequence over (an encoder restart): its sequence `fromSourceSequence`
   * is archived as `atSequence`, after a discontinuity. A stale copy of the playlist is not one.
   */
  restart: [restart: { readonly fromSourceSequence: number; readonly atSequence: number; readonly count: number }];
  /** A playlist load failed transiently and will be tried again. */
  retry: [retry: { readonly failures: number; readonly message: string }];
}

/**
 * Follows a live HLS media playlist while the channel is LIVE and archives each new segment as
 * it appears (RFC 8216 section 6.3.4's reload rule: the target duration after a playlist that
 * changed, half of it after one that did not). Segments stream from the origin into the sink,
 * one at a time, never the broadcast in memory; each is fetched once, by media sequence, and a
 * resumed follower starts after the manifest's last sequence. Rollover, discontinuities,
 * missed refreshes and failing segments are recorded (see `PlaylistArchiver`); a source that
 * starts its media sequence over goes on being archived after a discontinuity, and a stale
 * copy of the playlist is ignored (see `MediaSequenceRestarts`); a hostile
 * source fails the archive with a reason. Ends at `EXT-X-ENDLIST` or `stop()`.
 */
export class HlsFollower extends EventEmitter<HlsFollowerEvents> {
  private readonly stopping = new AbortController();
  private running: Promise<IngestOutcome> | undefined;

  constructor(private readonly options: HlsFollowerOptions) {
    super();
  }

  /** Starts following (once); resolves with how the archive ended. */
  run(): Promise<IngestOutcome> {
    this.running ??= finishIngest(this.options.sink, () => this.follow());
    return this.running;
  }

  /**
   * Stops at once (the channel went offline after its grace window): a wait ends, a segment in
   * flight is abandoned (it is not recorded); the archive ends `stop` with what it holds.
   */
  async stop(): Promise<IngestOutcome> {
    this.stopping.abort();
    return this.run();
  }

  private async follow(): Promise<'endlist' | 'stop'> {
    const { sink, fetcher, clock } = this.options;
    const signal = this.stopping.signal;
    const archiver = new PlaylistArchiver(sink, fetcher, (entry) => this.emit('entry', entry));
    const restarts = new MediaSequenceRestarts(sink.head.sourceRestart);
    const limits = fetcher.limits;
    let mediaUrl: string | undefined = sink.head.mediaUrl;
    let failures = 0;
    let lastListed = -1;
    let targetDurationS = 2;
    while (!signal.aborted) {
      const loadStartedAt = clock.now();
      let loadedPlaylist: MediaPlaylist;
      try {
        if (mediaUrl === undefined) {
          ({ playlist: loadedPlaylist, mediaUrl } = await loadMediaPlaylist(fetcher, this.options.url, sink, signal));
        } else {
          const loaded = await fetcher.fetchPlaylist(mediaUrl, signal);
          loadedPlaylist = parseMediaPlaylist(loaded.text, loaded.url, limits);
        }
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (!(error instanceof TransientFetchError)) throw error;
        failures++;
        if (failures > limits.maxPlaylistFailures) {
          throw new IngestError(INGEST_FAILURE_REASONS.sourceUnavailable, `the playlist failed ${failures} times in a row; last: ${error.message}`, { cause: error });
        }
        this.emit('retry', { failures, message: error.message });
        await clock.sleep(Math.min(limits.retryDelayMs * 2 ** (failures - 1), targetDurationS * 1000 * 4), signal);
        continue;
      }
      targetDurationS = loadedPlaylist.targetDurationS;
      const sequenced = restarts.next(loadedPlaylist, sink.lastSequence);
      if (sequenced.kind === 'stale') {
        this.emit('refresh', { mediaSequence: loadedPlaylist.mediaSequence, segments: loadedPlaylist.segments.length, changed: false });
        await clock.sleep(Math.max(0, 0.5 * targetDurationS * 1000 - (clock.now() - loadStartedAt)), signal);
        continue;
      }
      if (sequenced.kind === 'restarted') {
        await sink.setSourceRestart(sequenced.restart);
        const { atSequence, count } = sequenced.restart;
        this.emit('restart', { fromSourceSequence: loadedPlaylist.mediaSequence, atSequence, count });
        // The old numbering's high-water mark means nothing in the new one.
        lastListed = atSequence - 1;
      }
      const playlist = sequenced.playlist;
      const listedUpTo = playlist.mediaSequence + playlist.segments.length - 1;
      const changed = playlist.segments.length > 0 && listedUpTo > lastListed;
      lastListed = Math.max(lastListed, listedUpTo);
      this.emit('refresh', { mediaSequence: playlist.mediaSequence, segments: playlist.segments.length, changed });
      await archiver.archiveNew(playlist, signal);
      if (signal.aborted) break;
      if (playlist.endlist) return 'endlist';
      const cadenceMs = (changed ? 1 : 0.5) * targetDurationS * 1000;
      await clock.sleep(Math.max(0, cadenceMs - (clock.now() - loadStartedAt)), signal);
    }
    return 'stop';
  }
}
