/**
 * Media benchmark (issue 4): on a generated 30 s 1280x720 30 fps H.264/AAC clip,
 *
 * - transcode speed of `transcodeForPublishing` (MP4 + HLS + poster, probe included) as a
 *   multiple of realtime, next to a bare `ffmpeg -i in -c:v libx264 -preset veryfast -c:a aac
 *   out.mp4` measured in the same run (the ratio is ours / baseline speed);
 * - latency of the moderation-relevant media steps on the same clip: magic bytes (`file-type`),
 *   ffprobe with packet counting + limits, perceptual hashes of up to 8 sampled frames as the
 *   check samples them (keyframes only when the clip has enough of them).
 *
 * Rounds alternate baseline/ours to spread machine noise; figures are medians. Not part of
 * `npm test`: `node --import tsx bench/media.ts [--rounds=N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  checkMediaLimits,
  isAllowedVideoType,
  matchesBlocklist,
  probeMedia,
  runFfmpeg,
  sniffFileType,
  transcodeForPublishing,
} from '../server/src/media/index.js';
import { sampleUploadFrameHashes } from '../server/src/media/perceptual-hash.js';
import { fmt, median, table } from './support/stats.js';

export interface MediaBenchOptions {
  readonly clipSeconds?: number;
  /** An existing clip of `clipSeconds` to measure instead of generating one (bench/upload.ts shares its clip). */
  readonly clip?: string;
  readonly rounds?: number;
  readonly log?: (line: string) => void;
}

export interface MediaBenchResult {
  readonly clipSeconds: number;
  /** Realtime multiples (clip seconds / wall seconds), medians over the rounds. */
  readonly oursRealtime: number;
  readonly baselineRealtime: number;
  readonly ratio: number;
  /** Milliseconds, medians. */
  readonly moderationMs: { readonly sniff: number; readonly probe: number; readonly phash: number; readonly total: number };
}

const TIMEOUT_MS = 10 * 60_000;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export async function runMediaBench(options: MediaBenchOptions = {}): Promise<MediaBenchResult> {
  const clipSeconds = options.clipSeconds ?? 30;
  const rounds = options.rounds ?? 2;
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), 'live-upload-bench-media-'));
  try {
    const clip = options.clip ?? join(dir, 'clip-720p.mp4');
    if (!options.clip) {
      log(`generating a ${clipSeconds} s 1280x720 H.264/AAC clip...`);
      await runFfmpeg(
        [
          '-y', '-v', 'error',
          '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${clipSeconds}`,
          '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${clipSeconds}`,
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip,
        ],
        { timeoutMs: TIMEOUT_MS },
      );
    }

    const baselineMs: number[] = [];
    const oursMs: number[] = [];
    const sniffMs: number[] = [];
    const probeMs: number[] = [];
    const phashMs: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const baseline = await timed(() =>
        runFfmpeg(['-y', '-v', 'error', '-i', clip, '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', join(dir, `baseline-${round}.mp4`)], {
          timeoutMs: TIMEOUT_MS,
        }),
      );
      baselineMs.push(baseline.ms);
      const ours = await timed(() => transcodeForPublishing(clip, join(dir, `published-${round}`), { inputDurationS: clipSeconds, timeoutMs: TIMEOUT_MS }));
      oursMs.push(ours.ms);

      const sniff = await timed(() => sniffFileType(clip));
      if (!isAllowedVideoType(sniff.value)) throw new Error(`bench clip sniffed as ${sniff.value?.mime}`);
      sniffMs.push(sniff.ms);
      const probe = await timed(async () => {
        const probed = await probeMedia(clip);
        return { probed, limits: checkMediaLimits(probed) };
      });
      if (!probe.value.limits.ok) throw new Error(`bench clip rejected: ${probe.value.limits.reasons.join('; ')}`);
      probeMs.push(probe.ms);
      const phash = await timed(async () => {
        const { hashes } = await sampleUploadFrameHashes(clip, { durationS: probe.value.probed.durationS ?? clipSeconds });
        return matchesBlocklist(hashes, ['0123456789abcdef']);
      });
      phashMs.push(phash.ms);
      log(`round ${round + 1}/${rounds}: baseline ${fmt(baseline.ms / 1000, 2)} s, ours ${fmt(ours.ms / 1000, 2)} s, ratio ${fmt(baseline.ms / ours.ms, 2)}, moderation ${fmt(sniff.ms + probe.ms + phash.ms, 0)} ms`);
    }

    const oursRealtime = clipSeconds / (median(oursMs) / 1000);
    const baselineRealtime = clipSeconds / (median(baselineMs) / 1000);
    const moderation = { sniff: median(sniffMs), probe: median(probeMs), phash: median(phashMs) };
    return {
      clipSeconds,
      oursRealtime,
      baselineRealtime,
      ratio: oursRealtime / baselineRealtime,
      moderationMs: { ...moderation, total: moderation.sniff + moderation.probe + moderation.phash },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatMediaBench(result: MediaBenchResult): string {
  const m = result.moderationMs;
  return [
    table([
      ['transcode', 'x realtime', `wall s per ${result.clipSeconds} s clip`],
      ['bare ffmpeg libx264 veryfast + aac (baseline)', fmt(result.baselineRealtime, 2), fmt(result.clipSeconds / result.baselineRealtime, 2)],
      ['transcodeForPublishing (MP4 + HLS + poster)', fmt(result.oursRealtime, 2), fmt(result.clipSeconds / result.oursRealtime, 2)],
    ]),
    `ratio ours / baseline speed: ${fmt(result.ratio, 2)}`,
    '',
    table([
      [`moderation media steps per ${result.clipSeconds} s clip`, 'ms'],
      ['magic bytes (file-type)', fmt(m.sniff, 1)],
      ['ffprobe -count_packets + limits', fmt(m.probe, 1)],
      ['perceptual hash, up to 8 frames (the check\'s sampler) + blocklist', fmt(m.phash, 1)],
      ['total', fmt(m.total, 1)],
    ]),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const roundsArg = process.argv.find((arg) => arg.startsWith('--rounds='));
  const rounds = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : undefined;
  const result = await runMediaBench(rounds && rounds > 0 ? { rounds } : {});
  console.log(`\n${formatMediaBench(result)}`);
}
