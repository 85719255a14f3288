import { expect } from '@open-wc/testing';
import { describe, it } from '../testing/mocha.js';
import { replayRemuxArgs } from './ffmpeg-args.js';
import { readLatestReplay } from './latest-replay.js';
import { clipVariant, parseMasterPlaylist, parseReplayMediaPlaylist, selectReplaySegments } from './replay-playlists.js';

const BASE = 'https://media.example/vod/acme/show/01JX0000000000000000000000/';
const MASTER = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5200000,AVERAGE-BANDWIDTH=5000000,RESOLUTION=1920x1080,FRAME-RATE=25.000,CODECS="avc1.640028,mp4a.40.2",AUDIO="audio"
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2800000,RESOLUTION=1280x720,FRAME-RATE=25.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360
javascript:alert(1)
`;
const MEDIA = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000000,
segment-00000.m4s
#EXTINF:4.000000,
segment-00001.m4s
#EXTINF:4.000000,
segment-00002.m4s
#EXTINF:2.500000,
segment-00003.m4s
#EXT-X-ENDLIST
`;

describe('replay playlists', () => {
  it('reads the ladder: rungs largest first, the audio rendition, absolute URLs, nothing but http(s)', () => {
    const master = parseMasterPlaylist(MASTER, `${BASE}master.m3u8`);
    expect(master.variants.map((variant) => [variant.height, variant.url])).to.deep.equal([
      [1080, `${BASE}1080p/index.m3u8`],
      [720, `${BASE}720p/index.m3u8`],
      [360, `${BASE}360p/index.m3u8`],
    ]);
    expect(master.audioUrl).to.equal(`${BASE}audio/index.m3u8`);
    expect(() => parseMasterPlaylist('<html>', BASE)).to.throw(TypeError);
  });

  it('clips from the largest rung an upload takes as is (at most 720 lines), else the smallest', () => {
    const { variants } = parseMasterPlaylist(MASTER, `${BASE}master.m3u8`);
    expect(clipVariant(variants, 720)?.height).to.equal(720);
    expect(clipVariant(variants.filter((variant) => variant.height > 720), 720)?.height).to.equal(1080);
    expect(clipVariant([], 720)).to.equal(undefined);
  });

  it('selects only the segments a range overlaps, and where the range lies in them', () => {
    const playlist = parseReplayMediaPlaylist(MEDIA, `${BASE}480p/index.m3u8`);
    expect(playlist.initUrl).to.equal(`${BASE}480p/init.mp4`);
    expect(playlist.segments.map((segment) => segment.startMs)).to.deep.equal([0, 4000, 8000, 12_000]);
    const selection = selectReplaySegments(playlist, 5000, 9000)!;
    expect(selection.segments.map((segment) => segment.url.split('/').pop())).to.deep.equal(['segment-00001.m4s', 'segment-00002.m4s']);
    expect(selection.offsetMs).to.equal(1000);
    expect(selection.durationMs).to.equal(4000);
    expect(selectReplaySegments(playlist, 8000, 12_000)!.segments, 'a range ending on a boundary does not take the next segment').to.have.length(1);
    expect(selectReplaySegments(playlist, 13_000, 99_000)!.durationMs, 'clamped to the end').to.equal(1500);
    expect(selectReplaySegments(playlist, 20_000, 30_000)).to.equal(undefined);
    expect(selectReplaySegments(playlist, 6000, 6000)).to.equal(undefined);
    expect(() => parseReplayMediaPlaylist('#EXTM3U\nsegment.m4s\n', BASE), 'a segment without a duration').to.throw(TypeError);
  });

  it('cuts the video rung and the audio rendition each at its own offset into one stream-copied MP4', () => {
    const args = replayRemuxArgs({ name: 'v', cut: { startMs: 1000, durationMs: 4000 } }, { name: 'a', cut: { startMs: 1020, durationMs: 4000 } }, 'out.mp4');
    expect(args.join(' ')).to.equal('-hide_banner -ss 1.000 -t 4.000 -i v -ss 1.020 -t 4.000 -i a -map 0:v:0 -map 1:a:0 -c copy -movflags +faststart -y out.mp4');
    expect(replayRemuxArgs({ name: 'v', cut: { startMs: 0, durationMs: 2000 } }, undefined, 'o.mp4')).to.include('0:a:0?');
  });
});

describe('latest replay in /status', () => {
  const id = 'stream:acme:morning-show:01JX0000000000000000000000';
  it('reads it with absolute URLs and the broadcast start from the canonical id', () => {
    const info = readLatestReplay({ latest_replay: { canonical_id: id, url: '/vod/acme/morning-show/01JX0000000000000000000000/master.m3u8', poster: null, duration_s: 12.5, ended_at: null } }, 'https://live.example/');
    expect(info).to.deep.include({ canonicalId: id, url: 'https://live.example/vod/acme/morning-show/01JX0000000000000000000000/master.m3u8', poster: undefined, durationMs: 12_500 });
    expect(info!.startedAtMs).to.be.a('number');
  });

  it('reads anything of the wrong shape as no replay', () => {
    expect(readLatestReplay({ latest_replay: null }, 'https://live.example/')).to.equal(undefined);
    expect(readLatestReplay({ latest_replay: { canonical_id: 'stream:acme', url: 'https://x/' } }, 'https://live.example/')).to.equal(undefined);
    expect(readLatestReplay({ latest_replay: { canonical_id: id, url: 'javascript:alert(1)' } }, 'https://live.example/')).to.equal(undefined);
    expect(readLatestReplay('nope', 'https://live.example/')).to.equal(undefined);
  });
});
