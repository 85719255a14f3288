import { DEFAULT_VOD_POLICY, type ChannelConfig } from '../channels/index.js';
import { MAX_VOD_PAGE, type VodRecord, type VodStore } from '../vod-jobs/index.js';

/** A published replay with its playlist: what a public page may show and link. */
export type PublicReplay = VodRecord & { readonly urls: NonNullable<VodRecord['urls']> };

/**
 * The channel's newest published replay, for pages anyone reads (the landing page). Only when the
 * channel's `vod` policy is `public`: an `unlisted` replay is served to whoever has its link, and
 * a public page showing it would be listing it. The newest record may still be queued or
 * transcoding (the broadcast that just ended), so one page of the newest `MAX_VOD_PAGE` records is
 * searched for the first published one; older than that is not "latest" any more.
 */
export async function latestPublicReplay(vods: VodStore, config: ChannelConfig): Promise<PublicReplay | undefined> {
  if ((config.vod ?? DEFAULT_VOD_POLICY) !== 'public') return undefined;
  const page = await vods.list(config.channel, { limit: MAX_VOD_PAGE });
  return page.vods.find((record): record is PublicReplay => record.state === 'published' && record.urls !== undefined);
}
