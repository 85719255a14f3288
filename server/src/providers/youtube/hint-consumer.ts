import { CONSUMERS, STREAMS, decodeJson, type Bus, type BusMessage, type Consumer } from '../../bus/index.js';
import type { Logger } from '../../observability/index.js';
import type { LiveVideoStore } from './live-video-store.js';
import type { QuotaBudget } from './quota-budget.js';
import type { VideoConfirmer } from './video-confirmer.js';
import { youTubeHintSchema } from './youtube-hint.js';

/** A spent quota is looked at again at the latest after this (the budget may be raised). */
const MAX_QUOTA_WAIT_MS = 60 * 60 * 1000;

export interface HintConsumerOptions {
  readonly bus: Bus;
  readonly confirmer: VideoConfirmer;
  readonly liveVideos: LiveVideoStore;
  readonly quota: QuotaBudget;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Works the hint queue: each hint costs one `videos.list`, except a deletion of a video we
 * never saw live, which changes nothing and costs nothing. An API failure is retried with
 * the bus's backoff, and so is a call refused because the fleet's quota ledger was out of
 * reach (`quota_unavailable`); a spent quota waits for the Pacific midnight.
 */
export async function startHintConsumer(options: HintConsumerOptions): Promise<Consumer> {
  const now = options.now ?? Date.now;
  return options.bus.consume(
    { stream: STREAMS.youtubeHints.name, durable: CONSUMERS.youtubeConfirmer, ackWaitMs: 30_000, maxAckPending: 16 },
    async (message: BusMessage) => {
      let hint;
      try {
        hint = decodeJson(message.data, youTubeHintSchema);
      } catch (error) {
        options.logger.error({ err: error, seq: message.seq }, 'malformed youtube hint; dropped');
        message.term();
        return;
      }
      if (hint.kind === 'deleted' && !(await options.liveVideos.get(hint.video_id))) return;
      const result = await options.confirmer.confirm([
        { videoId: hint.video_id, channelId: hint.channel_id, source: 'websub', deletedAtMs: hint.kind === 'deleted' ? hint.at_ms : null },
      ]);
      if (result.ok) return;
      if (result.outcome === 'over_budget' || result.outcome === 'quota_exceeded') {
        const nowMs = now();
        message.nak(Math.max(1000, Math.min(MAX_QUOTA_WAIT_MS, options.quota.snapshot(nowMs).resetsAtMs - nowMs)));
        return;
      }
      throw new Error(result.message);
    },
  );
}
