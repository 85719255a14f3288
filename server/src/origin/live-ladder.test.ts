import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIVE_LADDER_OPTIONS, fasterLadder, ladderSourceSize, lighterLadder, liveLadderFfmpegArgs, planLiveLadder, rtpInputSdp } from './live-ladder.js';

describe('the live ladder', () => {
  it('takes its rungs from the VOD rung plan: by the short side, never upscaled, 2 s GOPs', () => {
    const rungsOf = (width: number, height: number) => planLiveLadder({ width, height }, true).rungs.map((rung) => `${rung.width}x${rung.height}`);
    assert.deepEqual(rungsOf(1920, 1080), ['1920x1080', '1280x720', '854x480', '640x360']);
    assert.deepEqual(rungsOf(1280, 720), ['1280x720', '854x480', '640x360']);
    assert.deepEqual(rungsOf(640, 480), ['640x480', '480x360']);
    assert.deepEqual(rungsOf(720, 1280), ['720x1280', '480x854', '360x640'], 'a portrait phone');
    assert.deepEqual(rungsOf(320, 240), ['320x240'], 'smaller than every rung: its own size only');
    const plan = planLiveLadder({ width: 1280, height: 720 }, true);
    assert.equal(plan.segmentS, 2);
    assert.equal(plan.gop, 60);
    assert.ok(plan.audio);
    assert.equal(planLiveLadder({ width: 1280, height: 720 }, false).audio, undefined);
  });

  it('plans from the picture the offer declared when it is larger and of the same shape, fitted to the size limit', () => {
    const small = { width: 320, height: 180 };
    assert.deepEqual(ladderSourceSize(small, { width: 960, height: 540 }, 1080), { width: 960, height: 540 }, 'an encoder that started small');
    assert.deepEqual(ladderSourceSize(small, undefined, 1080), small, 'nothing declared');
    assert.deepEqual(ladderSourceSize({ width: 1280, height: 720 }, { width: 960, height: 540 }, 1080), { width: 1280, height: 720 }, 'what arrives is larger');
    assert.deepEqual(ladderSourceSize(small, { width: 640, height: 480 }, 1080), small, 'another shape: not this picture');
    assert.deepEqual(ladderSourceSize(small, { width: 3840, height: 2160 }, 720), { width: 1280, height: 720 }, 'fitted to the limit');
    assert.deepEqual(ladderSourceSize({ width: 180, height: 320 }, { width: 1080, height: 1920 }, 1080), { width: 1080, height: 1920 }, 'portrait');
  });

  it('asks ffmpeg for live fMP4 HLS: 2 s segments, program date-times, independent segments, temp files, a master playlist', () => {
    const plan = planLiveLadder({ width: 1280, height: 720 }, true);
    const args = liveLadderFfmpegArgs(plan, '/work/input.sdp', '/work/hls', DEFAULT_LIVE_LADDER_OPTIONS);
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(value('-protocol_whitelist'), 'file,udp,rtp');
    assert.equal(value('-i'), '/work/input.sdp');
    assert.equal(value('-hls_segment_type'), 'fmp4');
    assert.equal(value('-hls_time'), '2');
    assert.equal(value('-hls_flags'), 'independent_segments+program_date_time+temp_file+delete_segments');
    assert.equal(value('-master_pl_name'), 'master.m3u8');
    assert.equal(value('-var_stream_map'), 'v:0,agroup:audio,name:720p v:1,agroup:audio,name:480p v:2,agroup:audio,name:360p a:0,agroup:audio,name:audio,default:yes');
    assert.equal(value('-force_key_frames'), 'expr:gte(t,n_forced*2)');
    assert.equal(args.at(-1), '/work/hls/%v/index.m3u8');
    assert.ok(!args.includes('-hls_playlist_type'), 'a live playlist, not a VOD one');
  });

  it('describes the forwarded RTP in an SDP ffmpeg reads, audio first (read first when both wait: an ffmpeg behind on video still reads audio)', () => {
    const sdp = rtpInputSdp({ video: 40_000, audio: 40_002 }, { video: { codec: 'h264', payloadType: 102 }, audio: { payloadType: 111, channels: 2 } });
    assert.match(sdp, /\r\nt=0 0\r\nm=audio 40002 RTP\/AVP 111\r\na=rtpmap:111 opus\/48000\/2\r\nm=video /);
    assert.match(sdp, /\r\nm=video 40000 RTP\/AVP 102\r\na=rtpmap:102 H264\/90000\r\na=fmtp:102 packetization-mode=1\r\n$/);
    assert.doesNotMatch(rtpInputSdp({ video: 40_000 }, { video: { codec: 'vp8', payloadType: 96 } }), /m=audio/);
  });

  it('reports its progress on stdout for the pace check (stderr is for damage reports: at -v warning no stats line goes there)', () => {
    const args = liveLadderFfmpegArgs(planLiveLadder({ width: 1280, height: 720 }, true), '/work/input.sdp', '/work/hls', DEFAULT_LIVE_LADDER_OPTIONS);
    assert.equal(args[args.indexOf('-progress') + 1], 'pipe:1');
    assert.equal(args[args.indexOf('-stats_period') + 1], '0.5');
    assert.ok(args.indexOf('-progress') < args.indexOf('-i'), 'a global option, before the input');
  });

  it('gets lighter a rung at a time from the top, then at the fastest preset, then not at all', () => {
    const steps: string[] = [];
    for (let plan = lighterLadder(planLiveLadder({ width: 1920, height: 1080 }, true, { ...DEFAULT_LIVE_LADDER_OPTIONS, preset: 'veryfast' })); plan; plan = lighterLadder(plan)) {
      steps.push(`${plan.rungs.map((rung) => rung.name).join('+')} ${plan.preset}`);
      assert.ok(plan.audio, 'audio stays');
      assert.equal(plan.gop, 60, 'segments stay 2 s');
    }
    assert.deepEqual(steps, ['720p+480p+360p veryfast', '480p+360p veryfast', '360p veryfast', '360p ultrafast']);
    assert.equal(lighterLadder(planLiveLadder({ width: 640, height: 360 }, false, { ...DEFAULT_LIVE_LADDER_OPTIONS, rungs: [360], preset: 'ultrafast' })), undefined);
  });
  it('continues a live ladder with the same rungs at the fastest preset, numbered and timed on, with its own init segments', () => {
    const plan = planLiveLadder({ width: 1280, height: 720 }, true, { ...DEFAULT_LIVE_LADDER_OPTIONS, preset: 'veryfast' });
    const faster = fasterLadder(plan)!;
    assert.deepEqual(faster.rungs, plan.rungs, 'the variants viewers know stay');
    assert.equal(faster.preset, 'ultrafast');
    assert.equal(fasterLadder(faster), undefined, 'nothing faster');
    const args = liveLadderFfmpegArgs(faster, '/work/input.sdp', '/work/hls-3', DEFAULT_LIVE_LADDER_OPTIONS, { startNumber: 41, timestampOffsetS: 80.4666, replacement: 1 });
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(value('-start_number'), '41');
    assert.equal(value('-output_ts_offset'), '80.467');
    assert.equal(value('-hls_fmp4_init_filename'), 'init_r1_%v.mp4');
    assert.equal(value('-preset'), 'ultrafast');
    assert.ok(args.indexOf('-output_ts_offset') > args.indexOf('-i'), 'an output option');
    const first = liveLadderFfmpegArgs(plan, '/work/input.sdp', '/work/hls-0', DEFAULT_LIVE_LADDER_OPTIONS);
    assert.equal(first[first.indexOf('-hls_fmp4_init_filename') + 1], 'init.mp4');
    assert.ok(!first.includes('-start_number') && !first.includes('-output_ts_offset'));
  });
});
