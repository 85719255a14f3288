import { z } from 'zod';

/**
 * `clip.published` on `clips.published.{publisher}.{slug}` (msg id = upload id): an upload is
 * public under /media/. Provenance comes from the upload record: the stream and range it was
 * clipped from, when it is a clip.
 */
export const clipPublishedEventSchema = z.object({
  upload_id: z.string(),
  channel: z.string(),
  canonical_id: z.string().optional(),
  from_s: z.number().optional(),
  to_s: z.number().optional(),
  media: z.object({ mp4: z.string(), hls: z.string(), poster: z.string() }),
  published_at: z.string(),
});
export type ClipPublishedEvent = z.infer<typeof clipPublishedEventSchema>;
