import { parseChannelRef } from '@live-upload/schema';
import type { UploadRecord } from '../uploads/index.js';

/** Where a publisher's `broadcast` upload goes: the replay it becomes, as its upload record names it. */
export interface UploadReplay {
  /** `stream:{publisher}:{slug}:{upload_id}`. */
  readonly canonical_id: string;
  /** The replay record's API path (`GET` it with the admin token for its state and progress). */
  readonly vod: string;
}

/**
 * The replay of a `broadcast` upload. Its canonical id's ULID is the upload id (itself a ULID,
 * made when the upload was granted): one upload is one replay, and a promotion delivered twice,
 * on any replica, asks for the same one.
 */
export function replayOfUpload(upload: Pick<UploadRecord, 'upload_id' | 'channel'>): UploadReplay {
  const ref = parseChannelRef(upload.channel);
  if (!ref) throw new RangeError(`upload ${upload.upload_id} has a malformed channel ${upload.channel}`);
  return {
    canonical_id: `stream:${ref.publisher}:${ref.slug}:${upload.upload_id}`,
    vod: `/api/v1/channels/${ref.publisher}/${ref.slug}/vods/${upload.upload_id}`,
  };
}

/** The replay job a `broadcast` upload asks for (a VOD job whose source is the upload). */
export interface UploadReplayRequest {
  readonly canonical_id: string;
  /** `publisher/slug`. */
  readonly channel: string;
  readonly upload_id: string;
  readonly started_at: string;
  readonly title?: string;
  readonly requested_at: string;
}

/**
 * What the promotion worker asks of the replay side (`start-server` wires it to `enqueueVodJob`
 * and `VodStore.cancel`; publishing does not import the VOD jobs, which import the media routes).
 */
export interface UploadReplays {
  /** Queues the replay: its record `queued`, its job on VOD_JOBS. Idempotent: a second call changes nothing. */
  enqueue(request: UploadReplayRequest): Promise<void>;
  /** The replay is not to be made (its upload was rejected or deleted meanwhile); a no-op once it ended. */
  cancel(canonicalId: string): Promise<void>;
}
