/** Video RTP's clock (H.264 and VP8): 90 kHz. */
const VIDEO_CLOCK_HZ = 90_000;

export interface LadderPaceOptions {
  /**
   * Lag beyond the least the ladder has shown that makes it behind: two 2 s segments. A ladder
   * that keeps up holds its lag (the wait for its first keyframe, the decoder's and muxer's few
   * frames); one below real time gains its shortfall every second (at 0.7x, 0.3 s a second).
   */
  readonly behindS: number;
  /**
   * Below this speed (media encoded per media sent, since ffmpeg's first report) a ladder is
   * behind once `minSpanS` of media was sent since that report: what tells one that cannot keep
   * up when its first segments are out (the session waits for it before going live), long before
   * its lag has grown by `behindS`. ffmpeg first reports after its 1 s probe, and its first 2 s
   * segment is out about 1 s of media later: 0.9 s judges a ladder that keeps up by then.
   */
  readonly minSpeed: number;
  readonly minSpanS: number;
  /**
   * ...and only once that slowness has cost this much lag (half a segment): a burst of media
   * that arrived just before a report (network jitter, a retransmission) lowers the speed of a
   * short span for a moment without the ladder being slow, and a shed is for the broadcast.
   */
  readonly minExcessS: number;
}

export const DEFAULT_LADDER_PACE_OPTIONS: LadderPaceOptions = { behindS: 4, minSpeed: 0.7, minSpanS: 0.9, minExcessS: 1 };

export type LadderPaceVerdict =
  /** Nothing encoded yet: no lag to judge (the ladder waits for its first keyframe). */
  | { readonly state: 'starting' }
  | {
      readonly state: 'keeping-up' | 'behind';
      /** Media sent minus media encoded, seconds. */
      readonly lagS: number;
      /** The lag beyond the least it has been. */
      readonly excessS: number;
      /** Media encoded per media sent since the first frame; undefined until `minSpanS` of media was sent since. */
      readonly speed: number | undefined;
    };

/**
 * Whether a live ladder's ffmpeg keeps up with the media it is sent: the media time forwarded to
 * it (the video RTP timestamps, which advance with the publisher's clock) against the media time
 * it has encoded (its first rung's frames, at the ladder's constant frame rate, from `-progress`).
 * Their difference, the lag, holds for an ffmpeg that keeps up, whatever the publisher's pauses
 * (no packets: neither side moves) or frame rate (the ladder's `fps` filter fills gaps); it grows
 * for one that does not, and for one that stopped reading. The lag is taken when ffmpeg reports
 * (the media sent by then against what it says it encoded), and measured from the least seen,
 * so the wait for the first keyframe is not counted. Pure: fed by the session, no clock.
 */
export class LadderPace {
  private lastTimestamp: number | undefined;
  private forwardedTicks = 0;
  private encodedS: number | undefined;
  private first: { readonly forwardedS: number; readonly encodedS: number } | undefined;
  private leastLagS = Number.POSITIVE_INFINITY;
  private speed: number | undefined;

  constructor(private readonly options: LadderPaceOptions = DEFAULT_LADDER_PACE_OPTIONS) {}

  /** A video packet forwarded to ffmpeg, by its RTP timestamp (a late, reordered or repeated one does not move the media time back). */
  forwarded(rtpTimestamp: number): void {
    if (this.lastTimestamp !== undefined) {
      const delta = (rtpTimestamp - this.lastTimestamp) | 0; // signed: wraps at 2^32 like the timestamp
      if (delta <= 0) return;
      this.forwardedTicks += delta;
    }
    this.lastTimestamp = rtpTimestamp;
  }

  /** ffmpeg's progress report: `frames` of the first rung encoded at the ladder's `frameRate`. */
  encoded(frames: number, frameRate: number): void {
    if (!(frames > 0 && frameRate > 0)) return;
    const encodedS = frames / frameRate;
    const forwardedS = this.forwardedS();
    this.encodedS = encodedS;
    this.leastLagS = Math.min(this.leastLagS, forwardedS - encodedS);
    this.first ??= { forwardedS, encodedS };
    const spanS = forwardedS - this.first.forwardedS;
    if (spanS >= this.options.minSpanS) this.speed = (encodedS - this.first.encodedS) / spanS;
  }

  /** The pace now: the lag counts the media sent since ffmpeg's last report too (an ffmpeg that stopped reporting is falling behind). */
  verdict(): LadderPaceVerdict {
    if (this.encodedS === undefined) return { state: 'starting' };
    const lagS = this.forwardedS() - this.encodedS;
    const excessS = lagS - this.leastLagS;
    const slow = this.speed !== undefined && this.speed < this.options.minSpeed && excessS >= this.options.minExcessS;
    const behind = excessS > this.options.behindS || slow;
    return { state: behind ? 'behind' : 'keeping-up', lagS, excessS, speed: this.speed };
  }

  private forwardedS(): number {
    return this.forwardedTicks / VIDEO_CLOCK_HZ;
  }
}
