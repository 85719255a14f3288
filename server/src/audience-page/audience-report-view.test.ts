import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AudienceReport } from '../audience/index.js';
// The browser module itself, as the page loads it: pure, no DOM.
import { audienceReportView } from './client/audience-report-view.js';

const report: AudienceReport = {
  canonical_id: 'stream:acme:morning-show:01J0000000000000000000000A',
  channel: 'acme/morning-show',
  minutes: [
    { at: '2026-12-07T10:00:00.000Z', viewers: 3, by_source: { direct: 1, twitch: 2 }, by_surface: { landing: 3 }, provider_viewers: { twitch: 1200 }, clips: 0, uploads: 0 },
    { at: '2026-12-07T10:01:00.000Z', viewers: 1234, by_source: { twitch: 4, 'https://blog.example': 1230 }, by_surface: { 'embed https://blog.example': 1234 }, provider_viewers: {}, clips: 2, uploads: 1 },
  ],
  peak_concurrent: { ours: { viewers: 1234, at: '2026-12-07T10:01:00.000Z' }, providers: { twitch: { viewers: 1200, at: '2026-12-07T10:00:00.000Z' } } },
  watch_time_s: 1237 * 60,
  clips: 2,
  uploads: 1,
  by_source: {
    direct: { viewer_minutes: 1, peak_concurrent: 1, clips: 0, uploads: 0 },
    twitch: { viewer_minutes: 6, peak_concurrent: 4, clips: 2, uploads: 0 },
    'https://blog.example': { viewer_minutes: 1230, peak_concurrent: 1230, clips: 0, uploads: 1 },
  },
  by_surface: { landing: { viewer_minutes: 3, peak_concurrent: 3, clips: 0, uploads: 0 }, 'embed https://blog.example': { viewer_minutes: 1234, peak_concurrent: 1234, clips: 2, uploads: 1 } },
};

describe('audienceReportView', () => {
  it('charts every source and provider per minute, most watched first, with the same numbers in the table', () => {
    const view = audienceReportView(report);
    const [bySource, byProvider, made] = view.charts;
    assert.deepEqual(
      bySource!.series.map((series) => series.label),
      ['All our viewers', 'https://blog.example', 'Twitch', 'Direct'],
    );
    assert.deepEqual(bySource!.x, [Date.parse('2026-12-07T10:00:00Z') / 1000, Date.parse('2026-12-07T10:01:00Z') / 1000]);
    assert.deepEqual(bySource!.series[2]!.values, [2, 4]);
    assert.deepEqual(bySource!.series[3]!.values, [1, 0], 'a source absent in a minute had no viewers then');
    assert.deepEqual(bySource!.table.rows.map((row) => row.cells), [
      ['3', '0', '2', '1'],
      ['1,234', '1,230', '4', '0'],
    ]);
    // A provider that reported nothing in a minute is a gap, not a zero.
    assert.deepEqual(byProvider!.series.map((series) => series.label), ['Ours', 'Twitch']);
    assert.deepEqual(byProvider!.series[1]!.values, [1200, null]);
    assert.deepEqual(byProvider!.table.rows.map((row) => row.cells), [
      ['3', '1,200'],
      ['1,234', 'not reported'],
    ]);
    assert.equal(made!.kind, 'bars');
    assert.deepEqual(made!.table.rows.map((row) => row.cells), [
      ['0', '0'],
      ['2', '1'],
    ]);
  });

  it('totals, peaks side by side, and breakdowns by source and surface', () => {
    const view = audienceReportView(report);
    assert.deepEqual(
      view.totals.map((entry) => entry.value),
      ['1,234', '20 hr 37 min', '2', '1'],
    );
    const [peaks, bySource, bySurface] = view.tables;
    assert.deepEqual(peaks!.rows.map((row) => [row.header, row.cells[0]]), [
      ['Ours (beacons)', '1,234'],
      ['Twitch', '1,200'],
    ]);
    assert.deepEqual(bySource!.rows.map((row) => [row.header, ...row.cells]), [
      ['https://blog.example', '1,230', '20 hr 30 min', '1,230', '0', '1'],
      ['Twitch', '6', '6 min', '4', '2', '0'],
      ['Direct', '1', '1 min', '1', '0', '0'],
    ]);
    assert.deepEqual(bySurface!.rows.map((row) => row.header), ['embed https://blog.example', 'landing']);
  });

  it('an empty report has charts and tables with no rows, and no peak time', () => {
    const empty: AudienceReport = { ...report, minutes: [], peak_concurrent: { ours: { viewers: 0, at: null }, providers: {} }, watch_time_s: 0, clips: 0, uploads: 0, by_source: {}, by_surface: {} };
    const view = audienceReportView(empty);
    assert.deepEqual(view.charts.map((chart) => chart.table.rows.length), [0, 0, 0]);
    assert.deepEqual(view.tables[0]!.rows, [{ header: 'Ours (beacons)', cells: ['0', 'none'] }]);
  });
});
