import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avcCodecString, segmentBitrates, writeMasterPlaylist } from './master-playlist.js';
import { parseMediaPlaylist } from './media-playlist.js';

describe('writeMasterPlaylist', () => {
  const variant = { uri: '720p/index.m3u8', width: 1280, height: 720, frameRate: 30000 / 1001, videoCodec: 'avc1.64001f', peakBitrate: 3_000_000.4, averageBitrate: 2_500_000 };
  const audio = { uri: 'audio/index.m3u8', groupId: 'audio', name: 'Audio', codec: 'mp4a.40.2', channels: 2, peakBitrate: 130_000, averageBitrate: 128_000 };

  it('adds the audio group to each variant figure and names both codecs', () => {
    const text = writeMasterPlaylist({ variants: [variant, { ...variant, uri: '360p/index.m3u8', width: 640, height: 360, peakBitrate: 900_000, averageBitrate: 800_000, videoCodec: 'avc1.64001e' }], audio });
    const lines = text.trim().split('\n');
    assert.equal(lines[0], '#EXTM3U');
    assert.ok(lines.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
    assert.equal(lines[3], '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"');
    assert.equal(
      lines[4],
      '#EXT-X-STREAM-INF:BANDWIDTH=3130001,AVERAGE-BANDWIDTH=2628000,RESOLUTION=1280x720,FRAME-RATE=29.970,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
    );
    assert.equal(lines[5], '720p/index.m3u8');
    assert.match(lines[6]!, /RESOLUTION=640x360/);
    assert.equal(lines[7], '360p/index.m3u8');
  });

  it('writes a video-only master without an audio group', () => {
    const text = writeMasterPlaylist({ variants: [variant] });
    assert.doesNotMatch(text, /EXT-X-MEDIA|AUDIO=|mp4a/);
    assert.match(text, /CODECS="avc1.64001f"\n720p\/index.m3u8\n$/);
  });

  it('refuses an empty ladder and values that would break the attribute list', () => {
    assert.throws(() => writeMasterPlaylist({ variants: [] }), /at least one variant/);
    assert.throws(() => writeMasterPlaylist({ variants: [variant], audio: { ...audio, name: 'a"b' } }), /cannot be quoted/);
  });
});

describe('segmentBitrates', () => {
  it('takes the peak over full segments and the average over all bytes', () => {
    const result = segmentBitrates([
      { bytes: 100_000, durationS: 4 },
      { bytes: 200_000, durationS: 4 },
      { bytes: 10_000, durationS: 0.02 },
    ]);
    assert.equal(result.peak, 400_000);
    assert.equal(result.average, (310_000 * 8) / 8.02);
    assert.deepEqual(segmentBitrates([]), { peak: 0, average: 0 });
  });
});

describe('avcCodecString', () => {
  it('reads profile, constraint flags and level from the avcC box', () => {
    const box = Buffer.concat([Buffer.from([0, 0, 0, 20]), Buffer.from('avcC', 'latin1'), Buffer.from([1, 0x64, 0x00, 0x1f, 0xff])]);
    assert.equal(avcCodecString(Buffer.concat([Buffer.alloc(32), box])), 'avc1.64001f');
    const baseline = Buffer.concat([Buffer.from('avcC', 'latin1'), Buffer.from([1, 0x42, 0xc0, 0x1e])]);
    assert.equal(avcCodecString(baseline), 'avc1.42c01e');
    assert.throws(() => avcCodecString(Buffer.from('no such box here')), /no avcC/);
    assert.throws(() => avcCodecString(Buffer.from('avcC', 'latin1')), /no avcC/);
  });
});

describe('parseMediaPlaylist', () => {
  it('reads the init segment, durations and end of an ffmpeg fMP4 VOD playlist', () => {
    const playlist = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
        '#EXT-X-MAP:URI="init_0.mp4"\n#EXTINF:4.000000,\nsegment-00000.m4s\n#EXTINF:1.500000,\nsegment-00001.m4s\n#EXT-X-ENDLIST\n',
    );
    assert.deepEqual(playlist, {
      initUri: 'init_0.mp4',
      targetDurationS: 4,
      segments: [
        { uri: 'segment-00000.m4s', durationS: 4 },
        { uri: 'segment-00001.m4s', durationS: 1.5 },
      ],
      ended: true,
    });
  });

  it('rejects what is not a playlist and segments without a duration', () => {
    assert.throws(() => parseMediaPlaylist('<html>'), /not an HLS playlist/);
    assert.throws(() => parseMediaPlaylist('#EXTM3U\nsegment.m4s\n'), /has no #EXTINF/);
    assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXTINF:abc,\nsegment.m4s\n'), /bad segment duration/);
  });
});
