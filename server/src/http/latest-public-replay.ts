import { DEFAULT_VOD_POLICY, type ChannelConfig } from '../channels/index.js';
import type { VodRecord, VodStore } from '../vod-jobs/index.js';

/** A published replay with its playlist: what a public page may show and link. */
export type PublicReplay = VodRecord & { readonly urls: NonNullable<VodRecord['urls']> };

/** Records read per page while looking for the newest published one. */
const PAGE = 5;
/** Newest records looked at, at most: older than that is not "latest" any more. */
const MAX_SCANNED = 20;

/**
 * The channel's newest published replay, for what anyone reads (the landing page, `/status`).
 * Only when the channel's `vod` policy is `public`: an `unlisted` replay is served to whoever has
 * its link, and a public page listing it would make it public. The newest records may still be
 * queued or transcoding (the broadcast that just ended), or failed, so small pages are read,
 * newest first, up to `MAX_SCANNED` records.
 */
export async function latestPublicReplay(vods: VodStore, config: ChannelConfig): Promise<PublicReplay | undefined> {
  if ((config.vod ?? DEFAULT_VOD_POLICY) !== 'public') return undefined;
  let cursor: string | undefined;
  for (let scanned = 0; scanned < MAX_SCANNED; scanned += PAGE) {
    const page = await vods.list(config.channel, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    const found = page.vods.find((record): record is PublicReplay => record.state === 'published' && record.urls !== undefined);
    if (found || page.next_cursor === undefined) return found;
    cursor = page.next_cursor;
  }
  return undefined;
}
