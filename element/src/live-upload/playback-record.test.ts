import { expect } from '@open-wc/testing';
import { describe, it } from '../testing/mocha.js';
import { readPlaybackInfo } from './playback-record.js';

const ID = 'stream:acme:morning-show:01HV0000000000000000000000';

describe('readPlaybackInfo', () => {
  it('reads playback.hls, canonical_id and started_at from a record', () => {
    expect(readPlaybackInfo({ playback: { hls: 'https://cdn.example/live.m3u8' }, canonical_id: ID, started_at: '2026-03-01T18:00:00Z' }, 'https://live.example/')).to.deep.equal({
      hls: 'https://cdn.example/live.m3u8',
      canonicalId: ID,
      startedAtMs: Date.parse('2026-03-01T18:00:00Z'),
    });
  });

  it('resolves a relative playback URL against the endpoint', () => {
    expect(readPlaybackInfo({ playback: { hls: '/media/live/acme.m3u8' } }, 'https://live.example/base/').hls).to.equal('https://live.example/media/live/acme.m3u8');
  });

  it('reads hostile or missing fields as absent', () => {
    const hostile: unknown[] = [
      null,
      'live',
      42,
      { playback: 'https://x.example/a.m3u8' },
      { playback: { hls: 'javascript:alert(1)' } },
      { playback: { hls: 'data:text/html,<script>alert(1)</script>' } },
      { playback: { hls: `https://x.example/${'a'.repeat(3000)}` } },
      { playback: { hls: ['https://x.example/a.m3u8'] } },
      { playback: null, canonical_id: 'stream:../../etc', started_at: 'yesterday' },
      { canonical_id: { toString: () => ID }, started_at: 12 },
    ];
    for (const record of hostile) {
      expect(readPlaybackInfo(record, 'https://live.example/'), JSON.stringify(record)).to.deep.equal({ hls: undefined, canonicalId: undefined, startedAtMs: undefined });
    }
  });
});
