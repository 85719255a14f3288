import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveLadderFfmpegArgs, type LiveLadderOptions } from '../server/src/origin/live-ladder.js';
import type { LadderPlan } from '../server/src/vod/index.js';
import { paintClock } from './origin-clock-code.js';
import type { LadderReader } from './origin-clock-probe.js';

/** A running baseline ladder: its files are read from `read`, as the origin's are over HTTP. */
export interface LocalLadder {
  readonly read: LadderReader;
  readonly frames: () => number;
  /** Frames not handed over because ffmpeg had not taken the previous one yet. */
  readonly dropped: () => number;
  stop(): Promise<void>;
}

/**
 * The latency baseline of `bench/origin.ts`: the same synthetic frames (a moving gradient and
 * the burnt-in clock, painted the moment each is handed over) piped raw into one local ffmpeg
 * running exactly the live ladder's encode and HLS muxing (`liveLadderFfmpegArgs` from its
 * filter graph on: same rungs, preset, bitrates, 2 s keyframes, fMP4, `temp_file`), read
 * straight from its output directory. No WebRTC, no RTP, no mirror, no HTTP: what any HLS of
 * these frames costs, so ours / baseline is what the origin adds.
 */
export async function startLocalLadder(plan: LadderPlan, options: Pick<LiveLadderOptions, 'playlistSegments'>, width: number, height: number, fps: number): Promise<LocalLadder> {
  const dir = await mkdtemp(join(tmpdir(), 'origin-bench-baseline-'));
  const ladder = liveLadderFfmpegArgs(plan, 'unused.sdp', dir, options);
  // Timestamps are the frames' arrival (as RTP's are their capture), so a dropped frame leaves a gap the `fps` filter fills.
  const input = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-framerate', String(fps), '-use_wallclock_as_timestamps', '1', '-i', 'pipe:0'];
  const args = ['-y', '-v', 'error', ...input, ...ladder.slice(ladder.indexOf('-filter_complex'))];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'inherit'] });
  ffmpeg.stdin.on('error', () => undefined);
  const frame = new Uint8Array(width * height * 1.5);
  let frames = 0;
  let dropped = 0;
  const timer = setInterval(() => {
    // A live source does not queue behind a busy encoder (libwebrtc drops frames too): a frame ffmpeg has not taken yet is replaced, not followed.
    if (ffmpeg.stdin.writableLength > 0) {
      dropped += 1;
      return;
    }
    const shift = frames * 4;
    for (let row = 0; row < height; row += 1) frame.fill((row + shift) & 0xff, row * width, row * width + width);
    frame.fill(128, width * height);
    paintClock(frame, width, height, Date.now());
    // A copy: a write the pipe has not taken yet keeps a reference, and the next frame is painted into `frame`.
    ffmpeg.stdin.write(Buffer.from(frame));
    frames += 1;
  }, 1000 / fps);
  return {
    read: async (relativePath) => readFile(join(dir, relativePath)).catch(() => undefined),
    frames: () => frames,
    dropped: () => dropped,
    stop: async () => {
      clearInterval(timer);
      const exited = new Promise((resolve) => ffmpeg.once('exit', resolve));
      ffmpeg.stdin.end();
      setTimeout(() => ffmpeg.kill('SIGKILL'), 5000).unref();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
