/** Video RTP's clock (H.264 and VP8): 90 kHz. */
const VIDEO_CLOCK_HZ = 90_000;

export interface LadderPaceOptions {
  /**
   * Lag beyond the least the ladder has shown that makes it behind whatever its speed: two 2 s
   * segments. A ladder that keeps up holds its lag (the wait for its first keyframe, the
   * decoder's and muxer's few frames); one below real time gains its shortfall every second.
   */
  readonly behindS: number;
  /**
   * Its speed (media encoded per media sent since ffmpeg's first report) is judged once this much
   * media was sent since that report. ffmpeg first reports after its 1 s probe, and its first 2 s
   * segment is out about 1 s of media later: 0.9 s judges a ladder by then.
   */
  readonly minSpanS: number;
  /** At this speed or above a ladder keeps up (a little below 1: the measure's own noise). */
  readonly realTimeSpeed: number;
  /**
   * A ladder below `realTimeSpeed` is `slow` until that has cost this much lag (half a segment),
   * then `behind`: a burst of media that arrived just before a report (network jitter, a
   * retransmission) makes a short span look slow for a moment, and a shed lasts the broadcast.
   */
  readonly behindAfterS: number;
}

export const DEFAULT_LADDER_PACE_OPTIONS: LadderPaceOptions = { behindS: 4, minSpanS: 0.9, realTimeSpeed: 0.95, behindAfterS: 1 };

/**
 * `starting`: nothing encoded yet (the ladder waits for its first keyframe); `judging`: frames,
 * but not yet `minSpanS` of media since the first report; `keeping-up`; `slow`: below real time,
 * by less than `behindAfterS` so far; `behind`.
 */
export type LadderPaceState = 'starting' | 'judging' | 'keeping-up' | 'slow' | 'behind';

export type LadderPaceVerdict =
  | { readonly state: 'starting' }
  | {
      readonly state: Exclude<LadderPaceState, 'starting'>;
      /** Media sent minus media encoded, seconds. */
      readonly lagS: number;
      /** The lag beyond the least it has been. */
      readonly excessS: number;
      /** Media encoded per media sent since ffmpeg's first report; undefined while `judging`. */
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
    return { state: this.state(excessS), lagS, excessS, speed: this.speed };
  }

  private state(excessS: number): Exclude<LadderPaceState, 'starting'> {
    if (excessS > this.options.behindS) return 'behind';
    if (this.speed === undefined) return 'judging';
    if (this.speed >= this.options.realTimeSpeed) return 'keeping-up';
    return excessS >= this.options.behindAfterS ? 'behind' : 'slow';
  }

  private forwardedS(): number {
    return this.forwardedTicks / VIDEO_CLOCK_HZ;
  }
}
