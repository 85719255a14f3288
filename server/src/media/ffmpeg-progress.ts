import type { Readable } from 'node:stream';

/**
 * Reads ffmpeg's `-progress` output (`key=value` lines, a block of them every `-stats_period`)
 * from `stream` and calls `onField` for each, lines split across chunks put back together.
 * Which keys matter is the caller's: a transcode's `out_time_us`, a live ladder's `frame`.
 */
export function readFfmpegProgress(stream: Readable | null | undefined, onField: (key: string, value: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const at = line.indexOf('=');
      if (at > 0) onField(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
  });
  stream.on('error', () => {
    // The process is gone; its exit status is what counts.
  });
}
