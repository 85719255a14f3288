import { MINUTE_MS, madeIn, viewersOf, type AudienceMinute } from './audience-minute.js';

/** One minute of a broadcast as the audience report shows it. */
export interface AudienceReportMinute {
  /** The minute's start, ISO 8601. */
  readonly at: string;
  /** Our concurrent viewers: distinct viewing sessions that sent a beacon in the minute. */
  readonly viewers: number;
  readonly by_source: Record<string, number>;
  readonly by_surface: Record<string, number>;
  /** The highest `viewer_count` each provider reported in the minute (absent: none reported). */
  readonly provider_viewers: Record<string, number>;
  readonly clips: number;
  readonly uploads: number;
}

export interface AudienceBreakdown {
  readonly viewer_minutes: number;
  readonly peak_concurrent: number;
  readonly clips: number;
  readonly uploads: number;
}

export interface AudiencePeak {
  readonly viewers: number;
  /** The minute of the peak; null when there was none. */
  readonly at: string | null;
}

/** `GET .../broadcasts/:canonical_id/audience`. */
export interface AudienceReport {
  readonly canonical_id: string;
  readonly channel: string;
  readonly minutes: readonly AudienceReportMinute[];
  /** Ours (beacons) and each provider's (their `viewer_count`), side by side. */
  readonly peak_concurrent: { readonly ours: AudiencePeak; readonly providers: Record<string, AudiencePeak> };
  /** Viewer-minutes times 60: each viewing session counts a minute for every minute it was seen in. */
  readonly watch_time_s: number;
  readonly clips: number;
  readonly uploads: number;
  readonly by_source: Record<string, AudienceBreakdown>;
  /** By `surface` (`landing`), or `surface host` for embeds (`embed https://blog.example`). */
  readonly by_surface: Record<string, AudienceBreakdown>;
}

const surfaceName = (surface: string, host: string | null) => (host ? `${surface} ${host}` : surface);

function countBy(minute: AudienceMinute, keyOf: (cell: AudienceMinute['cells'][number]) => string): Map<string, { sessions: Set<string>; clips: number; uploads: number }> {
  const groups = new Map<string, { sessions: Set<string>; clips: number; uploads: number }>();
  for (const cell of minute.cells) {
    const key = keyOf(cell);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { sessions: new Set(), clips: 0, uploads: 0 }));
    for (const session of cell.sessions) group.sessions.add(session);
    group.clips += cell.clips.length;
    group.uploads += cell.uploads.length;
  }
  return groups;
}

function addBreakdown(into: Record<string, AudienceBreakdown>, key: string, viewers: number, clips: number, uploads: number): void {
  const known = into[key] ?? { viewer_minutes: 0, peak_concurrent: 0, clips: 0, uploads: 0 };
  into[key] = { viewer_minutes: known.viewer_minutes + viewers, peak_concurrent: Math.max(known.peak_concurrent, viewers), clips: known.clips + clips, uploads: known.uploads + uploads };
}

/** The report of a broadcast from its minutes (any order). Pure. */
export function audienceReport(canonicalId: string, channel: string, minutes: readonly AudienceMinute[]): AudienceReport {
  const sorted = [...minutes].sort((a, b) => a.minute - b.minute);
  const bySource: Record<string, AudienceBreakdown> = {};
  const bySurface: Record<string, AudienceBreakdown> = {};
  const providerPeaks: Record<string, AudiencePeak> = {};
  let ours: AudiencePeak = { viewers: 0, at: null };
  let viewerMinutes = 0;
  let clips = 0;
  let uploads = 0;
  const rows = sorted.map((minute): AudienceReportMinute => {
    const at = new Date(minute.minute * MINUTE_MS).toISOString();
    const viewers = viewersOf(minute);
    const made = madeIn(minute);
    viewerMinutes += viewers;
    clips += made.clips;
    uploads += made.uploads;
    if (viewers > ours.viewers) ours = { viewers, at };
    const sources: Record<string, number> = {};
    for (const [source, group] of countBy(minute, (cell) => cell.source)) {
      sources[source] = group.sessions.size;
      addBreakdown(bySource, source, group.sessions.size, group.clips, group.uploads);
    }
    const surfaces: Record<string, number> = {};
    for (const [surface, group] of countBy(minute, (cell) => surfaceName(cell.surface, cell.host))) {
      surfaces[surface] = group.sessions.size;
      addBreakdown(bySurface, surface, group.sessions.size, group.clips, group.uploads);
    }
    for (const [provider, count] of Object.entries(minute.provider_viewers)) {
      if (count > (providerPeaks[provider]?.viewers ?? -1)) providerPeaks[provider] = { viewers: count, at };
    }
    return { at, viewers, by_source: sources, by_surface: surfaces, provider_viewers: { ...minute.provider_viewers }, clips: made.clips, uploads: made.uploads };
  });
  return {
    canonical_id: canonicalId,
    channel,
    minutes: rows,
    peak_concurrent: { ours, providers: providerPeaks },
    watch_time_s: viewerMinutes * 60,
    clips,
    uploads,
    by_source: bySource,
    by_surface: bySurface,
  };
}
