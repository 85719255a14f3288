/**
 * Audience analytics, privacy first (issue 27): beacons from the element and the landing page
 * (`beacon.ts`, `beacon-intake.ts`), folded per broadcast minute by a work-queue worker
 * (`audience-aggregator.ts`) into KV (`audience-store.ts`; a minute with many viewers split by
 * session, `audience-minute-shards.ts`), read back as a broadcast's report
 * (`audience-report.ts`). No cookie, address or user id is ever stored.
 */
export { AudienceAggregator, type AudienceAggregatorDeps } from './audience-aggregator.js';
export { AudienceStore, AUDIENCE_TTL_MS } from './audience-store.js';
export { audienceReport, type AudienceReport, type AudienceReportMinute, type AudienceBreakdown, type AudiencePeak } from './audience-report.js';
export { currentViewersOf, type AudienceTotals } from './audience-totals.js';
export { BeaconIntake } from './beacon-intake.js';
export { audienceEngagement } from './engagement-source.js';
export { MAX_BEACON_BODY_BYTES, beaconBodySchema, reduceBeacon, sessionHash, type AudienceBeacon, type BeaconBody, type BeaconContext } from './beacon.js';
export { foldBeacons, foldProviderViewers, minuteOf, MINUTE_MS, type AudienceMinute } from './audience-minute.js';
