import { AppError } from '../../errors/index.js';
import type { CanonicalEvent, CanonicalEventFields } from '../../provider-adapter/index.js';
import { isVideoLive, observationTimeMs, youTubeObservationId, type YouTubeObservation } from './youtube-observation.js';

export interface YouTubeObservationInput {
  /** `{publisher}/{slug}`, looked up from the observation's `channel_id` provider link. */
  readonly channel: string;
  readonly observation: YouTubeObservation;
}

/**
 * Maps a Data-API-confirmed YouTube observation to a canonical event. Pure. `online` needs an
 * actual start and no end, `offline` an actual end or a vanished video, `update` a live
 * video; the event time comes from the API's times. Throws `AppError('invalid_body')` when
 * the observation contradicts its kind.
 */
export function mapYouTubeObservation(input: YouTubeObservationInput): CanonicalEvent {
  const { channel, observation } = input;
  const { video } = observation;
  if (video && (video.id !== observation.video_id || video.snippet.channelId !== observation.channel_id)) {
    throw new AppError('invalid_body', 'YouTube observation names another video or channel than its API item');
  }
  const eventTimeMs = observationTimeMs(observation);
  if (!Number.isFinite(eventTimeMs)) throw new AppError('invalid_body', 'YouTube observation has no usable time');
  const base = {
    channel,
    provider: 'youtube',
    eventId: youTubeObservationId(observation),
    eventTimeMs,
    verified: true,
    providerStreamId: observation.video_id,
  } as const;

  switch (observation.kind) {
    case 'online': {
      if (!video || !isVideoLive(video)) throw new AppError('invalid_body', 'YouTube online observation of a video that is not live');
      return { ...base, kind: 'online', fields: { started_at: new Date(eventTimeMs).toISOString(), ...liveFields(observation) } };
    }
    case 'update': {
      if (!video || !isVideoLive(video)) throw new AppError('invalid_body', 'YouTube update observation of a video that is not live');
      return { ...base, kind: 'update', fields: liveFields(observation) };
    }
    case 'offline': {
      // A vanished video (deleted, made private) is offline as of its deletion or our look.
      if (video && video.liveStreamingDetails?.actualEndTime === undefined) {
        throw new AppError('invalid_body', 'YouTube offline observation of a video that has not ended');
      }
      return { ...base, kind: 'offline', fields: {} };
    }
  }
}

function liveFields(observation: YouTubeObservation): CanonicalEventFields {
  const video = observation.video;
  const viewers = video?.liveStreamingDetails?.concurrentViewers;
  const title = video?.snippet.title.trim();
  return {
    title: title ? title : null,
    viewer_count: viewers === undefined ? null : Math.min(Number(viewers), Number.MAX_SAFE_INTEGER),
  };
}
