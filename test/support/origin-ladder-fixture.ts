import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LiveHlsSink } from '../../server/src/origin/origin-session.js';
import { parseMediaPlaylist } from '../../server/src/origin/live-hls-mirror.js';

const run = promisify(execFile);

/** The rungs the fixture ladder has, named as the live ladder names them. */
export const FIXTURE_RUNGS = ['360p', '240p', 'audio'] as const;

/**
 * A real live ladder in the origin's layout (`master.m3u8`, `{rung}/index.m3u8`,
 * `{rung}/init_{n}.mp4` (ffmpeg numbers a variant's init segment), `{rung}/seg-{n}.m4s`), made by ffmpeg's HLS muxer from a test pattern and
 * a tone: what the WHIP session's ffmpeg writes, without WebRTC. Every segment is kept (the
 * playlists list them all); `feedLiveLadder` replays it to a sink as a live window would.
 */
export async function writeLiveLadderFixture(seconds: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'origin-ladder-'));
  for (const rung of FIXTURE_RUNGS) await mkdir(join(dir, rung), { recursive: true });
  await encodeLadder(dir, { seconds, preset: 'ultrafast' });
  return dir;
}

/** What a continued ladder is made of: the first encoder's part, then the relief encoder's. */
export interface ContinuedLadderParts {
  /** Seconds the first encoder (`veryfast`, CABAC) wrote. */
  readonly seconds: number;
  /** Seconds the relief encoder (`ultrafast`, no CABAC: other SPS/PPS) wrote after it. */
  readonly reliefSeconds: number;
}

/**
 * A real live ladder whose ffmpeg was relieved once (the origin restarting the same rungs at a
 * faster preset when the ladder fell behind after viewers had it): the first part as
 * `writeLiveLadderFixture` writes it but at `veryfast`, then a second ffmpeg at `ultrafast` into
 * the same rung directories, its segment numbers (`-start_number`) and timestamps
 * (`-output_ts_offset`) continuing the first's, its init segment `init_r1_{rung}.mp4`. Each rung's
 * `index.m3u8` is the joined playlist: the first part's segments, then `EXT-X-DISCONTINUITY` and
 * `EXT-X-MAP:URI="init_r1_{rung}.mp4"` before the first of the second part's.
 */
export async function writeContinuedLadderFixture(parts: ContinuedLadderParts): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'origin-ladder-continued-'));
  for (const rung of FIXTURE_RUNGS) await mkdir(join(dir, rung), { recursive: true });
  await encodeLadder(dir, { seconds: parts.seconds, preset: 'veryfast' });
  const firstParts = new Map<string, ReturnType<typeof parseMediaPlaylist>>();
  for (const rung of FIXTURE_RUNGS) firstParts.set(rung, parseMediaPlaylist(await readFile(join(dir, rung, 'index.m3u8'), 'utf8')));
  const startNumber = Math.max(...[...firstParts.values()].map((part) => part.segments.length));
  await encodeLadder(dir, {
    seconds: parts.reliefSeconds,
    preset: 'ultrafast',
    relief: { startNumber, tsOffsetS: parts.seconds, initName: 'init_r1_%v.mp4', playlist: RELIEF_PLAYLIST },
  });
  for (const rung of FIXTURE_RUNGS) {
    const first = firstParts.get(rung)!;
    const relief = parseMediaPlaylist(await readFile(join(dir, rung, RELIEF_PLAYLIST), 'utf8'));
    const reliefMap = relief.header.find((line) => line.startsWith('#EXT-X-MAP:'))!;
    const [[, firstLines], ...rest] = relief.segments as [[string, string[]], ...Array<[string, string[]]>];
    const lines = [
      ...first.header.filter((line) => !line.startsWith('#EXT-X-PLAYLIST-TYPE')),
      ...first.segments.flatMap(([, segmentLines]) => segmentLines),
      '#EXT-X-DISCONTINUITY',
      reliefMap,
      ...firstLines,
      ...rest.flatMap(([, segmentLines]) => segmentLines),
      '#EXT-X-ENDLIST',
    ];
    await writeFile(join(dir, rung, 'index.m3u8'), `${lines.join('\n')}\n`);
    await rm(join(dir, rung, RELIEF_PLAYLIST));
  }
  return dir;
}

/** Where the relief ffmpeg writes its own playlists before they are joined to the first part's. */
const RELIEF_PLAYLIST = 'relief.m3u8';

interface LadderEncode {
  readonly seconds: number;
  readonly preset: 'ultrafast' | 'veryfast';
  /** A relief encoder's continuation of the ladder already in `dir`. */
  readonly relief?: { readonly startNumber: number; readonly tsOffsetS: number; readonly initName: string; readonly playlist: string };
}

/** One ffmpeg writing the fixture ladder's rungs into `dir` from a test pattern and a tone. */
async function encodeLadder(dir: string, encode: LadderEncode): Promise<void> {
  const { seconds, relief } = encode;
  await run('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=${relief ? 660 : 440}:sample_rate=48000:duration=${seconds}`,
    '-filter_complex', '[0:v]split=2[a][b];[a]scale=640:360[v0];[b]scale=426:240[v1]',
    '-map', '[v0]', '-map', '[v1]', '-map', '1:a',
    '-c:v', 'libx264', '-preset', encode.preset, '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k',
    ...(relief ? ['-output_ts_offset', String(relief.tsOffsetS), '-start_number', String(relief.startNumber)] : []),
    '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '1', '-hls_list_size', '0',
    '-hls_flags', 'independent_segments+program_date_time',
    '-hls_fmp4_init_filename', relief?.initName ?? 'init.mp4',
    '-hls_segment_filename', join(dir, '%v', 'seg-%d.m4s'),
    ...(relief ? [] : ['-master_pl_name', 'master.m3u8']),
    '-var_stream_map', 'v:0,agroup:audio,name:360p v:1,agroup:audio,name:240p a:0,agroup:audio,name:audio,default:yes',
    join(dir, '%v', relief?.playlist ?? 'index.m3u8'),
  ]);
}

/**
 * Hands a fixture ladder to a sink the way the session's watcher does during a broadcast: per
 * step, each rung's next segment (its init segment first when it is the first read with it),
 * then that rung's playlist as a live window of `windowSize` segments (a sliding
 * `EXT-X-MEDIA-SEQUENCE`), the master after the first step. Window playlists are written under
 * `scratch`. A continued ladder's windows are joined as the relieved ffmpeg's are: the header
 * names the first listed segment's init, a segment read with another init has
 * `EXT-X-DISCONTINUITY` and its `EXT-X-MAP` before it until it is first in the window, and
 * `EXT-X-DISCONTINUITY-SEQUENCE` counts the discontinuities that reached the window's start.
 * Answers each rung's segment names in order.
 */
export async function feedLiveLadder(dir: string, sink: LiveHlsSink, windowSize: number, scratch: string): Promise<Map<string, string[]>> {
  const rungs = new Map<string, { header: string[]; segments: FixtureSegment[] }>();
  for (const rung of FIXTURE_RUNGS) {
    const parsed = parseMediaPlaylist(await readFile(join(dir, rung, 'index.m3u8'), 'utf8'));
    let map = parsed.header.find(isMap)!;
    const segments = parsed.segments.map(([name, lines]): FixtureSegment => {
      const own = lines.find(isMap);
      const initChange = own !== undefined && own !== map;
      map = own ?? map;
      return { name, lines, map, initChange };
    });
    rungs.set(rung, { header: parsed.header.filter((line) => !line.startsWith('#EXT-X-PLAYLIST-TYPE') && !line.startsWith('#EXT-X-MEDIA-SEQUENCE')), segments });
  }
  const steps = Math.max(...[...rungs.values()].map((rung) => rung.segments.length));
  for (let step = 0; step < steps; step++) {
    for (const [rung, { header, segments }] of rungs) {
      if (step >= segments.length) continue;
      const segment = segments[step]!;
      if (step === 0 || segment.initChange) {
        const init = /URI="([^"]+)"/.exec(segment.map)![1]!;
        await sink.fileWritten(`${rung}/${init}`, join(dir, rung, init));
      }
      await sink.fileWritten(`${rung}/${segment.name}`, join(dir, rung, segment.name));
      const first = Math.max(0, step + 1 - windowSize);
      const window = segments.slice(first, step + 1);
      const discontinuities = segments.slice(0, first + 1).filter((listed) => listed.initChange).length;
      const text = `${[
        ...header.map((line) => (isMap(line) ? window[0]!.map : line)),
        `#EXT-X-MEDIA-SEQUENCE:${first}`,
        ...(discontinuities > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`] : []),
        ...window.flatMap(({ lines }, index) => (index === 0 ? lines.filter((line) => line !== '#EXT-X-DISCONTINUITY' && !isMap(line)) : lines)),
      ].join('\n')}\n`;
      const path = join(scratch, `${rung}-${step}.m3u8`);
      await writeFile(path, text);
      await sink.fileWritten(`${rung}/index.m3u8`, path);
    }
    if (step === 0) await sink.fileWritten('master.m3u8', join(dir, 'master.m3u8'));
  }
  return new Map([...rungs].map(([rung, { segments }]) => [rung, segments.map(({ name }) => name)]));
}

/** A segment of a fixture rung's full playlist, with the `EXT-X-MAP` line it is read with. */
interface FixtureSegment {
  readonly name: string;
  readonly lines: string[];
  readonly map: string;
  /** Read with another init than the segment before it (the relief encoder's first segment). */
  readonly initChange: boolean;
}

function isMap(line: string): boolean {
  return line.startsWith('#EXT-X-MAP:');
}

/** A rung's init segment(s): ffmpeg names them `init_{variant}.mp4`, a relief encoder `init_r{k}_{rung}.mp4`. */
export async function initsOf(dir: string, rung: string): Promise<string[]> {
  return (await readdir(join(dir, rung))).filter((name) => name.endsWith('.mp4'));
}
