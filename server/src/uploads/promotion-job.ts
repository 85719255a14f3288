import { z } from 'zod';
import { SUBJECTS, encodeJson, type Bus, type PublishAck } from '../bus/index.js';

/**
 * The `uploads.approved` work-queue message: moderation approved an upload (by policy or by a
 * moderator) and it may now be transcoded and published. One per upload: msg id
 * `approved:{upload_id}`, so a repeated approval is dropped as a duplicate.
 */
export const promotionJobSchema = z.object({
  upload_id: z.string(),
  channel: z.string(),
  /** `moderation` (auto policy), `admin`, or `moderator:<id>`. */
  approved_by: z.string(),
  approved_at: z.string(),
});
export type PromotionJob = z.infer<typeof promotionJobSchema>;

/** The msg id of an upload's promotion job. */
export function promotionJobMsgId(uploadId: string): string {
  return `approved:${uploadId}`;
}

/** Publishes the promotion job (idempotent by msg id inside the UPLOADS stream's duplicate window). */
export function enqueuePromotionJob(bus: Bus, job: PromotionJob): Promise<PublishAck> {
  return bus.publish(SUBJECTS.uploadsApproved, encodeJson(promotionJobSchema.parse(job)), { msgId: promotionJobMsgId(job.upload_id) });
}
