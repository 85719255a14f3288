import type { ChannelPage } from './channel-page.js';

/** schema.org `BroadcastEvent`: the live broadcast a `VideoObject` is published as. */
export interface BroadcastEventJsonLd {
  readonly '@type': 'BroadcastEvent';
  readonly isLiveBroadcast: true;
  readonly startDate: string;
  readonly endDate?: string;
}

/** schema.org `VideoObject` for a live stream, as Google documents for livestreams (a `publication` `BroadcastEvent`). */
export interface VideoObjectJsonLd {
  readonly '@context': 'https://schema.org';
  readonly '@type': 'VideoObject';
  readonly name: string;
  readonly description: string;
  readonly url: string;
  readonly embedUrl: string;
  readonly contentUrl?: string;
  readonly thumbnailUrl?: string;
  readonly uploadDate?: string;
  readonly keywords?: string;
  readonly publication?: readonly BroadcastEventJsonLd[];
}

/**
 * The JSON-LD of a channel's landing page: a `VideoObject` named after what is on, whose
 * `publication` is the current (or last) broadcast: `isLiveBroadcast: true`, `startDate`, and
 * `endDate` once it ended. A channel that never went live has no `publication`. Pure; serialize
 * with `serializeJsonLd` for an inline script.
 */
export function channelJsonLd(page: ChannelPage): VideoObjectJsonLd {
  const { record } = page;
  const startedAt = record.started_at;
  const ended = !page.isLive && record.ended_at !== null && startedAt !== null && Date.parse(record.ended_at) >= Date.parse(startedAt);
  const publication: BroadcastEventJsonLd | undefined =
    startedAt === null ? undefined : { '@type': 'BroadcastEvent', isLiveBroadcast: true, startDate: startedAt, ...(ended ? { endDate: record.ended_at! } : {}) };
  return {
    '@context': 'https://schema.org',
    '@type': 'VideoObject',
    name: page.title,
    description: page.description,
    url: page.pageUrl,
    embedUrl: page.embedUrl,
    ...(record.playback ? { contentUrl: record.playback.hls } : {}),
    ...(page.poster ? { thumbnailUrl: page.poster.url } : {}),
    ...(startedAt !== null ? { uploadDate: startedAt } : {}),
    ...(record.tags.length > 0 ? { keywords: record.tags.join(', ') } : {}),
    ...(publication ? { publication: [publication] } : {}),
  };
}
