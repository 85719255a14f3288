import { mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../../server/src/media/index.js';

/** One segment of the fake origin's source: real MPEG-TS made by ffmpeg. */
export interface SourceSegment {
  readonly data: Buffer;
  readonly durationS: number;
}

/** What the segments carry: picture and sound, only sound, only picture; `fmp4`: picture and sound as CMAF (fMP4 with an init section). */
export type SourceKind = 'audio-video' | 'audio-only' | 'video-only' | 'fmp4';

const SOURCE_ARGS: Record<SourceKind, string[]> = {
  'audio-video': [
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '32k', '-ac', '1',
  ],
  'audio-only': ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050', '-c:a', 'aac', '-b:a', '32k', '-ac', '1'],
  fmp4: [
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '32k', '-ac', '1',
  ],
  'video-only': [
    '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-an',
  ],
};

/**
 * `count` segments of about 1 s at 160x90 (a few KB each), made once per machine with ffmpeg's
 * HLS muxer and cached under the OS temp directory (a finished directory is renamed into place,
 * so concurrent test files never see half of one).
 */
export async function sourceSegments(kind: SourceKind, count = 6): Promise<SourceSegment[]> {
  const root = join(tmpdir(), 'live-upload-hls-origin-segments');
  const dir = join(root, `${kind}-${count}-v1`);
  const existing = await readSegments(dir).catch(() => undefined);
  if (existing && existing.length === count) return existing;
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, '.making-'));
  try {
    await runFfmpeg(
      [
        '-nostdin', '-loglevel', 'error', ...SOURCE_ARGS[kind], '-t', String(count),
        '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
        ...(kind === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
        '-hls_segment_filename', join(work, kind === 'fmp4' ? 'seg-%d.m4s' : 'seg-%d.ts'), join(work, 'index.m3u8'),
      ],
      { timeoutMs: 60_000 },
    );
    await rename(work, dir).catch(async () => rm(work, { recursive: true, force: true }));
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
  return readSegments(dir);
}

async function readSegments(dir: string): Promise<SourceSegment[]> {
  const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8');
  const durations = [...playlist.matchAll(/^#EXTINF:([0-9.]+),/gm)].map((match) => Number(match[1]));
  const names = playlist.split('\n').filter((line) => /^seg-\d+\.(ts|m4s)$/.test(line));
  if (names.length !== durations.length || (await readdir(dir)).length < names.length) throw new Error(`incomplete segments in ${dir}`);
  return Promise.all(names.map(async (name, index) => ({ data: await readFile(join(dir, name)), durationS: durations[index]! })));
}

/** The init section of the `fmp4` source (made with its segments). */
export async function sourceInitSection(count = 6): Promise<Buffer> {
  await sourceSegments('fmp4', count);
  return readFile(join(tmpdir(), 'live-upload-hls-origin-segments', `fmp4-${count}-v1`, 'init.mp4'));
}
