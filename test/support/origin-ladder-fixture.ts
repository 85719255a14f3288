import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
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
  await run('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-filter_complex', '[0:v]split=2[a][b];[a]scale=640:360[v0];[b]scale=426:240[v1]',
    '-map', '[v0]', '-map', '[v1]', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '1', '-hls_list_size', '0',
    '-hls_flags', 'independent_segments+program_date_time',
    '-hls_fmp4_init_filename', 'init.mp4',
    '-hls_segment_filename', join(dir, '%v', 'seg-%d.m4s'),
    '-master_pl_name', 'master.m3u8',
    '-var_stream_map', 'v:0,agroup:audio,name:360p v:1,agroup:audio,name:240p a:0,agroup:audio,name:audio,default:yes',
    join(dir, '%v', 'index.m3u8'),
  ]);
  return dir;
}

/**
 * Hands a fixture ladder to a sink the way the session's watcher does during a broadcast: per
 * step, each rung's init and next segment, then that rung's playlist as a live window of
 * `windowSize` segments (a sliding `EXT-X-MEDIA-SEQUENCE`), the master after the first step.
 * Window playlists are written under `scratch`. Answers each rung's segment names in order.
 */
export async function feedLiveLadder(dir: string, sink: LiveHlsSink, windowSize: number, scratch: string): Promise<Map<string, string[]>> {
  const rungs = new Map<string, { header: string[]; segments: Array<[string, string[]]> }>();
  for (const rung of FIXTURE_RUNGS) {
    const parsed = parseMediaPlaylist(await readFile(join(dir, rung, 'index.m3u8'), 'utf8'));
    rungs.set(rung, { header: parsed.header.filter((line) => !line.startsWith('#EXT-X-PLAYLIST-TYPE') && !line.startsWith('#EXT-X-MEDIA-SEQUENCE')), segments: parsed.segments });
  }
  const steps = Math.max(...[...rungs.values()].map((rung) => rung.segments.length));
  for (let step = 0; step < steps; step++) {
    for (const [rung, { header, segments }] of rungs) {
      if (step >= segments.length) continue;
      if (step === 0) for (const init of await initsOf(dir, rung)) await sink.fileWritten(`${rung}/${init}`, join(dir, rung, init));
      const [name] = segments[step]!;
      await sink.fileWritten(`${rung}/${name}`, join(dir, rung, name));
      const first = Math.max(0, step + 1 - windowSize);
      const window = segments.slice(first, step + 1);
      const text = `${[...header, `#EXT-X-MEDIA-SEQUENCE:${first}`, ...window.flatMap(([, lines]) => lines)].join('\n')}\n`;
      const path = join(scratch, `${rung}-${step}.m3u8`);
      await writeFile(path, text);
      await sink.fileWritten(`${rung}/index.m3u8`, path);
    }
    if (step === 0) await sink.fileWritten('master.m3u8', join(dir, 'master.m3u8'));
  }
  return new Map([...rungs].map(([rung, { segments }]) => [rung, segments.map(([name]) => name)]));
}

/** A rung's init segment(s): ffmpeg names them `init_{variant}.mp4`. */
export async function initsOf(dir: string, rung: string): Promise<string[]> {
  return (await readdir(join(dir, rung))).filter((name) => name.endsWith('.mp4'));
}
