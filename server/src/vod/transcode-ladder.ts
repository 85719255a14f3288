import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { runFfmpeg, runFfprobe, type JobLimiter, type MediaBinaries } from '../media/index.js';
import { LADDER_FILES, ladderFfmpegArgs, storyboardSheetName } from './ladder-ffmpeg-args.js';
import { planLadder, type LadderOptions, type LadderPlan } from './ladder-plan.js';
import { probeLadderSource, type LadderSource } from './ladder-source.js';
import { AAC_LC_CODEC, avcCodecString, segmentBitrates, writeMasterPlaylist, type MasterAudio, type MasterVariant } from './master-playlist.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { storyboardCues, writeStoryboardVtt } from './storyboard.js';

/** Where a running ladder is. */
export interface LadderProgress {
  /** Source seconds encoded so far. */
  readonly outTimeS: number;
  /** 0..100 of the source duration, when the duration is known. */
  readonly percent?: number;
  /** Encoding speed as a multiple of realtime: source seconds per wall-clock second since the start. */
  readonly speed: number;
}

export interface TranscodeLadderOptions extends LadderOptions {
  /** Hard limit for the encode; default twice the source duration (at least 10 min). */
  readonly timeoutMs?: number;
  /** Aborting kills ffmpeg; the staging directory is removed and nothing is published. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LadderProgress) => void;
  /** Bounded concurrency across media jobs: the whole ladder runs inside one slot. */
  readonly limiter?: JobLimiter;
  readonly binaries?: Partial<MediaBinaries>;
  /** Demuxers the source may be opened with (see `ladderInputArgs`). */
  readonly inputFormats?: readonly string[];
  /** libx264 threads per rung; default ffmpeg's choice. */
  readonly threads?: number;
  /** The source as already probed (skips the probe). */
  readonly source?: LadderSource;
}

/** One video variant as encoded, with measured figures. Paths are relative to the ladder's directory. */
export interface LadderRendition {
  readonly name: string;
  readonly playlist: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  readonly videoCodec: string;
  readonly peakBitrate: number;
  readonly averageBitrate: number;
  readonly segmentCount: number;
}

/** A finished ladder in its final directory. Every path except `dir` is relative to `dir`. */
export interface VodLadder {
  readonly dir: string;
  readonly master: string;
  /** Measured: the sum of the top variant's segment durations. */
  readonly durationS: number;
  /** Largest first. */
  readonly renditions: readonly LadderRendition[];
  readonly audio?: { readonly playlist: string; readonly codec: string; readonly peakBitrate: number; readonly averageBitrate: number };
  readonly poster: string;
  readonly storyboard: { readonly vtt: string; readonly sheets: readonly string[] };
  readonly plan: LadderPlan;
}

/** The source cannot become a ladder (no video, too small): `reason` says why, for the job record. */
export class LadderRefusedError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`ladder refused: ${reason}`);
    this.name = 'LadderRefusedError';
    this.reason = reason;
  }
}

/**
 * Transcodes a source into an HLS/CMAF ladder in `outputDir` (absolute, must not exist yet):
 * one ffmpeg decodes the source once and writes every rung, the shared audio, the storyboard
 * sheets and the poster (`ladderFfmpegArgs`); then the master playlist is written from the
 * measured segments and the storyboard's WebVTT from the sheets produced. Everything is written
 * into a hidden staging directory next to `outputDir` and renamed into place only when complete:
 * on failure, timeout or abort the staging directory is removed, so `outputDir` either holds a
 * whole ladder or does not exist.
 */
export async function transcodeLadder(input: string, outputDir: string, options: TranscodeLadderOptions = {}): Promise<VodLadder> {
  const job = (): Promise<VodLadder> => runLadder(input, outputDir, options);
  return options.limiter ? options.limiter.run(job) : job();
}

async function runLadder(input: string, outputDir: string, options: TranscodeLadderOptions): Promise<VodLadder> {
  if (!isAbsolute(outputDir) || outputDir.includes('%')) {
    throw new TypeError(`ladder output directory must be absolute and free of %, got ${JSON.stringify(outputDir)}`);
  }
  if (await exists(outputDir)) throw new Error(`ladder output directory ${outputDir} already exists`);
  const common = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.binaries ? { binaries: options.binaries } : {}),
  };
  const source = options.source ?? (await probeLadderSource(input, { ...common, ...(options.inputFormats ? { inputFormats: options.inputFormats } : {}) }));
  const planned = planLadder(source, options);
  if (!planned.ok) throw new LadderRefusedError(planned.reason);
  const plan = planned.plan;

  const staging = join(dirname(outputDir), `${stagingPrefix(outputDir)}${randomUUID()}`);
  await mkdir(staging, { recursive: true });
  try {
    const startedAt = performance.now();
    const { onProgress } = options;
    const durationS = plan.durationS;
    await runFfmpeg(ladderFfmpegArgs(plan, input, staging, { ...(options.inputFormats ? { inputFormats: options.inputFormats } : {}), ...(options.threads !== undefined ? { threads: options.threads } : {}) }), {
      timeoutMs: options.timeoutMs ?? Math.max(10 * 60_000, (durationS ?? 3600) * 2000),
      ...common,
      ...(onProgress
        ? {
            onProgress: (outTimeS: number) => {
              const wallS = (performance.now() - startedAt) / 1000;
              onProgress({
                outTimeS,
                ...(durationS ? { percent: Math.min(100, (outTimeS / durationS) * 100) } : {}),
                speed: wallS > 0 ? outTimeS / wallS : 0,
              });
            },
          }
        : {}),
    });
    const ladder = await finishLadder(staging, plan, common);
    await rename(staging, outputDir);
    return { ...ladder, dir: outputDir };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Measures the encoded renditions, writes the master playlist and the storyboard VTT. */
async function finishLadder(dir: string, plan: LadderPlan, common: { signal?: AbortSignal; binaries?: Partial<MediaBinaries> }): Promise<VodLadder> {
  const renditions = await Promise.all(
    plan.rungs.map(async (rung) => {
      const measured = await measureRendition(dir, rung.name);
      const probed = await probeInitSize(join(dir, rung.name, measured.initUri), common);
      const codec = avcCodecString(await readFile(join(dir, rung.name, measured.initUri)));
      return {
        name: rung.name,
        playlist: `${rung.name}/${LADDER_FILES.variantPlaylist}`,
        width: probed.width,
        height: probed.height,
        frameRate: plan.frameRate,
        videoCodec: codec,
        peakBitrate: measured.peak,
        averageBitrate: measured.average,
        segmentCount: measured.durations.length,
        durations: measured.durations,
      };
    }),
  );
  assertAligned(renditions, plan.frameRate);

  const audioMeasured = plan.audio ? await measureRendition(dir, LADDER_FILES.audioName) : undefined;
  const audio: MasterAudio | undefined = audioMeasured
    ? {
        uri: `${LADDER_FILES.audioName}/${LADDER_FILES.variantPlaylist}`,
        groupId: 'audio',
        name: 'Audio',
        codec: AAC_LC_CODEC,
        channels: plan.audio?.channels ?? 2,
        peakBitrate: audioMeasured.peak,
        averageBitrate: audioMeasured.average,
      }
    : undefined;
  const variants: MasterVariant[] = renditions.map((rendition) => ({
    uri: rendition.playlist,
    width: rendition.width,
    height: rendition.height,
    frameRate: rendition.frameRate,
    videoCodec: rendition.videoCodec,
    peakBitrate: rendition.peakBitrate,
    averageBitrate: rendition.averageBitrate,
  }));
  await writeFile(join(dir, LADDER_FILES.master), writeMasterPlaylist({ variants, ...(audio ? { audio } : {}) }));

  const durationS = renditions[0]!.durations.reduce((sum, duration) => sum + duration, 0);
  const names = await readdir(dir);
  const sheets = names.filter((name) => /^storyboard-\d{3}\.jpg$/.test(name)).sort();
  if (!names.includes(LADDER_FILES.poster)) throw new Error('the ladder produced no poster frame');
  const cues = storyboardCues(plan.storyboard, durationS, storyboardSheetName, sheets.length);
  await writeFile(join(dir, LADDER_FILES.storyboardVtt), writeStoryboardVtt(cues));

  return {
    dir,
    master: LADDER_FILES.master,
    durationS,
    renditions: renditions.map(({ durations: _durations, ...rendition }) => rendition),
    ...(audio && audioMeasured
      ? { audio: { playlist: audio.uri, codec: audio.codec, peakBitrate: audioMeasured.peak, averageBitrate: audioMeasured.average } }
      : {}),
    poster: LADDER_FILES.poster,
    storyboard: { vtt: LADDER_FILES.storyboardVtt, sheets },
    plan,
  };
}

async function measureRendition(dir: string, name: string): Promise<{ initUri: string; durations: number[]; peak: number; average: number }> {
  const playlist = parseMediaPlaylist(await readFile(join(dir, name, LADDER_FILES.variantPlaylist), 'utf8'));
  if (!playlist.ended || playlist.segments.length === 0 || !playlist.initUri) throw new Error(`rendition ${name}: incomplete playlist`);
  const sized = await Promise.all(
    playlist.segments.map(async (segment) => ({ durationS: segment.durationS, bytes: (await stat(join(dir, name, segment.uri))).size })),
  );
  return { initUri: playlist.initUri, durations: sized.map((segment) => segment.durationS), ...segmentBitrates(sized) };
}

async function probeInitSize(path: string, common: { signal?: AbortSignal; binaries?: Partial<MediaBinaries> }): Promise<{ width: number; height: number }> {
  const { stdout } = await runFfprobe(
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,mp4,m4a,3gp,3g2,mj2', '-i', `file:${path}`],
    { timeoutMs: 15_000, maxStdoutBytes: 4096, ...common },
  );
  const [width, height] = stdout.toString('utf8').trim().split('x').map(Number);
  if (!width || !height) throw new Error(`could not read the size of ${path}`);
  return { width, height };
}

/**
 * Every rung must have cut its segments at the same instants (a player switching rungs mid-way
 * relies on it): same count, each duration within a frame of the top rung's.
 */
function assertAligned(renditions: readonly { name: string; durations: readonly number[] }[], frameRate: number): void {
  const [top, ...rest] = renditions;
  if (!top) return;
  const frame = 1 / frameRate;
  for (const rendition of rest) {
    const aligned =
      rendition.durations.length === top.durations.length &&
      rendition.durations.every((duration, i) => Math.abs(duration - top.durations[i]!) <= frame + 1e-6);
    if (!aligned) throw new Error(`rungs ${top.name} and ${rendition.name} are not keyframe-aligned`);
  }
}

/** Staging directories of `outputDir` are hidden siblings named after it: `.<name>.partial-<uuid>`. */
function stagingPrefix(outputDir: string): string {
  return `.${basename(outputDir)}.partial-`;
}

/**
 * Removes what a ladder for `outputDir` left behind when its worker died mid-encode (SIGKILL,
 * OOM, power): its staging directories. Call it when taking over the job (holding its lease),
 * before running the ladder again; never while another run for the same output may be going.
 * Returns the names removed.
 */
export async function removeLadderStaging(outputDir: string): Promise<string[]> {
  const parent = dirname(outputDir);
  const prefix = stagingPrefix(outputDir);
  let names: string[];
  try {
    names = (await readdir(parent)).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  await Promise.all(names.map((name) => rm(join(parent, name), { recursive: true, force: true })));
  return names;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
