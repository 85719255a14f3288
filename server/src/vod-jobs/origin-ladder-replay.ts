import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaInputArgs, probeMedia, runFfmpeg, type MediaBinaries } from '../media/index.js';
import { ORIGIN_ARCHIVE_PLAYLIST, ORIGIN_INIT_NAME, isMapLine, parseMediaPlaylist, segmentDurationS } from '../origin/live-hls-mirror.js';
import type { ObjectStore } from '../storage/index.js';
import { LADDER_FILES, segmentBitrates, storyboardCues, storyboardSheetName, writeStoryboardVtt, type StoryboardPlan } from '../vod/index.js';
import type { VodRendition } from './vod-record.js';

/** The origin's ladder is not in the store as a replay needs it (no master playlist, no rung playlist, a segment gone). */
export class OriginLadderMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OriginLadderMissingError';
  }
}

/** What the assembled replay is: for the record and the completion marker. */
export interface OriginReplayFacts {
  readonly durationS: number;
  readonly renditions: VodRendition[];
}

export interface AssembleOriginReplayOptions {
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
  /** Storyboard thumbnails: one every `intervalS`, `tileWidth` wide, `columns` x `rows` a sheet (the ladder's defaults). */
  readonly storyboard?: Omit<StoryboardPlan, 'tileHeight'>;
  /** Where the poster frame is, as a share of the duration (the ladder's 0.1). */
  readonly posterAt?: number;
}

/** Rung directories a replay may have (`/vod` serves these): `720p`, or the shared `audio`. */
const RENDITION_NAME = new RegExp(`^(?:\\d{2,4}p|${LADDER_FILES.audioName})$`);

interface MasterEntry {
  readonly rung: string;
  /** The `EXT-X-STREAM-INF` attributes (absent for the audio rendition). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * A replay made from our origin's own live ladder (issue 23), with no second transcode: each
 * rung's segments, listed by the `archive.m3u8` the `LiveHlsMirror` wrote at the end of the
 * broadcast, are copied byte for byte into `directory` in the replay layout
 * (`{rung}/segment-{n}.m4s`, each init segment as it is under `init_{n}.mp4`, a VOD playlist per
 * rung with `EXT-X-ENDLIST`), the live master playlist is kept (same rungs, same relative URIs),
 * and the poster and storyboard are drawn from the top rung, one decode of it and no encode of
 * video for playback. `storeVodOutput` then sends the directory to `vods/...` as it does a ladder.
 *
 * A ladder whose ffmpeg was relieved mid-broadcast has several init segments per rung (the relief
 * encoder's after an `EXT-X-DISCONTINUITY`); the VOD playlist keeps the discontinuities and maps,
 * and the pictures are drawn from each init's run of segments decoded on its own.
 */
export async function assembleOriginReplay(media: ObjectStore, prefix: string, directory: string, options: AssembleOriginReplayOptions = {}): Promise<OriginReplayFacts> {
  const masterText = await readText(media, `${prefix}master.m3u8`);
  if (masterText === undefined) throw new OriginLadderMissingError(`no master playlist under ${prefix}`);
  const entries = parseMaster(masterText);
  const videos = entries.filter((entry) => entry.attributes !== undefined);
  if (videos.length === 0) throw new OriginLadderMissingError(`the master playlist under ${prefix} names no video rung`);
  await mkdir(directory, { recursive: true });

  const rungs = new Map<string, CopiedRung>();
  for (const { rung } of entries) {
    options.signal?.throwIfAborted();
    rungs.set(rung, await copyRung(media, prefix, rung, join(directory, rung), options.signal));
  }
  await writeFile(join(directory, LADDER_FILES.master), masterText);

  const top = videos[0]!;
  const topRuns = rungs.get(top.rung)!.runs;
  const topFiles = topRuns.map((_, index) => resolve(directory, `.top-rung-${index}.mp4`));
  for (const [index, run] of topRuns.entries()) await concatenateRun(join(directory, top.rung), run, topFiles[index]!);
  const probe = await probeMedia(topFiles[0]!, { ...(options.signal ? { signal: options.signal } : {}), ...(options.binaries ? { binaries: options.binaries } : {}) });
  const video = probe.streams.find((stream) => stream.kind === 'video');
  const frameRate = Math.round((video?.frameRate ?? 0) * 1000) / 1000;
  const durationS = rungs.get(top.rung)!.durationS;
  await drawPosterAndStoryboard(topFiles, directory, durationS, video?.width ?? 0, video?.height ?? 0, options);
  await Promise.all(topFiles.map((file) => rm(file, { force: true })));

  const audioRung = entries.find((entry) => entry.attributes === undefined);
  const audio = audioRung ? rungs.get(audioRung.rung) : undefined;
  const renditions: VodRendition[] = videos.map(({ rung, attributes }) => {
    const measured = rungs.get(rung)!;
    const [width, height] = (attributes!['RESOLUTION'] ?? '0x0').split('x').map(Number);
    return {
      name: rung,
      width: width ?? 0,
      height: height ?? 0,
      bandwidth: Math.round(measured.peak + (audio?.peak ?? 0)),
      average_bandwidth: Math.round(measured.average + (audio?.average ?? 0)),
      codecs: (attributes!['CODECS'] ?? '').slice(0, 200),
      frame_rate: frameRate,
    };
  });
  return { durationS: Math.round(durationS * 1000) / 1000, renditions };
}

/** The rungs a live master playlist names: each variant's directory with its attributes, and the audio rendition's. */
function parseMaster(text: string): MasterEntry[] {
  const entries: MasterEntry[] = [];
  let pending: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      pending = attributesOf(line.slice('#EXT-X-STREAM-INF:'.length));
      continue;
    }
    if (line.startsWith('#EXT-X-MEDIA:')) {
      const uri = attributesOf(line.slice('#EXT-X-MEDIA:'.length))['URI'];
      if (uri) entries.push({ rung: rungOf(uri) });
      continue;
    }
    if (line.startsWith('#')) continue;
    if (pending) entries.push({ rung: rungOf(line), attributes: pending });
    pending = undefined;
  }
  return entries;
}

function rungOf(uri: string): string {
  const match = /^([^/]+)\/index\.m3u8$/.exec(uri);
  if (!match || !RENDITION_NAME.test(match[1]!)) throw new OriginLadderMissingError(`not a rung of a live ladder: ${JSON.stringify(uri)}`);
  return match[1]!;
}

function attributesOf(list: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) attributes[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  return attributes;
}

/** A run of a rung's segments read with one init segment (one encoder's), as the replay names them. */
interface InitRun {
  readonly init: string;
  readonly segments: string[];
}

interface CopiedRung {
  readonly durationS: number;
  readonly peak: number;
  readonly average: number;
  /** Its segments by init segment, in order (one run unless the ladder's ffmpeg was relieved). */
  readonly runs: InitRun[];
}

/**
 * One rung into `directory`: each init segment the archive names (its header's `EXT-X-MAP`, and
 * a relief encoder's inside the segment list) as `init_{n}.mp4` in order of use, every segment
 * renamed in order, a VOD playlist naming them with the archive's discontinuities and maps.
 */
async function copyRung(media: ObjectStore, prefix: string, rung: string, directory: string, signal?: AbortSignal): Promise<CopiedRung> {
  const text = (await readText(media, `${prefix}${rung}/${ORIGIN_ARCHIVE_PLAYLIST}`)) ?? (await readText(media, `${prefix}${rung}/index.m3u8`));
  if (text === undefined) throw new OriginLadderMissingError(`no playlist of rung ${rung} under ${prefix}`);
  const playlist = parseMediaPlaylist(text);
  if (playlist.segments.length === 0) throw new OriginLadderMissingError(`rung ${rung} under ${prefix} lists no segment`);
  await mkdir(directory, { recursive: true });
  const headerMap = playlist.header.find(isMapLine);
  if (!headerMap) throw new OriginLadderMissingError(`rung ${rung} under ${prefix} has no init segment`);
  /** Live init name -> the replay's. */
  const inits = new Map<string, string>();
  const copyInit = async (mapLine: string): Promise<string> => {
    const live = /^#EXT-X-MAP:URI="([^"]*)"$/.exec(mapLine)?.[1];
    if (live === undefined || !ORIGIN_INIT_NAME.test(live)) throw new OriginLadderMissingError(`not an init segment of a live ladder: ${JSON.stringify(mapLine)}`);
    let copied = inits.get(live);
    if (copied === undefined) {
      copied = `init_${inits.size}.mp4`;
      inits.set(live, copied);
      await download(media, `${prefix}${rung}/${live}`, join(directory, copied));
    }
    return copied;
  };
  const firstInit = await copyInit(headerMap);
  const runs: InitRun[] = [{ init: firstInit, segments: [] }];
  const targetDuration = playlist.header.find((line) => line.startsWith('#EXT-X-TARGETDURATION:')) ?? '#EXT-X-TARGETDURATION:2';
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', targetDuration, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-MAP:URI="${firstInit}"`];
  const measured: Array<{ bytes: number; durationS: number }> = [];
  for (const [index, [name, segmentLines]] of playlist.segments.entries()) {
    signal?.throwIfAborted();
    if (!/^seg-\d{1,9}\.m4s$/.test(name)) throw new OriginLadderMissingError(`not a segment of a live ladder: ${JSON.stringify(name)}`);
    const target = `segment-${String(index).padStart(5, '0')}.m4s`;
    const tags: string[] = [];
    for (const line of segmentLines.slice(0, -1)) {
      if (!isMapLine(line)) {
        tags.push(line);
        continue;
      }
      const init = await copyInit(line);
      tags.push(`#EXT-X-MAP:URI="${init}"`);
      if (init !== runs.at(-1)!.init) runs.push({ init, segments: [] });
    }
    const bytes = await download(media, `${prefix}${rung}/${name}`, join(directory, target));
    const durationS = segmentDurationS(segmentLines);
    measured.push({ bytes, durationS });
    runs.at(-1)!.segments.push(target);
    lines.push(...tags, target);
  }
  lines.push('#EXT-X-ENDLIST');
  await writeFile(join(directory, 'index.m3u8'), `${lines.join('\n')}\n`);
  const { peak, average } = segmentBitrates(measured);
  return { durationS: measured.reduce((sum, segment) => sum + segment.durationS, 0), peak, average, runs: runs.filter((run) => run.segments.length > 0) };
}

/**
 * One run of the rung, its init segment then its segments, as one fragmented MP4 (what ffmpeg
 * reads for the pictures). An init's run is never joined to another's: the encoders differ
 * (SPS/PPS, CABAC), and a decoder fed the second run with the first's configuration breaks.
 */
async function concatenateRun(directory: string, run: InitRun, target: string): Promise<void> {
  await writeFile(target, '');
  for (const name of [run.init, ...run.segments]) await appendFile(target, await readFile(join(directory, name)));
}

/**
 * The poster (one frame at `posterAt` of the duration, the rung's size) and the storyboard sheets
 * and VTT, in one ffmpeg run over the rung's runs (`sources`), each decoded on its own and joined
 * by the `concat` filter. (ffmpeg 5.1's HLS demuxer over the VOD playlist feeds the second
 * encoder's frames to a decoder set up with the first's SPS/PPS: corrupt pictures.)
 */
async function drawPosterAndStoryboard(sources: readonly string[], directory: string, durationS: number, width: number, height: number, options: AssembleOriginReplayOptions): Promise<void> {
  const board = options.storyboard ?? { intervalS: 5, tileWidth: 160, columns: 5, rows: 5 };
  const tileWidth = Math.min(board.tileWidth, width || board.tileWidth);
  const tileHeight = Math.max(2, 2 * Math.round((tileWidth * (height || 9)) / (width || 16) / 2));
  const posterAtS = durationS * (options.posterAt ?? 0.1);
  await runFfmpeg(
    [
      '-v', 'error', '-y',
      ...sources.flatMap((source) => mediaInputArgs(source)),
      '-filter_complex',
      `${sources.map((_, index) => `[${index}:v:0]`).join('')}concat=n=${sources.length}:v=1:a=0,split=2[insb][inposter];[insb]fps=1/${board.intervalS},scale=${tileWidth}:${tileHeight},setsar=1,tile=${board.columns}x${board.rows}[storyboard];` +
        `[inposter]select=gte(t\\,${posterAtS.toFixed(3)})*isnan(prev_selected_t),setsar=1[poster]`,
      '-map', '[storyboard]', '-fps_mode', 'passthrough', '-q:v', '4', join(directory, LADDER_FILES.storyboardSheetPattern),
      '-map', '[poster]', '-frames:v', '1', '-q:v', '3', join(directory, LADDER_FILES.poster),
    ],
    { timeoutMs: Math.max(60_000, durationS * 1000), ...(options.signal ? { signal: options.signal } : {}), ...(options.binaries ? { binaries: options.binaries } : {}) },
  );
  const sheets = (await readdir(directory)).filter((name) => /^storyboard-\d{3,4}\.jpg$/.test(name)).length;
  const plan: StoryboardPlan = { ...board, tileWidth, tileHeight };
  await writeFile(join(directory, LADDER_FILES.storyboardVtt), writeStoryboardVtt(storyboardCues(plan, durationS, storyboardSheetName, sheets)));
}

async function readText(media: ObjectStore, key: string): Promise<string | undefined> {
  const read = await media.get(key);
  if (!read) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One object to a local file; its size. */
async function download(media: ObjectStore, key: string, target: string): Promise<number> {
  const read = await media.get(key);
  if (!read) throw new OriginLadderMissingError(`${key} is not in the store`);
  await pipeline(read.body, createWriteStream(target));
  return (await stat(target)).size;
}
