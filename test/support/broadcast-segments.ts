import { mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../server/src/media/index.js';
import type { SourceSegment } from '../fakes/hls-origin/source-segments.js';

/** The shape of a generated test broadcast: what its cache entry is keyed by. */
export interface BroadcastShape {
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Segment length; keyframes fall exactly on segment boundaries. */
  readonly segmentS: number;
  readonly videoKbps: number;
}

/** A generated broadcast: its MPEG-TS segments in order, and the directory they are cached in. */
export interface BroadcastSegments {
  readonly shape: BroadcastShape;
  readonly segments: readonly SourceSegment[];
  readonly dir: string;
}

/**
 * A whole test broadcast as an encoder would publish it over HLS (H.264 + AAC in MPEG-TS
 * segments, one continuous timeline), made ahead with ffmpeg so a test can serve minutes of
 * "live" media faster than real time. Made once per shape and cached under the OS temp
 * directory (a finished directory is renamed into place, so concurrent tests never read half
 * of one); a rerun with the same shape reads the cache. Small shapes (360p, 10 fps,
 * `ultrafast`) make 10 minutes in a few seconds.
 */
export async function broadcastSegments(shape: BroadcastShape): Promise<BroadcastSegments> {
  const root = join(tmpdir(), 'live-upload-broadcasts');
  const dir = join(root, `${shape.seconds}s-${shape.width}x${shape.height}-${shape.fps}fps-${shape.segmentS}s-${shape.videoKbps}k-v1`);
  const cached = await readSegments(dir).catch(() => undefined);
  if (cached) return { shape, segments: cached, dir };
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, '.making-'));
  const gop = Math.round(shape.fps * shape.segmentS);
  try {
    await runFfmpeg(
      [
        '-nostdin', '-loglevel', 'error',
        '-f', 'lavfi', '-i', `testsrc2=size=${shape.width}x${shape.height}:rate=${shape.fps}`,
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:beep_factor=4',
        '-t', String(shape.seconds),
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', `${shape.videoKbps}k`,
        '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
        '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
        '-f', 'hls', '-hls_time', String(shape.segmentS), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
        '-hls_segment_filename', join(work, 'seg-%d.ts'), join(work, 'index.m3u8'),
      ],
      { timeoutMs: Math.max(120_000, shape.seconds * 1000) },
    );
    await rename(work, dir).catch(async () => rm(work, { recursive: true, force: true }));
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
  return { shape, segments: await readSegments(dir), dir };
}

/** The segments the cached playlist lists, in order; throws when the directory is missing or incomplete. */
async function readSegments(dir: string): Promise<SourceSegment[]> {
  const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8');
  if (!playlist.includes('#EXT-X-ENDLIST')) throw new Error(`unfinished playlist in ${dir}`);
  const durations = [...playlist.matchAll(/^#EXTINF:([0-9.]+),/gm)].map((match) => Number(match[1]));
  const names = playlist.split('\n').filter((line) => /^seg-\d+\.ts$/.test(line));
  if (names.length === 0 || names.length !== durations.length || (await readdir(dir)).length < names.length) throw new Error(`incomplete segments in ${dir}`);
  return Promise.all(names.map(async (name, index) => ({ data: await readFile(join(dir, name)), durationS: durations[index]! })));
}
