import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { foldBeacons, foldProviderViewers, type AudienceMinute } from './audience-minute.js';
import { audienceReport } from './audience-report.js';
import { addMinuteDelta, currentViewersOf, minuteDelta } from './audience-totals.js';
import type { AudienceBeacon } from './beacon.js';

const id = createCanonicalId({ publisher: 'acme', slug: 'show' }, Date.UTC(2026, 0, 1));
const beacon = (session: string, overrides: Partial<AudienceBeacon> = {}): AudienceBeacon => ({
  canonical_id: id,
  channel: 'acme/show',
  event: 'heartbeat',
  surface: 'landing',
  host: null,
  source: 'direct',
  session,
  n: 0,
  at: 0,
  ...overrides,
});

describe('audience folds and report', () => {
  it('folds a beacon twice as once, and says when nothing changed', () => {
    const once = foldBeacons(undefined, id, 100, [beacon('a'), beacon('a', { event: 'clip', n: 1 })])!;
    assert.equal(foldBeacons(once, id, 100, [beacon('a'), beacon('a', { event: 'clip', n: 1 })]), undefined);
    const twice = foldBeacons(once, id, 100, [beacon('a', { event: 'clip', n: 2 })])!;
    assert.equal(twice.cells[0]!.clips.length, 2);
    assert.equal(once.cells[0]!.clips.length, 1, 'the input is not modified');
  });

  it('keeps a provider count only when it is the minute high', () => {
    const first = foldProviderViewers(undefined, id, 100, 'twitch', 40)!;
    assert.equal(foldProviderViewers(first, id, 100, 'twitch', 30), undefined);
    assert.equal(foldProviderViewers(first, id, 100, 'twitch', 50)!.provider_viewers['twitch'], 50);
  });

  it('reports viewers over time by source, peaks side by side, watch time and clips', () => {
    const minutes: AudienceMinute[] = [
      { ...foldBeacons(undefined, id, 101, [beacon('a', { source: 'twitch' }), beacon('b'), beacon('c', { source: 'twitch', surface: 'embed', host: 'https://blog.example', event: 'clip', n: 1 })])!, provider_viewers: { twitch: 90 } },
      { ...foldBeacons(undefined, id, 100, [beacon('a', { source: 'twitch' })])!, provider_viewers: { twitch: 120, youtube: 7 } },
    ];
    const report = audienceReport(id, 'acme/show', minutes);
    assert.deepEqual(
      report.minutes.map((minute) => [minute.at, minute.viewers, minute.by_source]),
      [
        [new Date(100 * 60_000).toISOString(), 1, { twitch: 1 }],
        [new Date(101 * 60_000).toISOString(), 3, { twitch: 2, direct: 1 }],
      ],
    );
    assert.deepEqual(report.peak_concurrent, {
      ours: { viewers: 3, at: new Date(101 * 60_000).toISOString() },
      providers: { twitch: { viewers: 120, at: new Date(100 * 60_000).toISOString() }, youtube: { viewers: 7, at: new Date(100 * 60_000).toISOString() } },
    });
    assert.equal(report.watch_time_s, 4 * 60);
    assert.equal(report.clips, 1);
    assert.deepEqual(report.by_source['twitch'], { viewer_minutes: 3, peak_concurrent: 2, clips: 1, uploads: 0 });
    assert.deepEqual(report.by_surface['embed https://blog.example'], { viewer_minutes: 1, peak_concurrent: 1, clips: 1, uploads: 0 });
  });

  it('keeps running totals from minute changes, late minutes adding to sums but not to now', () => {
    const m5 = foldBeacons(undefined, id, 5, [beacon('a'), beacon('b')])!;
    let totals = addMinuteDelta(undefined, id, minuteDelta(undefined, m5));
    const m6 = foldBeacons(undefined, id, 6, [beacon('a')])!;
    totals = addMinuteDelta(totals, id, minuteDelta(undefined, m6));
    const m7 = foldBeacons(undefined, id, 7, [beacon('c', { event: 'clip', n: 1 })])!;
    totals = addMinuteDelta(totals, id, minuteDelta(undefined, m7));
    assert.deepEqual(totals.recent, [{ minute: 7, viewers: 1 }, { minute: 6, viewers: 1 }]);
    const late = foldBeacons(m5, id, 5, [beacon('d')])!;
    totals = addMinuteDelta(totals, id, minuteDelta(m5, late));
    assert.equal(totals.viewer_minutes, 5);
    assert.equal(totals.clips, 1);
    assert.equal(currentViewersOf(totals), 1);
  });
});
