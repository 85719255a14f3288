import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ladderFfmpegArgs } from './ladder-ffmpeg-args.js';
import { planLadder, type LadderPlan } from './ladder-plan.js';

function planFor(width: number, height: number, frameRate: number, hasAudio: boolean): LadderPlan {
  const result = planLadder({ video: { width, height, rotationDeg: 0, sampleAspectRatio: 1, frameRate }, hasAudio, durationS: 20 }, { rungs: [720, 480, 360], segmentS: 2 });
  assert.ok(result.ok);
  return result.plan;
}

function valueOf(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

describe('ladderFfmpegArgs', () => {
  const args = ladderFfmpegArgs(planFor(1280, 720, 30, true), '/work/source.mp4', '/work/out');

  it('decodes once: one input, one split feeding every rung, the storyboard and the poster', () => {
    assert.equal(args.filter((arg) => arg === '-i').length, 1);
    assert.equal(valueOf(args, '-i'), 'file:/work/source.mp4');
    const graph = valueOf(args, '-filter_complex') ?? '';
    assert.match(graph, /^\[0:v:0\]split=5\[in0\]\[in1\]\[in2\]\[insb\]\[inposter\];/);
    assert.match(graph, /\[in0\]scale=1280:720,setsar=1,format=yuv420p\[v0\]/);
    assert.match(graph, /\[in2\]scale=640:360,/);
    assert.match(graph, /fps=1\/5,scale=160:90,setsar=1,tile=5x5\[storyboard\]/);
    assert.match(graph, /select=gte\(t\\,2\.000\)\*isnan\(prev_selected_t\),scale=1280:720/);
  });

  it('encodes each rung with its own rates and keyframes only on segment boundaries', () => {
    assert.equal(valueOf(args, '-b:v:0'), '2800k');
    // 854x480 is a little over the table's 16:9 480p pixel count: interpolated, 1401k.
    assert.equal(valueOf(args, '-b:v:1'), '1401k');
    assert.equal(valueOf(args, '-maxrate:v:1'), '2102k');
    assert.equal(valueOf(args, '-bufsize:v:2'), '1600k');
    assert.equal(valueOf(args, '-g'), '60');
    assert.equal(valueOf(args, '-keyint_min'), '60');
    assert.equal(valueOf(args, '-sc_threshold'), '0');
    assert.equal(valueOf(args, '-force_key_frames'), 'expr:gte(t,n_forced*2)');
    assert.equal(valueOf(args, '-hls_time'), '2');
  });

  it('searches motion cheaply on the lower rungs and only trims the search on the top one (veryfast only)', () => {
    assert.equal(valueOf(args, '-preset'), 'veryfast');
    assert.equal(valueOf(args, '-x264-params:v:0'), 'me=dia');
    assert.equal(valueOf(args, '-x264-params:v:1'), 'me=dia:subme=1:partitions=i8x8,i4x4');
    assert.equal(valueOf(args, '-x264-params:v:2'), 'me=dia:subme=1:partitions=i8x8,i4x4');
    const slower = planLadder({ video: { width: 1280, height: 720, rotationDeg: 0, sampleAspectRatio: 1, frameRate: 30 }, hasAudio: false, durationS: 20 }, { rungs: [720, 360], preset: 'medium' });
    assert.ok(slower.ok);
    const slowerArgs = ladderFfmpegArgs(slower.plan, '/work/source.mp4', '/work/out');
    assert.equal(valueOf(slowerArgs, '-preset'), 'medium');
    assert.ok(!slowerArgs.some((arg) => arg.startsWith('-x264-params')), 'a configured slower preset keeps its own search');
  });

  it('maps every rung into one fMP4 VOD HLS output with one shared audio group', () => {
    assert.deepEqual(
      args.filter((arg, i) => args[i - 1] === '-map'),
      ['[v0]', '[v1]', '[v2]', '0:a:0', '[storyboard]', '[poster]'],
    );
    assert.equal(valueOf(args, '-hls_segment_type'), 'fmp4');
    assert.equal(valueOf(args, '-hls_playlist_type'), 'vod');
    assert.equal(
      valueOf(args, '-var_stream_map'),
      'v:0,agroup:audio,name:720p v:1,agroup:audio,name:480p v:2,agroup:audio,name:360p a:0,agroup:audio,name:audio,default:yes',
    );
    assert.equal(valueOf(args, '-hls_segment_filename'), '/work/out/%v/segment-%05d.m4s');
    assert.ok(args.includes('/work/out/%v/index.m3u8'));
    assert.equal(args.at(-1), '/work/out/poster.jpg');
  });

  it('leaves audio out of a video-only ladder and caps a fast source with an fps filter', () => {
    const silent = ladderFfmpegArgs(planFor(1280, 720, 120, false), '/work/source.mp4', '/work/out');
    assert.equal(valueOf(silent, '-var_stream_map'), 'v:0,name:720p v:1,name:480p v:2,name:360p');
    assert.ok(!silent.includes('0:a:0') && !silent.includes('-c:a'));
    assert.match(valueOf(silent, '-filter_complex') ?? '', /^\[0:v:0\]fps=60,split=5/);
    assert.equal(valueOf(silent, '-g'), '120');
  });

  it('opens the source with the file protocol and known demuxers only', () => {
    assert.equal(valueOf(args, '-protocol_whitelist'), 'file');
    assert.doesNotMatch(valueOf(args, '-format_whitelist') ?? '', /hls|concat/);
    assert.throws(() => ladderFfmpegArgs(planFor(1280, 720, 30, true), 'relative.mp4', '/work/out'), /absolute/);
  });
});
