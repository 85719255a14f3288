import { expect } from '@open-wc/testing';
import { describe, it } from '../testing/mocha.js';
import { encodeArgs, isUploadReady, parseMediaInfo, progressFromLog, remuxArgs, targetVideoBitrate } from './ffmpeg-args.js';

const MP4_LOG = [
  "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in':",
  '  Duration: 00:00:06.04, start: 0.000000, bitrate: 1540 kb/s',
  '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 1400 kb/s, 25 fps',
  '  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 64 kb/s',
];
const WEBM_LOG = [
  "Input #0, matroska,webm, from 'in':",
  '  Duration: N/A, start: 0.000000, bitrate: N/A',
  '  Stream #0:0(eng): Video: vp8, yuv420p(progressive), 640x480, SAR 1:1 DAR 4:3, 30 fps',
  '  Stream #0:1(eng): Audio: opus, 48000 Hz, mono, fltp (default)',
];

describe('ffmpeg arguments and reports', () => {
  it('reads container, codecs, size and duration from ffmpeg\'s report', () => {
    expect(parseMediaInfo(MP4_LOG)).to.deep.equal({ container: 'mov,mp4,m4a,3gp,3g2,mj2', videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, durationS: 6.04 });
    expect(parseMediaInfo(WEBM_LOG)).to.deep.include({ container: 'matroska,webm', videoCodec: 'vp8', audioCodec: 'opus', width: 640, height: 480, durationS: undefined });
    expect(parseMediaInfo(['garbage', '', 'Stream #0:0: Video:'])).to.deep.include({ videoCodec: undefined, container: undefined });
  });

  it('uploads H.264/AAC MP4 up to 720p as is, and normalises everything else', () => {
    expect(isUploadReady(parseMediaInfo(MP4_LOG))).to.equal(true);
    expect(isUploadReady(parseMediaInfo(WEBM_LOG))).to.equal(false);
    const tall = parseMediaInfo(MP4_LOG.map((line) => line.replace('1280x720', '1920x1080')));
    expect(isUploadReady(tall)).to.equal(false);
    const portrait = parseMediaInfo(MP4_LOG.map((line) => line.replace('1280x720', '720x1280')));
    expect(isUploadReady(portrait)).to.equal(true);
    const opus = parseMediaInfo(MP4_LOG.map((line) => line.replace('Audio: aac', 'Audio: opus')));
    expect(isUploadReady(opus)).to.equal(false);
  });

  it('stream-copies a cut with input seeking (keyframe cut) and faststart', () => {
    expect(remuxArgs('in', 'out.mp4', { startMs: 1500, durationMs: 6000 })).to.deep.equal(
      ['-hide_banner', '-ss', '1.500', '-i', 'in', '-t', '6.000', '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy', '-movflags', '+faststart', '-y', 'out.mp4'],
    );
    expect(remuxArgs('in', 'out.mp4', { startMs: -5, durationMs: 1 })[2]).to.equal('0.000');
  });

  it('re-encodes to H.264/AAC at most 720 lines, with a size target when asked', () => {
    const crf = encodeArgs('in', 'out.mp4');
    expect(crf).to.include.members(['libx264', 'aac', '-crf', '23', '+faststart']);
    expect(crf.join(' ')).to.contain("scale='if(gte(iw,ih),-2,min(720,iw))':'if(gte(iw,ih),min(720,ih),-2)'");
    const sized = encodeArgs('in', 'out.mp4', { targetBytes: 5_000_000, durationMs: 30_000, cut: { startMs: 0, durationMs: 20_000 } });
    const bitrate = sized[sized.indexOf('-b:v') + 1];
    expect(Number(bitrate)).to.equal(targetVideoBitrate(5_000_000, 20_000));
    expect(sized).to.not.include('-crf');
    expect(targetVideoBitrate(1, 60_000), 'never below 100 kbit/s').to.equal(100_000);
  });

  it('turns ffmpeg\'s time= log into a clamped fraction', () => {
    expect(progressFromLog('frame=  50 fps=0.0 q=-1.0 size=  256kB time=00:00:03.00 bitrate=', 6000)).to.equal(0.5);
    expect(progressFromLog('time=00:01:00.00', 6000)).to.equal(1);
    expect(progressFromLog('time=-00:00:00.04', 6000)).to.equal(0);
    expect(progressFromLog('no time here', 6000)).to.equal(undefined);
    expect(progressFromLog('time=00:00:01.00', 0)).to.equal(undefined);
  });
});
