import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIdChannel, createCanonicalId, parseCanonicalId } from './canonical-id.js';
import { parseChannelRef } from './channel-ref.js';
import { defaultBadge } from './badge.js';
import { liveMetadataJsonSchema, liveMetadataSchema, liveStatusSummarySchema, summarizeLiveMetadata, type LiveMetadata } from './live-metadata.js';
import { isPlaybackUrl } from './playback-url.js';
import { SCHEMA_VERSION } from './version.js';

const startedAt = Date.parse('2026-03-01T18:00:00Z');

function record(overrides: Partial<LiveMetadata> = {}): LiveMetadata {
  return {
    version: SCHEMA_VERSION,
    canonical_id: createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedAt),
    channel: 'acme/morning-show',
    providers: { twitch: { id: '1', user_id: '42', login: 'acme', url: 'https://www.twitch.tv/acme' } },
    status: 'live',
    started_at: '2026-03-01T18:00:00Z',
    ended_at: null,
    title: 'Morning <b>show</b>',
    viewer_count: 12,
    latency_ms: null,
    is_public: true,
    tags: ['news'],
    badge: defaultBadge('live'),
    updated_at: '2026-03-01T18:00:01.250Z',
    seq: 3,
    sources: { status: { provider: 'twitch', at: '2026-03-01T18:00:00Z' } },
    ...overrides,
  };
}

describe('canonical id', () => {
  it('encodes the channel and the broadcast start time, and parses back', () => {
    const id = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedAt);
    assert.match(id, /^stream:acme:morning-show:[0-9A-Z]{26}$/);
    const parsed = parseCanonicalId(id);
    assert.equal(parsed?.publisher, 'acme');
    assert.equal(parsed?.slug, 'morning-show');
    assert.equal(parsed?.startedAtMs, startedAt);
  });

  it('sorts by broadcast start time', () => {
    const ref = { publisher: 'a', slug: 'b' };
    const later = createCanonicalId(ref, startedAt + 1000);
    const earlier = createCanonicalId(ref, startedAt);
    assert.ok(earlier < later);
  });

  it('refuses a channel that is not one', () => {
    assert.throws(() => createCanonicalId({ publisher: '../etc', slug: 'x' }, startedAt), RangeError);
    assert.equal(parseCanonicalId('stream:a:b:not-a-ulid'), undefined);
  });

  it('names its channel without decoding the time, and only for a canonical id', () => {
    const id = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedAt);
    assert.deepEqual(canonicalIdChannel(id), { publisher: 'acme', slug: 'morning-show' });
    for (const bad of ['stream:a:b:not-a-ulid', `stream:../x:b:${id.slice(-26)}`, `${id}:extra`, '']) assert.equal(canonicalIdChannel(bad), undefined, bad);
  });
});

describe('channel ref', () => {
  it('accepts publisher/slug and rejects traversal, case, and extra parts', () => {
    assert.deepEqual(parseChannelRef('acme/morning-show'), { publisher: 'acme', slug: 'morning-show' });
    for (const bad of ['../etc/passwd', 'acme/../x', 'Acme/show', 'acme', 'a/b/c', '-a/b', 'a/' + 'x'.repeat(40), 'a/b%2f', '']) {
      assert.equal(parseChannelRef(bad), undefined, bad);
    }
  });
});

describe('live metadata schema', () => {
  it('accepts a canonical record', () => {
    const canonical = record();
    assert.deepEqual(liveMetadataSchema.parse(canonical), canonical);
  });

  it('rejects a wrong version, a malformed canonical id and a negative viewer count', () => {
    assert.equal(liveMetadataSchema.safeParse(record({ version: '2025-01-1' as never })).success, false);
    assert.equal(liveMetadataSchema.safeParse(record({ canonical_id: 'stream:acme' })).success, false);
    assert.equal(liveMetadataSchema.safeParse(record({ viewer_count: -1 })).success, false);
  });

  it('summarizes to the fields a badge needs', () => {
    assert.deepEqual(Object.keys(summarizeLiveMetadata(record())).sort(), [
      'badge', 'channel', 'seq', 'started_at', 'status', 'title', 'viewer_count',
    ]);
  });

  it('lets a status summary list its latest replay, or null, or leave it out; the canonical record never carries it', () => {
    const summary = summarizeLiveMetadata(record());
    const replay = {
      canonical_id: createCanonicalId({ publisher: 'acme', slug: 'show' }, Date.UTC(2026, 0, 1)),
      url: 'https://live.example/vod/acme/show/x/master.m3u8',
      poster: null,
      duration_s: 12.5,
      ended_at: '2026-01-01T01:00:00.000Z',
    };
    assert.deepEqual(liveStatusSummarySchema.strict().parse({ ...summary, latest_replay: replay }).latest_replay, replay);
    assert.equal(liveStatusSummarySchema.strict().parse({ ...summary, latest_replay: null }).latest_replay, null);
    assert.equal(liveStatusSummarySchema.strict().safeParse(summary).success, true, 'the stream\'s summaries leave it out');
    assert.equal(liveStatusSummarySchema.safeParse({ ...summary, latest_replay: { ...replay, canonical_id: 'stream:acme' } }).success, false);
    assert.equal(liveStatusSummarySchema.safeParse({ ...summary, latest_replay: { ...replay, duration_s: -1 } }).success, false);
    assert.ok(!('latest_replay' in (liveMetadataJsonSchema() as { properties: Record<string, unknown> }).properties), 'not part of the signed record');
  });

  it('exports a JSON Schema naming every field', () => {
    const json = liveMetadataJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    for (const field of ['version', 'canonical_id', 'channel', 'providers', 'status', 'sources', 'seq', 'badge']) {
      assert.ok(field in json.properties, field);
    }
    assert.ok(json.required.includes('canonical_id'));
  });
});

describe('playback', () => {
  it('accepts a record with an http(s) HLS URL, and one without playback (same version)', () => {
    const withPlayback = record({ playback: { hls: 'https://cdn.example/live/index.m3u8' } });
    assert.deepEqual(liveMetadataSchema.parse(withPlayback), withPlayback);
    assert.equal(liveMetadataSchema.safeParse(record({ playback: { hls: 'http://127.0.0.1:8080/demo/live/index.m3u8' } })).success, true);
    assert.equal('playback' in liveMetadataSchema.parse(record()), false);
    assert.equal(withPlayback.version, '2026-01-1');
  });

  it('refuses scripts, data, files, relative paths, credentials, controls and oversize URLs', () => {
    const hostile: unknown[] = [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'data:application/vnd.apple.mpegurl;base64,I0VYVE0zVQ==',
      'file:///etc/passwd',
      'blob:https://a.example/1',
      'ftp://a.example/x.m3u8',
      '/demo/live/index.m3u8',
      '//a.example/x.m3u8',
      'index.m3u8',
      'http:/a.example/x.m3u8',
      'http:a.example',
      'https://',
      'https://user:secret@a.example/x.m3u8',
      'https://a.example/x.m3u8\njavascript:alert(1)',
      'https://a.example/ x.m3u8',
      'https://a.example/\u202ex.m3u8',
      `https://a.example/${'x'.repeat(2048)}`,
      '',
      42,
      null,
      { href: 'https://a.example/' },
      ['https://a.example/'],
    ];
    for (const hls of hostile) {
      assert.equal(isPlaybackUrl(hls), false, String(hls));
      assert.equal(liveMetadataSchema.safeParse(record({ playback: { hls } as never })).success, false, String(hls));
    }
    assert.equal(liveMetadataSchema.safeParse(record({ playback: 'https://a.example/x.m3u8' as never })).success, false);
  });

  it('names playback in the JSON Schema as an optional field', () => {
    const json = liveMetadataJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    assert.ok('playback' in json.properties);
    assert.ok(!json.required.includes('playback'));
  });
});
