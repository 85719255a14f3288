import { z } from 'zod';
import { SUBJECTS, encodeJson, type Bus, type PublishAck } from '../bus/index.js';
import { UPLOAD_SOURCES, type UploadRecord } from './upload-record.js';

/** The `uploads.completed` work-queue message: one per finished upload; the moderation worker's input. */
export const uploadCompletedJobSchema = z.object({
  upload_id: z.string(),
  channel: z.string(),
  type: z.string(),
  size: z.number().int().nonnegative(),
  source: z.enum(UPLOAD_SOURCES),
  completed_at: z.string(),
});
export type UploadCompletedJob = z.infer<typeof uploadCompletedJobSchema>;

/** Publishes the moderation job with msg id = upload id, so a repeated completion is dropped as a duplicate. */
export function enqueueModerationJob(bus: Bus, record: UploadRecord, size: number, completedAtIso: string): Promise<PublishAck> {
  const job: UploadCompletedJob = {
    upload_id: record.upload_id,
    channel: record.channel,
    type: record.type,
    size,
    source: record.source,
    completed_at: completedAtIso,
  };
  return bus.publish(SUBJECTS.uploadsCompleted, encodeJson(job), { msgId: record.upload_id });
}
