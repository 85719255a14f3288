import type { Engagement, EngagementSource } from '../discovery/index.js';
import type { AudienceStore } from './audience-store.js';
import { MINUTE_MS } from './audience-minute.js';
import { currentViewersOf, type AudienceTotals } from './audience-totals.js';

const engagementOf = (totals: AudienceTotals): Engagement => ({
  viewers: currentViewersOf(totals),
  clips: totals.clips,
  watchMinutes: totals.viewer_minutes,
  viewersAtMs: Math.max(0, ...totals.recent.map((entry) => entry.minute)) * MINUTE_MS,
});

/** The audience totals as discovery's trending reads them (issue 27): current per broadcast, and every change fleet-wide. */
export function audienceEngagement(store: AudienceStore): EngagementSource {
  return {
    current: async (canonicalId) => {
      const totals = await store.totalsOf(canonicalId);
      return totals ? engagementOf(totals) : undefined;
    },
    watch: (onChange) => store.watchTotals((totals) => onChange(totals.canonical_id, engagementOf(totals))),
  };
}
