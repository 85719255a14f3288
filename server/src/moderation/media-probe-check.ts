import { DEFAULT_MEDIA_LIMITS, checkMediaFile, type MediaLimits, type MediaProbe } from '../media/index.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from './moderation-check.js';

/** The longest publisher recording (`broadcast` upload) by default: a long broadcast, not a clip. */
export const REPLAY_UPLOAD_MAX_DURATION_S = 12 * 3600;

export interface MediaProbeCheckOptions {
  /** Viewers' uploads (clips, recordings, files); default `DEFAULT_MEDIA_LIMITS` (a clip is at most 10 min). */
  readonly limits?: MediaLimits;
  /** A publisher's `broadcast` upload: no clip length; default `limits` with `REPLAY_UPLOAD_MAX_DURATION_S`. */
  readonly replayLimits?: MediaLimits;
  readonly timeoutMs?: number;
}

/**
 * ffprobe and the media limits (container and codec allowlist, duration, dimensions, frame
 * rate, stream counts, truncation). A file ffprobe cannot read fails with its reason; a probe
 * that times out throws (an `error`: it says nothing about the file). Leaves the probe in
 * `facts` for the later checks.
 */
export function mediaProbeCheck(options: MediaProbeCheckOptions = {}): ModerationCheck {
  const name = 'media-probe';
  return {
    name,
    run: ({ path, facts, upload }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const limits = options.limits ?? DEFAULT_MEDIA_LIMITS;
        const checked = await checkMediaFile(path, {
          limits: upload.source === 'broadcast' ? (options.replayLimits ?? { ...limits, maxDurationS: REPLAY_UPLOAD_MAX_DURATION_S }) : limits,
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        });
        const details = checked.probe ? summarize(checked.probe) : undefined;
        if (!checked.ok) return { result: 'fail', reason: checked.reasons.join('; '), ...(details ? { details } : {}) };
        facts.probe = checked.probe;
        return { result: 'pass', ...(details ? { details } : {}) };
      }),
  };
}

function summarize(probe: MediaProbe): Record<string, unknown> {
  return {
    container: probe.container,
    ...(probe.durationS === undefined ? {} : { duration_s: probe.durationS }),
    streams: probe.streams.map((stream) => ({
      kind: stream.kind,
      codec: stream.codec,
      ...(stream.width === undefined ? {} : { width: stream.width, height: stream.height }),
      ...(stream.frameRate === undefined ? {} : { frame_rate: stream.frameRate }),
    })),
  };
}
