import { checkMediaLimits, DEFAULT_MEDIA_LIMITS, type MediaLimits } from './media-limits.js';
import { MediaProcessError } from './media-process-error.js';
import { probeMedia, type MediaProbe, type ProbeOptions } from './probe.js';

export type MediaFileCheck =
  | { readonly ok: true; readonly probe: MediaProbe }
  | { readonly ok: false; readonly reasons: readonly string[]; readonly probe?: MediaProbe };

/**
 * The ffprobe moderation check for one quarantined file: probe it, then apply the limits. A file
 * ffprobe cannot read (no `moov`, not a container we accept, garbage) is a rejection with a
 * reason, not an exception; timeouts and aborts still reject (they say nothing about the file).
 */
export async function checkMediaFile(
  path: string,
  options: ProbeOptions & { readonly limits?: MediaLimits } = {},
): Promise<MediaFileCheck> {
  let probe: MediaProbe;
  try {
    probe = await probeMedia(path, options);
  } catch (error) {
    if (error instanceof MediaProcessError && error.kind === 'exit') {
      const detail = error.stderrTail.trim().split('\n').at(-1) ?? '';
      return { ok: false, reasons: [`unreadable by ffprobe${detail ? `: ${stripPath(detail, path)}` : ''}`] };
    }
    throw error;
  }
  const result = checkMediaLimits(probe, options.limits ?? DEFAULT_MEDIA_LIMITS);
  return result.ok ? { ok: true, probe } : { ok: false, reasons: result.reasons, probe };
}

/** Reasons are shown to moderators and uploaders: no server paths in them. */
function stripPath(line: string, path: string): string {
  return line.split(`file:${path}`).join('input').split(path).join('input');
}
