import { KvContentionError, SKIP } from '../../bus/index.js';
import type { Logger } from '../../observability/index.js';
import type { RawEventSink } from '../../provider-adapter/index.js';
import { YOUTUBE_API_MAX_IDS_PER_CALL, type ApiResult, type YouTubeDataApi } from './data-api-client.js';
import type { VideoResource } from './data-api-resources.js';
import { decideObservation } from './decide-observation.js';
import type { LiveVideoStore } from './live-video-store.js';
import { toRawProviderEvent, type YouTubeObservationSource } from './youtube-observation.js';
import type { YouTubeMetrics } from './youtube-metrics.js';

/** Compare-and-sets of one video's record before it is left for the next look. */
const MAX_ATTEMPTS = 5;

export interface ConfirmRequest {
  readonly videoId: string;
  readonly channelId: string;
  readonly source: YouTubeObservationSource;
  readonly deletedAtMs?: number | null;
}

export interface VideoConfirmerOptions {
  readonly api: YouTubeDataApi;
  readonly ingest: RawEventSink;
  readonly liveVideos: LiveVideoStore;
  readonly metrics: YouTubeMetrics;
  readonly logger: Logger;
}

/**
 * Turns hints into truth: asks `videos.list` about the videos (one call per 50), decides per
 * video what changed since we last published, publishes that durably on `live.raw.youtube`,
 * then records it. Publishing first means a crash in between publishes the same observation
 * again, which the msg id dedupes.
 */
export class VideoConfirmer {
  constructor(private readonly options: VideoConfirmerOptions) {}

  /** Resolves to the number of observations published, or the API's refusal. */
  async confirm(requests: readonly ConfirmRequest[]): Promise<ApiResult<number>> {
    const unique = [...new Map(requests.map((request) => [request.videoId, request])).values()];
    let published = 0;
    let receivedAtMs = 0;
    for (let start = 0; start < unique.length; start += YOUTUBE_API_MAX_IDS_PER_CALL) {
      const batch = unique.slice(start, start + YOUTUBE_API_MAX_IDS_PER_CALL);
      const result = await this.options.api.listVideos(batch.map((request) => request.videoId));
      if (!result.ok) return result;
      receivedAtMs = result.receivedAtMs;
      const byId = new Map(result.value.map((video) => [video.id, video]));
      for (const request of batch) {
        if (await this.apply(request, byId.get(request.videoId) ?? null, result.receivedAtMs)) published++;
      }
    }
    return { ok: true, value: published, receivedAtMs };
  }

  /**
   * Decides on the stored record, publishes, then writes the record by compare-and-set. On a
   * lost race the helper reads again and this decides and publishes again: the same
   * observation is deduplicated by its msg id, a different one is what the newer record calls
   * for. Publishing inside the change keeps "publish, then record" (a crash in between
   * publishes again rather than recording an observation nobody saw).
   */
  private async apply(request: ConfirmRequest, video: VideoResource | null, observedAtMs: number): Promise<boolean> {
    const { liveVideos, ingest, metrics } = this.options;
    let observed = false;
    try {
      await liveVideos.update(
        request.videoId,
        async (previous) => {
          const decision = decideObservation(previous, video, {
            videoId: request.videoId,
            channelId: request.channelId,
            source: request.source,
            observedAtMs,
            deletedAtMs: request.deletedAtMs ?? null,
          });
          observed = decision.observation !== null;
          if (decision.observation) {
            const { duplicate } = await ingest.publish(toRawProviderEvent(decision.observation));
            if (!duplicate) metrics.observations.inc({ kind: decision.observation.kind, source: request.source });
          }
          // decideObservation: undefined leaves the record, null deletes it.
          return decision.record === undefined ? SKIP : (decision.record ?? undefined);
        },
        { maxAttempts: MAX_ATTEMPTS },
      );
      return observed;
    } catch (error) {
      if (!(error instanceof KvContentionError)) throw error;
      this.options.logger.warn({ video_id: request.videoId }, 'youtube live video record kept changing; left for the next look');
      return false;
    }
  }
}
