/**
 * Moderation benchmark (issue 22): the full check set (`defaultModerationChecks`: magic bytes,
 * text, probe, perceptual hash, audio fingerprint, nudity, faces) on a generated 30 s 1280x720
 * 30 fps H.264/AAC clip, against today's checks before issue 22 (magic bytes, text, probe,
 * perceptual hash) on the same clip in the same run, round by round (baseline first).
 *
 * The clip has cuts (test pattern, a photo with a face, gradients) so the sampler takes scene
 * frames as well as the fixed rate; the blocklist has one unrelated hash and the audio list one
 * unrelated reference, so the hash and fingerprint checks decode as they would in production
 * instead of passing an empty list at once. Models are loaded before the rounds (once per
 * process, in the inference thread, as the server does) and their load time is printed apart.
 *
 * Goal: the full set within 1.5x the clip's duration on this 2-core machine. Also printed: ms per
 * frame per model (from the checks' `model_ms_per_frame`) and the frames sampled. Not part of
 * `npm test`: `node --import tsx bench/moderation.ts [--rounds=N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMemoryBus } from '../server/src/bus/index.js';
import { runFfmpeg } from '../server/src/media/index.js';
import {
  AudioReferences,
  HashBlocklist,
  builtInModerationRules,
  defaultModerationChecks,
  magicBytesCheck,
  mediaProbeCheck,
  perceptualHashCheck,
  runModerationCheck,
  textCheck,
  type CheckFacts,
  type CheckResult,
  type ModerationCheck,
} from '../server/src/moderation/index.js';
import { fingerprintAudioFile } from '../server/src/moderation/audio/index.js';
import { visionInferenceThread } from '../server/src/moderation/vision/index.js';
import { uploadRecordFixture } from '../test/support/upload-record-fixture.js';
import { fmt, median, table, verdict } from './support/stats.js';

export const MODERATION_GOAL = { maxDurationMultiple: 1.5 } as const;

export interface ModerationBenchOptions {
  readonly clipSeconds?: number;
  readonly rounds?: number;
  readonly log?: (line: string) => void;
}

export interface ModerationBenchResult {
  readonly clipSeconds: number;
  /** Medians over the rounds, ms. */
  readonly baselineMs: number;
  readonly oursMs: number;
  readonly ratios: readonly number[];
  /** The full set's time over the clip's duration (goal: at most 1.5). */
  readonly durationMultiple: number;
  readonly modelLoadMs: { readonly nudity: number; readonly faces: number };
  readonly sampledFrames: number;
  /** Per check name, ms (medians). */
  readonly checkMs: Readonly<Record<string, number>>;
  readonly msPerFrame: { readonly nudity: number; readonly faces: number };
}

const ASTRONAUT = fileURLToPath(new URL('../test/fixtures/faces/astronaut.jpg', import.meta.url));
const TIMEOUT_MS = 5 * 60_000;

export async function runModerationBench(options: ModerationBenchOptions = {}): Promise<ModerationBenchResult> {
  const clipSeconds = options.clipSeconds ?? 30;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), 'live-upload-bench-moderation-'));
  const bus = createMemoryBus();
  try {
    const clip = join(dir, 'clip-720p.mp4');
    const third = clipSeconds / 3;
    log(`generating a ${clipSeconds} s 1280x720 H.264/AAC clip (test pattern, a face, gradients)...`);
    await runFfmpeg(
      [
        '-y', '-v', 'error',
        '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${third}`,
        '-loop', '1', '-framerate', '30', '-t', String(third), '-i', ASTRONAUT,
        '-f', 'lavfi', '-i', `gradients=size=1280x720:rate=30:duration=${third}:speed=0.05`,
        '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${clipSeconds}`,
        '-filter_complex',
        '[0:v]format=yuv420p[a];[1:v]scale=720:720,pad=1280:720:280:0,setsar=1,format=yuv420p,fps=30[b];[2:v]format=yuv420p[c];[a][b][c]concat=n=3:v=1[v]',
        '-map', '[v]', '-map', '3:a',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip,
      ],
      { timeoutMs: TIMEOUT_MS },
    );
    const otherAudio = join(dir, 'reference.m4a');
    await runFfmpeg(['-y', '-v', 'error', '-f', 'lavfi', '-i', 'anoisesrc=duration=20:color=pink:seed=7', '-c:a', 'aac', otherAudio], { timeoutMs: TIMEOUT_MS });

    const blocklist = await HashBlocklist.open(bus);
    await blocklist.add({ hashes: ['0123456789abcdef'], label: 'bench: unrelated', uploadId: null, createdBy: 'bench' });
    const audio = await AudioReferences.open(bus);
    const reference = await fingerprintAudioFile(otherAudio, { maxDurationS: 60 });
    if (reference.kind !== 'fingerprinted') throw new Error(`the bench reference has no fingerprint: ${reference.kind}`);
    await audio.add({ frames: reference.frames, title: 'bench: pink noise', owner: null, notes: null, createdBy: 'bench' });

    const nudityLoad = await timed(() => visionInferenceThread().nudity());
    const facesLoad = await timed(() => visionInferenceThread().faces());
    log(`models loaded in the inference thread: nudity ${fmt(nudityLoad.ms, 0)} ms (with the thread's start), faces ${fmt(facesLoad.ms, 0)} ms (once per process)`);

    const today: ModerationCheck[] = [magicBytesCheck(), textCheck(), mediaProbeCheck(), perceptualHashCheck(blocklist)];
    const full = defaultModerationChecks(blocklist, {}, { audio });
    const upload = uploadRecordFixture({ upload_id: '01JBENCHMARK0000000000000A', status: 'checking' }, Date.now());
    const rules = { rules: builtInModerationRules(), version: 0, scope: 'default' };
    const runAll = async (checks: readonly ModerationCheck[]): Promise<CheckResult[]> => {
      const facts: CheckFacts = {};
      const results: CheckResult[] = [];
      for (const check of checks) results.push(await runModerationCheck(check, { path: clip, upload, facts, rules }));
      return results;
    };

    const baselineMs: number[] = [];
    const oursMs: number[] = [];
    const ratios: number[] = [];
    const perCheck = new Map<string, number[]>();
    const nudityPerFrame: number[] = [];
    const facesPerFrame: number[] = [];
    let sampledFrames = 0;
    for (let round = 0; round < rounds; round += 1) {
      const baseline = await timed(() => runAll(today));
      const ours = await timed(() => runAll(full));
      for (const result of ours.value) {
        if (result.result === 'error') throw new Error(`${result.name} errored: ${result.reason}`);
        perCheck.set(result.name, [...(perCheck.get(result.name) ?? []), result.duration_ms]);
        const perFrame = result.details?.['model_ms_per_frame'];
        if (typeof perFrame === 'number') (result.name === 'nudity' ? nudityPerFrame : facesPerFrame).push(perFrame);
        if (typeof result.details?.['sampled_frames'] === 'number') sampledFrames = result.details['sampled_frames'];
      }
      baselineMs.push(baseline.ms);
      oursMs.push(ours.ms);
      ratios.push(ours.ms / baseline.ms);
      const outcome = ours.value.map((result) => `${result.name} ${result.result}`).join(', ');
      log(
        `round ${round + 1}/${rounds}: today's checks ${fmt(baseline.ms, 0)} ms, full set ${fmt(ours.ms, 0)} ms ` +
          `(ratio ${fmt(ours.ms / baseline.ms, 2)}, ${fmt(ours.ms / 1000 / clipSeconds, 2)}x the clip) [${outcome}]`,
      );
    }
    const oursMedian = median(oursMs);
    return {
      clipSeconds,
      baselineMs: median(baselineMs),
      oursMs: oursMedian,
      ratios,
      durationMultiple: oursMedian / 1000 / clipSeconds,
      modelLoadMs: { nudity: nudityLoad.ms, faces: facesLoad.ms },
      sampledFrames,
      checkMs: Object.fromEntries([...perCheck].map(([name, values]) => [name, median(values)])),
      msPerFrame: { nudity: median(nudityPerFrame), faces: median(facesPerFrame) },
    };
  } finally {
    await visionInferenceThread().close();
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatModeration(result: ModerationBenchResult): string {
  const ok = result.durationMultiple <= MODERATION_GOAL.maxDurationMultiple;
  return [
    table([
      ['check', 'ms (median)'],
      ...Object.entries(result.checkMs).map(([name, ms]) => [name, fmt(ms, 0)]),
    ]),
    `today's checks ${fmt(result.baselineMs, 0)} ms, full set ${fmt(result.oursMs, 0)} ms; ratio per round: ${result.ratios.map((ratio) => fmt(ratio, 2)).join(', ')}`,
    `frames sampled: ${result.sampledFrames}; ms per frame: nudity (nsfwjs MobileNetV2, WASM) ${fmt(result.msPerFrame.nudity, 0)}, faces (face-api SSD MobileNet v1, WASM) ${fmt(result.msPerFrame.faces, 0)}`,
    `model load (once per process): nudity ${fmt(result.modelLoadMs.nudity, 0)} ms, faces ${fmt(result.modelLoadMs.faces, 0)} ms`,
    `full set on a ${result.clipSeconds} s clip: ${fmt(result.durationMultiple, 2)}x its duration (goal <= ${MODERATION_GOAL.maxDurationMultiple}x): ${verdict(ok)}`,
  ].join('\n');
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 3);
  console.log(formatModeration(await runModerationBench({ rounds })));
}
