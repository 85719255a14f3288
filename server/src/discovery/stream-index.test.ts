import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { LiveStatus } from '@live-upload/schema';
import { decodeStreamCursor, encodeStreamCursor } from './stream-cursor.js';
import { foldText, streamEntry, summarizeStream, type StreamEntry, type StreamRecord } from './stream-entry.js';
import { pageStreams, queryStreams, sortStreams, type StreamPageRequest, type StreamSort } from './stream-index.js';
import { engagementAt, trendingScore, type Engagement } from './engagement.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

interface Fixture {
  readonly channel: string;
  readonly status?: LiveStatus;
  readonly viewers?: number | null;
  /** Minutes after T0; null: never started. */
  readonly started?: number | null;
  readonly updated?: number;
  readonly title?: string | null;
  readonly name?: string | null;
  readonly tags?: string[];
  readonly isPublic?: boolean;
  readonly seq?: number;
  /** What our audience beacons counted (issue 27). */
  readonly engagement?: Engagement;
}

function entry(fixture: Fixture): StreamEntry {
  const status = fixture.status ?? 'offline';
  const record: StreamRecord = {
    channel: fixture.channel,
    canonical_id: fixture.started === undefined || fixture.started === null ? null : `stream:${fixture.channel.replace('/', ':')}:01JNQX8Z5K3M7P9R2T4V6W8Y0A`,
    status,
    title: fixture.title ?? null,
    started_at: fixture.started === undefined || fixture.started === null ? null : at(fixture.started),
    viewer_count: fixture.viewers ?? null,
    tags: fixture.tags ?? [],
    badge: { label: status === 'live' ? 'LIVE' : 'OFFLINE', color: '#e00', animate: status === 'live' },
    is_public: fixture.isPublic ?? true,
    updated_at: at(fixture.updated ?? 0),
    seq: fixture.seq ?? 1,
  };
  return streamEntry(record, fixture.name ?? null, fixture.engagement);
}

const request = (overrides: Partial<StreamPageRequest> = {}): StreamPageRequest => ({ sort: 'trending', limit: 20, tags: [], ...overrides });
const channels = (entries: readonly StreamEntry[]) => entries.map((item) => item.channel);

/** Follows `next` through every page, as a client following `next_cursor` would (through the encoded cursor). */
function allPages(entries: readonly StreamEntry[], base: StreamPageRequest): string[][] {
  const sorted = sortStreams(entries, base.sort);
  const pages: string[][] = [];
  let page = pageStreams(sorted, base);
  for (;;) {
    pages.push(channels(page.entries));
    if (!page.next) return pages;
    const after = decodeStreamCursor(encodeStreamCursor(base, page.next), base);
    assert.equal(typeof after, 'object', 'our own cursor decodes');
    page = pageStreams(sorted, { ...base, after: after as Exclude<typeof after, string> });
    assert.ok(pages.length < 100, 'paging ends');
  }
}

const FLEET: Fixture[] = [
  { channel: 'news/evening', status: 'live', viewers: 50, started: 30 },
  { channel: 'acme/morning-show', status: 'live', viewers: 900, started: 10, tags: ['News', 'Talk'], title: 'Morning news, live', name: 'Acme Morning Show' },
  { channel: 'games/speedrun', status: 'live', viewers: 50, started: 40, tags: ['Games'] },
  { channel: 'games/chess', status: 'live', viewers: 50, started: 40, tags: ['games', 'Chess'] },
  { channel: 'games/retro', status: 'live', viewers: null, started: 45 },
  { channel: 'music/jazz', status: 'scheduled', started: null, updated: 50 },
  { channel: 'music/rock', status: 'offline', started: 5, updated: 20 },
  { channel: 'music/folk', status: 'offline', started: null, updated: 60 },
  { channel: 'music/blues', status: 'offline', started: null, updated: 60 },
  { channel: 'secret/hidden', status: 'live', viewers: 5000, started: 1, isPublic: false },
];

describe('sortStreams', () => {
  const table: Array<{ name: string; sort: StreamSort; expected: string[] }> = [
    {
      name: 'trending: live by viewers, unknown counts after known, ties by newer start then channel; scheduled before offline',
      sort: 'trending',
      expected: [
        'acme/morning-show',
        'games/chess', // 50 viewers, started 40: ties with speedrun, channel breaks it
        'games/speedrun',
        'news/evening', // 50 viewers, started 30
        'games/retro', // unknown viewers
        'music/jazz',
        'music/rock', // offline, started once
        'music/blues', // offline, never started: channel order
        'music/folk',
      ],
    },
    {
      name: 'recent: newest start first, never started after by newest update, then channel',
      sort: 'recent',
      expected: ['games/retro', 'games/chess', 'games/speedrun', 'news/evening', 'acme/morning-show', 'music/rock', 'music/blues', 'music/folk', 'music/jazz'],
    },
  ];
  for (const { name, sort, expected } of table) {
    it(name, () => {
      const public_ = FLEET.map(entry);
      const page = queryStreams(public_, request({ sort, limit: 100 }));
      assert.deepEqual(channels(page.entries), expected);
      assert.equal(page.next, undefined);
      // The order does not depend on the input order.
      assert.deepEqual(channels(queryStreams([...public_].reverse(), request({ sort, limit: 100 })).entries), expected);
    });
  }
});

describe('pageStreams filters', () => {
  const fleet = FLEET.map(entry);
  const table: Array<{ name: string; filters: Partial<StreamPageRequest>; expected: string[] }> = [
    { name: 'status=live', filters: { status: 'live' }, expected: ['acme/morning-show', 'games/chess', 'games/speedrun', 'news/evening', 'games/retro'] },
    { name: 'status=scheduled', filters: { status: 'scheduled' }, expected: ['music/jazz'] },
    { name: 'status=offline includes channels that never went live', filters: { status: 'offline' }, expected: ['music/rock', 'music/blues', 'music/folk'] },
    { name: 'one tag, case-insensitive, whole tag', filters: { tags: [foldText('GAMES')] }, expected: ['games/chess', 'games/speedrun'] },
    { name: 'a tag prefix is not the tag', filters: { tags: ['gam'] }, expected: [] },
    { name: 'several tags: all of them', filters: { tags: ['games', 'chess'] }, expected: ['games/chess'] },
    { name: 'q over the broadcast title', filters: { q: foldText('NEWS, LIVE') }, expected: ['acme/morning-show'] },
    { name: 'q over the configured channel name', filters: { q: 'acme morning' }, expected: ['acme/morning-show'] },
    { name: 'q over publisher/slug', filters: { q: 'music/' }, expected: ['music/jazz', 'music/rock', 'music/blues', 'music/folk'] },
    { name: 'q is NFKC-folded like the text (fullwidth letters)', filters: { q: foldText('ＪＡＺＺ') }, expected: ['music/jazz'] },
    { name: 'q matching nothing', filters: { q: 'zzz-nothing' }, expected: [] },
    { name: 'filters combine', filters: { status: 'live', tags: ['news'], q: 'morning' }, expected: ['acme/morning-show'] },
    { name: 'a non-public stream is never listed, whatever matches it', filters: { q: 'secret' }, expected: [] },
  ];
  for (const { name, filters, expected } of table) {
    it(name, () => {
      const page = pageStreams(sortStreams(fleet, 'trending'), request({ ...filters, limit: 100 }));
      assert.deepEqual(channels(page.entries), expected);
    });
  }
});

describe('pageStreams paging', () => {
  it('pages through everything exactly once, for every limit and both orders', () => {
    const fleet = FLEET.map(entry);
    for (const sort of ['trending', 'recent'] as const) {
      const everything = channels(queryStreams(fleet, request({ sort, limit: 100 })).entries);
      for (let limit = 1; limit <= 10; limit++) {
        const pages = allPages(fleet, request({ sort, limit }));
        assert.deepEqual(pages.flat(), everything, `${sort} limit ${limit}`);
        assert.ok(pages.every((page) => page.length <= limit));
        assert.equal(pages.length, Math.max(1, Math.ceil(everything.length / limit)), 'no trailing empty page');
      }
    }
  });

  it('is stable under complete ties: the channel name decides, pages neither repeat nor skip', () => {
    const tied = Array.from({ length: 25 }, (_, index) => entry({ channel: `tie/c${String(index).padStart(2, '0')}`, status: 'live', viewers: 7, started: 3 }));
    const pages = allPages(tied.reverse(), request({ limit: 4 }));
    assert.equal(pages.length, 7);
    assert.deepEqual(pages.flat(), Array.from({ length: 25 }, (_, index) => `tie/c${String(index).padStart(2, '0')}`));
  });

  it('a cursor names a position, not an offset: entries added before it do not repeat items on the next page', () => {
    const fleet = FLEET.map(entry);
    const first = pageStreams(sortStreams(fleet, 'trending'), request({ limit: 3 }));
    assert.deepEqual(channels(first.entries), ['acme/morning-show', 'games/chess', 'games/speedrun']);
    const grown = [...fleet, entry({ channel: 'big/new', status: 'live', viewers: 10_000, started: 50 })];
    const second = pageStreams(sortStreams(grown, 'trending'), request({ limit: 3, after: first.next! }));
    assert.deepEqual(channels(second.entries), ['news/evening', 'games/retro', 'music/jazz']);
  });

  it('a cursor after the last entry gives an empty page and no next cursor', () => {
    const fleet = FLEET.map(entry);
    const sorted = sortStreams(fleet, 'trending');
    const page = pageStreams(sorted, request({ limit: 3, after: { key: [9, 9, 9], channel: 'zz/zz' } }));
    assert.deepEqual(page, { entries: [], next: undefined });
  });

  it('with a filter, next is set only when another MATCHING entry follows', () => {
    const fleet = FLEET.map(entry);
    const sorted = sortStreams(fleet, 'trending');
    const exact = pageStreams(sorted, request({ status: 'scheduled', limit: 1 }));
    assert.deepEqual(channels(exact.entries), ['music/jazz']);
    assert.equal(exact.next, undefined, 'offline entries follow, but none is scheduled');
    const more = pageStreams(sorted, request({ tags: ['games'], limit: 1 }));
    assert.ok(more.next);
  });
});

describe('stream cursors', () => {
  const scope = request({ status: 'live', tags: ['games'], q: 'x' });
  const position = { key: [0, -50, -T0], channel: 'games/chess' };

  it('round-trip exactly, and are bound to the order and the filters', () => {
    const cursor = encodeStreamCursor(scope, position);
    assert.match(cursor, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{12}$/);
    assert.deepEqual(decodeStreamCursor(cursor, scope), position);
    assert.deepEqual(decodeStreamCursor(cursor, { ...scope, tags: ['games', 'games'] }), position, 'tags are a set');
    assert.equal(decodeStreamCursor(cursor, { ...scope, sort: 'recent' }), 'other_query');
    assert.equal(decodeStreamCursor(cursor, { ...scope, status: 'offline' }), 'other_query');
    assert.equal(decodeStreamCursor(cursor, { ...scope, q: 'y' }), 'other_query');
    assert.equal(decodeStreamCursor(cursor, { ...scope, tags: [] }), 'other_query');
  });

  it('refuse every tampered, truncated or forged form as malformed', () => {
    const cursor = encodeStreamCursor(scope, position);
    const [payload, check] = cursor.split('.') as [string, string];
    const flip = (text: string, index: number) => text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
    /** A payload of the right checksum but a shape we never issue: the checksum is not what keeps it out. */
    const forged = (value: unknown) => {
      const encoded = Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encoded}.${createHash('sha256').update(`live-upload/stream-cursor/v1\n${encoded}`).digest('base64url').slice(0, 12)}`;
    };
    const fingerprintOf = (text: string) => JSON.parse(Buffer.from(text.split('.')[0]!, 'base64url').toString()).f as string;
    const f = fingerprintOf(cursor);
    assert.deepEqual(decodeStreamCursor(forged({ v: 1, s: 'trending', f, k: [0, -1, -2], c: 'a/b' }), scope), { key: [0, -1, -2], channel: 'a/b' }, 'the forging helper is right');
    for (const bad of [
      '',
      'abc',
      '.',
      cursor.slice(0, -1),
      cursor.slice(1),
      `${cursor}x`,
      flip(cursor, 5),
      flip(cursor, cursor.length - 2),
      `${payload}.${flip(check, 0)}`,
      `${payload}`,
      `${payload}..${check}`,
      cursor.replace('.', '!'),
      `${'A'.repeat(600)}.${check}`,
      `${payload}.${check}`.replace(/^./, (first) => (first === 'e' ? 'f' : 'e')),
      forged({ v: 2, s: 'trending', f, k: [0, 0, 0], c: 'a/b' }),
      forged({ v: 1, s: 'hot', f, k: [0, 0, 0], c: 'a/b' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0], c: 'a/b' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, 0.5], c: 'a/b' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, 1e300], c: 'a/b' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, '0'], c: 'a/b' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, 0], c: '../etc' }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, 0], c: 'a/b', extra: true }),
      forged({ v: 1, s: 'trending', f, k: [0, 0, 0] }),
      forged([1, 2, 3]),
      forged('text'),
    ]) {
      assert.equal(decodeStreamCursor(bad, scope), 'malformed', JSON.stringify(bad.slice(0, 40)));
    }
  });
});

describe('summarizeStream', () => {
  it('lists the small summary with the landing page URL, and no providers, sources or raw event', () => {
    const item = summarizeStream(entry(FLEET[1]!), 'https://live.example/');
    assert.deepEqual(item, {
      channel: 'acme/morning-show',
      channel_name: 'Acme Morning Show',
      canonical_id: 'stream:acme:morning-show:01JNQX8Z5K3M7P9R2T4V6W8Y0A',
      status: 'live',
      title: 'Morning news, live',
      started_at: at(10),
      viewer_count: 900,
      tags: ['News', 'Talk'],
      badge: { label: 'LIVE', color: '#e00', animate: true },
      url: 'https://live.example/c/acme/morning-show',
    });
    assert.equal(summarizeStream(entry({ channel: 'a/b' }), 'https://live.example').channel_name, 'a/b', 'no configured title: the channel ref');
  });
});

describe('trending by engagement (issue 27)', () => {
  it('scores viewers x (1 + clips + watch hours), the higher of theirs and our viewers', () => {
    assert.equal(trendingScore(null, undefined), null);
    assert.equal(trendingScore(120, undefined), 120);
    assert.equal(trendingScore(0, undefined), 0);
    assert.equal(trendingScore(100, { viewers: 10, clips: 2, watchMinutes: 90, viewersAtMs: 0 }), 450);
    assert.equal(trendingScore(null, { viewers: 10, clips: 0, watchMinutes: 30, viewersAtMs: 0 }), 15);
    assert.equal(trendingScore(5, { viewers: 40, clips: 1, watchMinutes: 0, viewersAtMs: 0 }), 80);
  });

  it('ages our viewers out when no beacon counted them for three minutes, keeping clips and watch time', () => {
    const engagement = { viewers: 40, clips: 1, watchMinutes: 60, viewersAtMs: T0 };
    assert.equal(engagementAt(engagement, T0 + 3 * 60_000), engagement);
    assert.deepEqual(engagementAt(engagement, T0 + 3 * 60_000 + 1), { ...engagement, viewers: 0 });
    assert.equal(engagementAt(undefined, T0), undefined);
  });

  it('pins the order: engagement lifts a smaller stream above a bigger idle one; unknown last; live before offline', () => {
    const fleet = [
      entry({ channel: 'a/big-idle', status: 'live', viewers: 300, started: 10 }),
      entry({ channel: 'a/clipped', status: 'live', viewers: 100, started: 20, engagement: { viewers: 60, clips: 3, watchMinutes: 120, viewersAtMs: 0 } }),
      entry({ channel: 'a/watched', status: 'live', viewers: 200, started: 30, engagement: { viewers: 150, clips: 0, watchMinutes: 60, viewersAtMs: 0 } }),
      entry({ channel: 'a/ours-only', status: 'live', viewers: null, started: 40, engagement: { viewers: 50, clips: 1, watchMinutes: 30, viewersAtMs: 0 } }),
      entry({ channel: 'a/unknown', status: 'live', viewers: null, started: 50 }),
      entry({ channel: 'a/tie-old', status: 'live', viewers: 125, started: 1 }),
      entry({ channel: 'a/ended', status: 'offline', viewers: null, started: 5, engagement: { viewers: 900, clips: 50, watchMinutes: 9000, viewersAtMs: 0 } }),
    ];
    // clipped 100 x (1 + 3 + 2) = 600; watched 200 x 2 = 400; big-idle 300; ours-only 50 x 1.5 = 125 (newer start than tie-old's 125).
    assert.deepEqual(channels(sortStreams(fleet, 'trending')), ['a/clipped', 'a/watched', 'a/big-idle', 'a/ours-only', 'a/tie-old', 'a/unknown', 'a/ended']);
    assert.deepEqual(allPages(fleet, request({ limit: 2 })).flat(), ['a/clipped', 'a/watched', 'a/big-idle', 'a/ours-only', 'a/tie-old', 'a/unknown', 'a/ended']);
  });
});
