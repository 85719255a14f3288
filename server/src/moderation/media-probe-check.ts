import { checkMediaFile, type MediaLimits, type MediaProbe } from '../media/index.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from './moderation-check.js';

export interface MediaProbeCheckOptions {
  readonly limits?: MediaLimits;
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
    run: ({ path, facts }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const checked = await checkMediaFile(path, {
          ...(options.limits ? { limits: options.limits } : {}),
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
