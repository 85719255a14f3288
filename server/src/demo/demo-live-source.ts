import { access } from 'node:fs/promises';
import { join } from 'node:path';

/** The playlist the demo's live stream writes, and what its segments are called. */
export const DEMO_LIVE_PLAYLIST = 'index.m3u8';
export const DEMO_LIVE_SEGMENT_PATTERN = /^segment-[0-9]{1,20}\.ts$/;
/** Segment length, seconds: short, so a clip of the last 10 s is five segments. */
export const DEMO_LIVE_SEGMENT_SECONDS = 2;

/** Fonts for the burned-in clock, most preferred first (Debian / Ubuntu / Fedora / Alpine / macOS paths). */
export const CLOCK_FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono-Bold.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf',
  '/System/Library/Fonts/Menlo.ttc',
] as const;

/** The first candidate font that exists, or null (then the picture keeps only testsrc2's own counter). */
export async function findClockFont(candidates: readonly string[] = CLOCK_FONT_CANDIDATES): Promise<string | null> {
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** Escapes a value for a filtergraph option: `\`, `'` and `:` are special there. */
function filterValue(value: string): string {
  return value.replace(/[\\':]/g, (character) => `\\${character}`);
}

/**
 * ffmpeg arguments (an argv array, never a shell string) for the demo's live stream: a moving
 * test picture (testsrc2, which draws its own frame counter) with the UTC wall clock burned in
 * when a font is available, a beeping tone, H.264 + AAC in a rolling HLS playlist of 2 s
 * segments with `EXT-X-PROGRAM-DATE-TIME`, read at real time (`-re`). Media sequence numbers
 * start from the epoch, so a restarted stream never reuses a segment name.
 */
export function demoLiveSourceArgs(options: { dir: string; fontFile: string | null }): string[] {
  const fps = 25;
  const gop = fps * DEMO_LIVE_SEGMENT_SECONDS;
  const clock = options.fontFile
    ? [
        '-vf',
        `drawtext=fontfile=${filterValue(options.fontFile)}:text='%{gmtime\\:%T} UTC':fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h-th-24`,
      ]
    : [];
  return [
    '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:beep_factor=4',
    ...clock,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-b:v', '600k',
    '-c:a', 'aac', '-b:a', '64k', '-ac', '1',
    '-f', 'hls',
    '-hls_time', String(DEMO_LIVE_SEGMENT_SECONDS),
    '-hls_list_size', '8',
    '-hls_start_number_source', 'epoch',
    '-hls_flags', 'delete_segments+program_date_time+independent_segments+temp_file',
    '-hls_segment_filename', join(options.dir, 'segment-%d.ts'),
    join(options.dir, DEMO_LIVE_PLAYLIST),
  ];
}
