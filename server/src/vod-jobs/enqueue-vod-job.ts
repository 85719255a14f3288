import { SKIP, SUBJECTS, encodeJson, type Bus } from '../bus/index.js';
import { vodJobSchema, type VodJob } from './vod-job.js';
import { VodStore } from './vod-store.js';

/** The msg id of a broadcast's job: a second enqueue within the VOD_JOBS window is dropped as a duplicate. */
export function vodJobMsgId(canonicalId: string): string {
  return `vod:${canonicalId}`;
}

/**
 * Asks for a broadcast's replay: writes its record `queued` (unless one exists: a repeated
 * OFFLINE changes nothing, an ended replay stays ended) and then publishes the job durably on
 * the VOD_JOBS work queue, msg id `vod:{canonical_id}`. Record first, so the channel's listing
 * shows the replay as soon as this resolves; a crash between the two leaves a `queued` record
 * that the next enqueue of the same broadcast completes. Throws a `ZodError` for a malformed job.
 */
export async function enqueueVodJob(bus: Bus, job: VodJob, options: { readonly vods?: VodStore; readonly now?: () => number } = {}): Promise<void> {
  const parsed = vodJobSchema.parse(job);
  const vods = options.vods ?? (await VodStore.open(bus));
  const nowIso = new Date((options.now ?? Date.now)()).toISOString();
  await vods.update(parsed.canonical_id, (current) =>
    current
      ? SKIP
      : {
          canonical_id: parsed.canonical_id,
          channel: parsed.channel,
          state: 'queued',
          started_at: parsed.started_at,
          ...(parsed.ended_at ? { ended_at: parsed.ended_at } : {}),
          ...(parsed.title ? { title: parsed.title } : {}),
          ...(parsed.source.kind === 'upload' ? { upload_id: parsed.source.upload_id } : {}),
          updated_at: nowIso,
        },
  );
  await bus.publish(SUBJECTS.vodJobs, encodeJson(parsed), { msgId: vodJobMsgId(parsed.canonical_id) });
}
