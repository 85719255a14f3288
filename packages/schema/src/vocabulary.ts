/**
 * The fixed vocabularies of the canonical metadata, free of zod so that the browser element can
 * import them without the validator (the package is `sideEffects: false`; bundlers drop the
 * rest).
 */

/**
 * Providers whose signals make a channel live (the provenance a record's `sources` name).
 * Twitch, YouTube and Bluesky are accounts linked to a channel; `origin` is our own WHIP origin
 * (issue 23), which needs no account: the channel itself goes live. The table is open: later
 * providers add a row.
 */
export const PROVIDERS = ['twitch', 'youtube', 'bluesky', 'origin'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const LIVE_STATUSES = ['live', 'offline', 'scheduled'] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

export function isLiveStatus(value: unknown): value is LiveStatus {
  return typeof value === 'string' && (LIVE_STATUSES as readonly string[]).includes(value);
}
