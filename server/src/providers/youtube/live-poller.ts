import type { Logger } from '../../observability/index.js';
import type { YouTubeDataApi } from './data-api-client.js';
import { isLeaseFresh } from './lease-schedule.js';
import type { LiveVideoStore } from './live-video-store.js';
import type { ConfirmRequest, VideoConfirmer } from './video-confirmer.js';
import type { WebSubSubscriptionStore } from './websub-subscription-store.js';
import type { YouTubeMetrics } from './youtube-metrics.js';

/** Which YouTube channels are linked to a channel of ours (provider links `youtube.{channel id}`). */
export interface YouTubeChannelDirectory {
  linkedYouTubeChannelIds(): Promise<string[]>;
}

export const DEFAULT_YOUTUBE_POLL_INTERVAL_MS = 45_000;
/** Newest uploads looked at per polled channel: a live broadcast is among a channel's newest videos. */
export const DEFAULT_YOUTUBE_POLL_RECENT_UPLOADS = 5;

export interface YouTubeLivePollerOptions {
  readonly api: YouTubeDataApi;
  readonly confirmer: VideoConfirmer;
  readonly subscriptions: WebSubSubscriptionStore;
  readonly liveVideos: LiveVideoStore;
  readonly directory: YouTubeChannelDirectory;
  readonly metrics: YouTubeMetrics;
  readonly logger: Logger;
  readonly pollIntervalMs?: number;
  readonly recentUploads?: number;
  readonly now?: () => number;
}

/**
 * The fallback when pushes cannot be relied on, and the follow-up pushes never give.
 * Each tick:
 * - linked channels without a fresh WebSub lease, not polled within the interval, get their
 *   newest uploads listed: `channels.list` once for the uploads playlist (1 unit, cached), then
 *   `playlistItems.list` (1 unit) per poll: 1 unit a poll instead of `search.list`'s 100;
 * - those videos plus every video we know live (viewers, title, the end, which WebSub does
 *   not push) are confirmed with `videos.list`, 1 unit per 50 videos.
 * A spent budget stops the tick at the first refused call.
 */
export class YouTubeLivePoller {
  private readonly now: () => number;
  private readonly lastPolledAtMs = new Map<string, number>();
  private readonly uploadsPlaylists = new Map<string, string | null>();

  constructor(private readonly options: YouTubeLivePollerOptions) {
    this.now = options.now ?? Date.now;
  }

  get pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? DEFAULT_YOUTUBE_POLL_INTERVAL_MS;
  }

  async tick(): Promise<void> {
    const { api, subscriptions, liveVideos, directory, metrics } = this.options;
    const nowMs = this.now();
    const requests: ConfirmRequest[] = [];

    for (const channelId of await directory.linkedYouTubeChannelIds()) {
      const subscription = await subscriptions.get(channelId);
      if (isLeaseFresh(subscription?.lease, nowMs)) continue;
      if (nowMs - (this.lastPolledAtMs.get(channelId) ?? Number.NEGATIVE_INFINITY) < this.pollIntervalMs) continue;

      let playlistId = this.uploadsPlaylists.get(channelId);
      if (playlistId === undefined) {
        const playlist = await api.uploadsPlaylist(channelId);
        if (!playlist.ok) {
          metrics.polls.inc({ outcome: playlist.outcome });
          if (playlist.outcome !== 'error') return;
          continue;
        }
        playlistId = playlist.value;
        this.uploadsPlaylists.set(channelId, playlistId);
      }
      if (playlistId === null) {
        this.lastPolledAtMs.set(channelId, nowMs);
        metrics.polls.inc({ outcome: 'no_uploads' });
        continue;
      }
      const recent = await api.recentPlaylistVideos(playlistId, this.options.recentUploads ?? DEFAULT_YOUTUBE_POLL_RECENT_UPLOADS);
      if (!recent.ok) {
        metrics.polls.inc({ outcome: recent.outcome });
        if (recent.outcome !== 'error') return;
        continue;
      }
      this.lastPolledAtMs.set(channelId, nowMs);
      metrics.polls.inc({ outcome: 'ok' });
      for (const videoId of recent.value) requests.push({ videoId, channelId, source: 'poll' });
    }

    for (const record of await liveVideos.list()) {
      if (nowMs - record.checked_at_ms >= this.pollIntervalMs || requests.some((request) => request.channelId === record.channel_id)) {
        requests.push({ videoId: record.video_id, channelId: record.channel_id, source: 'poll' });
      }
    }
    if (requests.length === 0) return;
    const result = await this.options.confirmer.confirm(requests);
    if (!result.ok) this.options.logger.warn({ outcome: result.outcome }, result.message);
  }
}
