import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestError } from './ingest-error.js';
import { parseMediaPlaylist, parsePlaylist, pickVariant, type MasterPlaylist } from './media-playlist.js';

const BASE = new URL('https://cdn.example.com/live/channel/index.m3u8?token=abc');
const LIMITS = { maxPlaylistSegments: 1_000 };

const LIVE = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1765000000
#EXT-X-DISCONTINUITY-SEQUENCE:3
#EXT-X-PROGRAM-DATE-TIME:2026-12-06T22:00:00.000Z
#EXTINF:2.000,
segment-1765000000.ts
#EXTINF:2.000,
segment-1765000001.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-12-06T22:05:00.000Z
#EXTINF:1.500,
https://other.example.net/abs/segment-1765000002.ts
`;

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof IngestError, String(error));
    return error.reason;
  }
  assert.fail('expected an IngestError');
}

describe('parsePlaylist', () => {
  it('reads what the ingest needs from a live media playlist', () => {
    const playlist = parseMediaPlaylist(LIVE, BASE, LIMITS);
    assert.equal(playlist.targetDurationS, 2);
    assert.equal(playlist.mediaSequence, 1765000000);
    assert.equal(playlist.discontinuitySequence, 3);
    assert.equal(playlist.endlist, false);
    assert.deepEqual(
      playlist.segments.map((segment) => [segment.sequence, segment.url, segment.durationS, segment.discontinuity, segment.discontinuitySequence, segment.programDateTime]),
      [
        [1765000000, 'https://cdn.example.com/live/channel/segment-1765000000.ts', 2, false, 3, '2026-12-06T22:00:00.000Z'],
        [1765000001, 'https://cdn.example.com/live/channel/segment-1765000001.ts', 2, false, 3, '2026-12-06T22:00:02.000Z'],
        [1765000002, 'https://other.example.net/abs/segment-1765000002.ts', 1.5, true, 4, '2026-12-06T22:05:00.000Z'],
      ],
    );
  });

  it('reads EXT-X-ENDLIST, the playlist type, EXT-X-MAP and EXT-X-GAP', () => {
    const playlist = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\na.m4s\n#EXT-X-GAP\n#EXTINF:4,\nb.m4s\n#EXT-X-ENDLIST\n',
      BASE,
      LIMITS,
    );
    assert.equal(playlist.endlist, true);
    assert.equal(playlist.playlistType, 'VOD');
    assert.equal(playlist.mediaSequence, 0);
    assert.equal(playlist.segments[0]!.initUrl, 'https://cdn.example.com/live/channel/init.mp4');
    assert.deepEqual(playlist.segments.map((segment) => segment.gap), [false, true]);
  });

  it('reads a playlist whose EXT-X-MAP comes before any segment as empty', () => {
    const playlist = parseMediaPlaylist('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI="init.mp4"\n', BASE, LIMITS);
    assert.deepEqual(playlist.segments, []);
  });

  it('refuses a master playlist where a media playlist is expected, and picks the highest-bandwidth variant', () => {
    const text = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720\n720p.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=9000000,URI="iframes.m3u8"\n';
    assert.equal(reasonOf(() => parseMediaPlaylist(text, BASE, LIMITS)), 'master_playlist');
    const master = parsePlaylist(text, BASE, LIMITS) as MasterPlaylist;
    assert.equal(master.kind, 'master');
    assert.equal(pickVariant(master).url, 'https://cdn.example.com/live/channel/720p.m3u8');
    assert.equal(reasonOf(() => pickVariant({ kind: 'master', variants: [] })), 'not_a_playlist');
  });

  it('refuses what is not a playlist, with the reason', () => {
    assert.equal(reasonOf(() => parsePlaylist('<!doctype html><html></html>', BASE, LIMITS)), 'not_a_playlist');
    assert.equal(reasonOf(() => parsePlaylist('', BASE, LIMITS)), 'not_a_playlist');
    assert.equal(reasonOf(() => parsePlaylist('#EXTM3U\n#EXTINF:2,\na.ts\n', BASE, LIMITS)), 'not_a_playlist'); // no target duration
    assert.equal(reasonOf(() => parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:7200,\na.ts\n', BASE, LIMITS)), 'not_a_playlist'); // a lying EXTINF
    assert.equal(reasonOf(() => parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n#EXTINF:2,\na.ts\n', BASE, LIMITS)), 'not_a_playlist');
  });

  it('refuses URIs that are not http(s)', () => {
    for (const uri of ['file:///etc/passwd', 'data:video/mp2t;base64,AAAA', 'javascript:alert(1)']) {
      assert.equal(reasonOf(() => parsePlaylist(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${uri}\n`, BASE, LIMITS)), 'bad_url', uri);
    }
  });

  it('refuses encrypted and byte-range playlists as unsupported', () => {
    assert.equal(reasonOf(() => parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:2,\na.ts\n', BASE, LIMITS)), 'unsupported_playlist');
    assert.equal(reasonOf(() => parsePlaylist('#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-BYTERANGE:1000@0\n#EXTINF:2,\na.ts\n', BASE, LIMITS)), 'unsupported_playlist');
  });

  it('counts segments before parsing: more than the cap is refused', () => {
    const text = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${'#EXTINF:1,\na.ts\n'.repeat(1_001)}`;
    assert.equal(reasonOf(() => parsePlaylist(text, BASE, LIMITS)), 'too_many_segments');
    assert.equal(parseMediaPlaylist(text, BASE, { maxPlaylistSegments: 1_001 }).segments.length, 1_001);
  });
});
