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
  type VodFailureReason,
  type VodRecord,
  type VodRendition,
  type VodState,
} from './vod-record.js';
