import { formatCount, formatMinute, formatMoment, formatWatchTime } from './audience-format.js';

/** Names of the known referral sources and providers; another site's origin is shown as it is. */
const SOURCE_NAMES = { twitch: 'Twitch', youtube: 'YouTube', bluesky: 'Bluesky', mastodon: 'Mastodon', search: 'Search', direct: 'Direct' };

/** A source or provider as a reader knows it. */
export function sourceName(key) {
  return Object.hasOwn(SOURCE_NAMES, key) ? SOURCE_NAMES[key] : key;
}

/** The keys of `records[].field`, most viewers first, then by name: series and columns keep one order. */
function keysByTotal(minutes, field) {
  const totals = new Map();
  for (const minute of minutes) for (const [key, value] of Object.entries(minute[field])) totals.set(key, (totals.get(key) ?? 0) + value);
  return [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
}

/** A count for a table cell; a provider that reported nothing in a minute is "not reported", not 0. */
const countCell = (value) => (value === null || value === undefined ? 'not reported' : formatCount(value));

/**
 * One chart over the broadcast's minutes and the table of the same numbers.
 * @typedef {{ id: string, title: string, summary: string, kind: 'lines' | 'bars', x: number[], series: Array<{ label: string, values: Array<number | null> }>, table: { caption: string, rowHeader: string, columns: string[], rows: Array<{ header: string, cells: string[] }> } }} ChartView
 */

/** A time chart's view: x in seconds (uPlot's time scale), one table row per minute. */
function timeChart(report, spec) {
  const x = report.minutes.map((minute) => Date.parse(minute.at) / 1000);
  const series = spec.series.map((entry) => ({ label: entry.label, values: report.minutes.map(entry.value) }));
  return {
    id: spec.id,
    title: spec.title,
    summary: spec.summary,
    kind: spec.kind ?? 'lines',
    x,
    series,
    table: {
      caption: `${spec.title}, per minute`,
      rowHeader: 'Minute',
      columns: series.map((entry) => entry.label),
      rows: report.minutes.map((minute, index) => ({ header: formatMinute(minute.at), cells: series.map((entry) => countCell(entry.values[index])) })),
    },
  };
}

/**
 * What the page shows of an audience report (`GET .../audience`): the totals, the charts with
 * their tables, and the breakdown tables. Pure: the same report gives the same view.
 */
export function audienceReportView(report) {
  const sources = keysByTotal(report.minutes, 'by_source');
  const providers = keysByTotal(report.minutes, 'provider_viewers');
  for (const provider of Object.keys(report.peak_concurrent.providers)) if (!providers.includes(provider)) providers.push(provider);

  const charts = [
    timeChart(report, {
      id: 'viewers-by-source',
      title: 'Viewers by referral source',
      summary: 'Our concurrent viewers each minute, all of them and by where they came from.',
      series: [{ label: 'All our viewers', value: (minute) => minute.viewers }, ...sources.map((source) => ({ label: sourceName(source), value: (minute) => minute.by_source[source] ?? 0 }))],
    }),
    timeChart(report, {
      id: 'viewers-by-provider',
      title: 'Concurrent viewers, ours and the providers’',
      summary: 'Our concurrent viewers each minute beside the viewer count each provider reported.',
      series: [{ label: 'Ours', value: (minute) => minute.viewers }, ...providers.map((provider) => ({ label: sourceName(provider), value: (minute) => minute.provider_viewers[provider] ?? null }))],
    }),
    timeChart(report, {
      id: 'clips-and-uploads',
      title: 'Clips and uploads made',
      summary: 'Clips made and uploads done by viewers each minute.',
      kind: 'bars',
      series: [
        { label: 'Clips', value: (minute) => minute.clips },
        { label: 'Uploads', value: (minute) => minute.uploads },
      ],
    }),
  ];

  const peakRow = (header, peak) => ({ header, cells: [formatCount(peak.viewers), peak.at === null ? 'none' : formatMoment(peak.at)] });
  const breakdownTable = (caption, rowHeader, breakdown, nameOf) => ({
    caption,
    rowHeader,
    columns: ['Viewer-minutes', 'Watch time', 'Peak concurrent', 'Clips', 'Uploads'],
    rows: Object.entries(breakdown)
      .sort(([a, x], [b, y]) => y.viewer_minutes - x.viewer_minutes || a.localeCompare(b))
      .map(([key, row]) => ({
        header: nameOf(key),
        cells: [formatCount(row.viewer_minutes), formatWatchTime(row.viewer_minutes * 60), formatCount(row.peak_concurrent), formatCount(row.clips), formatCount(row.uploads)],
      })),
  });

  return {
    totals: [
      { term: 'Peak concurrent viewers (ours)', value: formatCount(report.peak_concurrent.ours.viewers) },
      { term: 'Watch time', value: formatWatchTime(report.watch_time_s) },
      { term: 'Clips made', value: formatCount(report.clips) },
      { term: 'Uploads done', value: formatCount(report.uploads) },
    ],
    charts,
    tables: [
      {
        caption: 'Peak concurrent viewers, ours and the providers’',
        rowHeader: 'Counted by',
        columns: ['Peak viewers', 'At'],
        rows: [peakRow('Ours (beacons)', report.peak_concurrent.ours), ...providers.filter((p) => report.peak_concurrent.providers[p]).map((p) => peakRow(sourceName(p), report.peak_concurrent.providers[p]))],
      },
      breakdownTable('Audience by referral source', 'Source', report.by_source, sourceName),
      breakdownTable('Audience by surface', 'Surface', report.by_surface, (key) => key),
    ],
  };
}
