/**
 * When a WHIP session asks its publisher for a keyframe (RTCP PLI), and why.
 *
 * The ladder re-encodes: ffmpeg decodes the publisher's stream once and libx264 encodes every
 * rung with a keyframe forced at each 2 s segment boundary (`-force_key_frames`,
 * `EXT-X-INDEPENDENT-SEGMENTS`). So the publisher's keyframes never reach a viewer and never
 * decide where a segment starts; they matter for one thing, ffmpeg's decoder. A lost packet
 * that NACK did not bring back in time leaves that decoder without a reference: every frame
 * after it is concealed (smeared) until the publisher's next keyframe, and libwebrtc sends
 * keyframes for H.264 and VP8 only when asked (PLI/FIR) or when its encoder resets, so
 * without a request the smear can last the whole broadcast, on every rung.
 *
 * The requests, then:
 * - `startup`: every second until the ladder is playable (the picture size comes from a
 *   keyframe, and ffmpeg binds its ports while it starts, losing what was sent before), and
 *   sooner when ffmpeg reports damage before then: its first report is the moment it is bound
 *   and decoding deltas of a keyframe it never got. On a starved 2-core machine ffmpeg bound
 *   its ports 1-2 s after it was spawned, so the keyframes asked for meanwhile were lost and
 *   the next came up to a second after; now one round trip after.
 * - `damage`: ffmpeg said its input was damaged (`ffmpegReportsDamage`: a sequence gap its RTP
 *   reorder queue gave up on, which is exactly a loss NACK did not repair, or a decoding error
 *   or concealment). At most one per segment: a keyframe is several times a delta frame, and
 *   the publisher needs a round trip to send it; asking again sooner repeats the same request.
 * - `refresh`: one every `refreshEverySegments` segments (at a segment's pace) when nothing else
 *   asked, the bound on damage ffmpeg did not report (its messages are its own, and a loss at
 *   the tail of a burst may show only as a picture that looks wrong). Rare enough to cost
 *   little of the bitrate the `b=AS` ceiling leaves.
 *
 * Not on a new viewer's first playlist fetch: a viewer decodes our re-encoded rungs, whose
 * every segment starts with a keyframe of ours, so a publisher keyframe then changes nothing
 * the viewer sees (the next segment already starts clean), would cost a bus message to the
 * terminating replica per viewer, and would let any viewer make the publisher spend bitrate on
 * keyframes at will.
 */
export type KeyframeRequestReason = 'startup' | 'damage' | 'refresh';

export interface KeyframeRequestOptions {
  /** The ladder's segment length: damage asks at most once per segment. */
  readonly segmentMs: number;
  /** Until the ladder is playable, a request this often. */
  readonly startupEveryMs: number;
  /** Until the ladder is playable, a request this soon after the last when ffmpeg reports damage (about a round trip). */
  readonly startupDamageEveryMs: number;
  /** With no other request meanwhile, a refresh after this many segments. */
  readonly refreshEverySegments: number;
}

export const DEFAULT_KEYFRAME_REQUEST_OPTIONS: Omit<KeyframeRequestOptions, 'segmentMs'> = {
  startupEveryMs: 1000,
  startupDamageEveryMs: 300,
  refreshEverySegments: 5,
};

/**
 * The keyframe request schedule of one session (pure: the session calls `due` when something
 * happened or on its tick, sends a PLI when a reason comes back).
 */
export class KeyframeRequestSchedule {
  private lastRequestMs: number | undefined;
  private damagedSinceRequest = false;
  /** Requests made, by reason (for logs and tests). */
  readonly counts: Record<KeyframeRequestReason, number> = { startup: 0, damage: 0, refresh: 0 };

  constructor(private readonly options: KeyframeRequestOptions) {}

  /** ffmpeg reported damage: a request as soon as the once-per-segment pace allows. */
  damaged(): void {
    this.damagedSinceRequest = true;
  }

  /**
   * Whether to request a keyframe now and why (recorded as made), or undefined. `force` asks
   * regardless of pace (the first video packet, ffmpeg just started), counted as `startup`.
   */
  due(nowMs: number, state: { readonly playable: boolean; readonly force?: boolean }): KeyframeRequestReason | undefined {
    const sinceMs = this.lastRequestMs === undefined ? Infinity : nowMs - this.lastRequestMs;
    let reason: KeyframeRequestReason | undefined;
    const startupDue = sinceMs >= this.options.startupEveryMs || (this.damagedSinceRequest && sinceMs >= this.options.startupDamageEveryMs);
    if (state.force || (!state.playable && startupDue)) reason = 'startup';
    else if (!state.playable) reason = undefined;
    else if (this.damagedSinceRequest && sinceMs >= this.options.segmentMs) reason = 'damage';
    else if (sinceMs >= this.options.segmentMs * this.options.refreshEverySegments) reason = 'refresh';
    if (reason === undefined) return undefined;
    this.lastRequestMs = nowMs;
    this.damagedSinceRequest = false;
    this.counts[reason] += 1;
    return reason;
  }
}

/**
 * What ffmpeg (`-v warning`) prints when its input is damaged, checked against the strings in
 * libavformat/libavcodec 59 (ffmpeg 5.1) and still present in 6 and 7: the RTP demuxer's gap
 * its reorder queue gave up on, a packet that came after that, H.264's decoding errors and
 * concealment, a VP8 inter frame without its keyframe, and the CLI's per-packet decode error
 * and corrupt-frame notice (what ffmpeg 5.1 prints for an H.264 stream with bytes cut out of
 * its inter frames: `error while decoding MB`, `corrupted macroblock`, `corrupt decoded frame`).
 */
const DAMAGE_PATTERNS: readonly RegExp[] = [
  /RTP: missed \d+ packets/,
  /RTP: dropping old packet received too late/,
  /error while decoding MB/i,
  /concealing \d+ DC, \d+ AC, \d+ MV errors/,
  /decode_slice_header error/,
  /non-existing PPS \d+ referenced/,
  /Invalid NAL unit size/,
  /Discarding interframe without a prior keyframe/,
  /corrupted macroblock/,
  /Error while decoding stream/,
  /corrupt decoded frame/,
];

/** Whether one line of ffmpeg's stderr says the publisher's stream arrived damaged. */
export function ffmpegReportsDamage(line: string): boolean {
  return DAMAGE_PATTERNS.some((pattern) => pattern.test(line));
}
