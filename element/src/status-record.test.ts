import { defaultBadge, LIVE_STATUSES, parseChannelRef } from '@live-upload/schema';
import { expect } from '@open-wc/testing';
import { isChannel, isLiveStatus, parseStatusRecord } from './status-record.js';
import { describe, it } from './testing/mocha.js';

const canonical = {
  version: '2026-01-1',
  canonical_id: null,
  channel: 'acme/morning-show',
  providers: {},
  status: 'live',
  started_at: '2026-03-01T18:00:00Z',
  ended_at: null,
  title: 'Morning show',
  viewer_count: 12,
  latency_ms: null,
  is_public: true,
  tags: [],
  badge: defaultBadge('live'),
  updated_at: '2026-03-01T18:00:01Z',
  seq: 3,
  sources: {},
};

const frame = (overrides: Record<string, unknown>): string => JSON.stringify({ ...canonical, ...overrides });

describe('parseStatusRecord', () => {
  it('returns a canonical record as sent, every field kept', () => {
    expect(parseStatusRecord(JSON.stringify(canonical))).to.deep.equal(canonical);
  });

  it('accepts the nullable fields as null', () => {
    expect(parseStatusRecord(frame({ title: null, started_at: null, viewer_count: null }))).to.not.equal(undefined);
  });

  it('ignores frames that are not JSON objects', () => {
    for (const data of ['', 'not json', '{', 'null', '42', '"live"', '[]', 'true']) {
      expect(parseStatusRecord(data), data).to.equal(undefined);
    }
  });

  it('ignores a status outside the canonical vocabulary', () => {
    for (const status of ['LIVE', 'online', '', null, 1, ['live'], 'toString', '__proto__']) {
      expect(parseStatusRecord(frame({ status })), String(status)).to.equal(undefined);
    }
  });

  it('ignores a channel that is not publisher/slug', () => {
    for (const channel of ['../etc/passwd', 'Acme/show', 'acme', ['acme/morning-show'], null, 'a/b/c']) {
      expect(parseStatusRecord(frame({ channel })), String(channel)).to.equal(undefined);
    }
  });

  it('ignores wrong shapes of title, viewer count, seq, start time and badge', () => {
    const bad: Record<string, unknown>[] = [
      { title: 42 },
      { title: { html: '<b>' } },
      { title: 'x'.repeat(513) },
      { viewer_count: -1 },
      { viewer_count: 1.5 },
      { viewer_count: '12' },
      { seq: undefined },
      { seq: -1 },
      { started_at: 0 },
      { badge: null },
      { badge: undefined },
      { badge: { label: 'LIVE', color: '#e5133a' } },
      { badge: { label: 1, color: '#e5133a', animate: true } },
    ];
    for (const overrides of bad) {
      expect(parseStatusRecord(frame(overrides)), JSON.stringify(overrides)).to.equal(undefined);
    }
  });
});

describe('the zod-free tables agree with the schema package', () => {
  it('knows exactly the LIVE_STATUSES', () => {
    for (const status of LIVE_STATUSES) expect(isLiveStatus(status), status).to.equal(true);
    expect(isLiveStatus('hasOwnProperty')).to.equal(false);
  });

  it('accepts exactly the channels parseChannelRef accepts', () => {
    const samples = [
      'acme/morning-show', 'a/b', '0/9', 'a-/b', `${'a'.repeat(39)}/b`, `${'a'.repeat(40)}/b`,
      '-a/b', 'A/b', 'a/B', 'a', 'a/', '/b', 'a/b/c', '../x', 'a/b ', ' a/b', 'a_b/c', 'a/b%2f', '', 'ä/b',
    ];
    for (const sample of samples) expect(isChannel(sample), sample).to.equal(parseChannelRef(sample) !== undefined);
  });
});
