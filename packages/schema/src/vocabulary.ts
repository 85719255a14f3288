/**
 * The fixed vocabularies of the canonical metadata, free of zod so that the browser element can
 * import them without the validator (the package is `sideEffects: false`; bundlers drop the
 * rest).
 */

/** Providers a channel can be linked to. The table is open: later providers add a row. */
export const PROVIDERS = ['twitch', 'youtube', 'bluesky'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const LIVE_STATUSES = ['live', 'offline', 'scheduled'] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

export function isLiveStatus(value: unknown): value is LiveStatus {
  return typeof value === 'string' && (LIVE_STATUSES as readonly string[]).includes(value);
}
