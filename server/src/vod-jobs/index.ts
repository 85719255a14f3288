/**
 * VOD jobs (issue 21): a finished broadcast becomes a replay. The capture side calls
 * `enqueueVodJob` at OFFLINE (its record is `queued` at once); the `VodWorker` turns the job's
 * archive into the ladder under `vods/{publisher}/{slug}/{ulid}/` in the media store, exactly
 * once across replicas, and moves the record to `published` (or `failed`, or leaves it
 * `cancelled`). `VodStore` is what the listing API reads; `/vod/...` serves published replays.
 */
export { vodJobSchema, broadcastKeyPath, type VodJob } from './vod-job.js';
export { enqueueVodJob, vodJobMsgId } from './enqueue-vod-job.js';
export { VodStore, vodRecordKey, MAX_VOD_PAGE, type VodListOptions, type VodPage } from './vod-store.js';
export {
  VOD_STATES,
  VOD_FAILURE_REASONS,
  isFinalVodState,
  vodRecordSchema,
  vodRenditionSchema,
  twitchArchiveSchema,
  type TwitchArchive,
  type VodFailureReason,
  type VodRecord,
  type VodRendition,
  type VodState,
} from './vod-record.js';
export { VodWorker, MAX_VOD_TRANSCODE_ATTEMPTS, VOD_ACK_WAIT_MS, VOD_PROGRESS_INTERVAL_MS, type VodProgressEvent, type VodWorkerOptions } from './vod-worker.js';
export { VodSlots } from './vod-slots.js';
export { VOD_URL_PREFIX, vodArchivePrefix, vodOutputPrefix, vodReplayUrls, vodFileFor, type VodFile, type VodReplayUrls } from './vod-files.js';
export { VOD_OUTPUT_MARKER, readVodOutputMarker, removeVodOutput, storeVodOutput, type VodOutputMarker } from './vod-output.js';
export { materializeArchive, type LocalArchivePlaylist } from './archive-playlist.js';
export { vodReplayRoute, type VodReplayRouteDeps } from './vod-replay-route.js';
