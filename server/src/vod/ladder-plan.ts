import type { LadderSource } from './ladder-source.js';

/** Video bitrate per rung at 30 fps, keyed by the rung's short side in pixels (kbit/s). */
export const DEFAULT_BITRATE_TABLE_KBPS: Readonly<Record<number, number>> = {
  144: 200,
  240: 400,
  360: 800,
  480: 1400,
  720: 2800,
  1080: 5000,
  1440: 8000,
  2160: 14000,
};

/** The ladder's defaults: what a broadcast replay is encoded to unless the caller says otherwise. */
export const DEFAULT_LADDER_OPTIONS = {
  /** Rung short sides, largest first does not matter: they are sorted. */
  rungs: [1080, 720, 480, 360],
  /**
   * Target HLS segment length. Every rung gets a keyframe exactly every this many seconds, so the
   * segments of all rungs cut at the same instants (a player switching rungs never drifts).
   * 4 s keeps a replay clip's download small (a clip fetches the segments its range touches).
   */
  segmentS: 4,
  /** x264 preset: `veryfast` keeps a 3-rung 720p ladder above 2x realtime on 2 cores. */
  preset: 'veryfast',
  bitrateTableKbps: DEFAULT_BITRATE_TABLE_KBPS,
  /** VBV: peak rate and buffer as multiples of the rung's average bitrate. */
  maxrateRatio: 1.5,
  bufsizeRatio: 2,
  /** Sources above this are reduced to it (a 120 fps phone clip does not need 120 fps renditions). */
  maxFrameRate: 60,
  /** Used when ffprobe cannot tell the frame rate. */
  fallbackFrameRate: 30,
  audioBitrateKbps: 128,
  audioSampleRate: 48_000,
  /** The poster frame, as a share of the duration. */
  posterAt: 0.1,
  storyboard: { intervalS: 5, tileWidth: 160, columns: 5, rows: 5 },
  /**
   * A source between two configured rungs (say 900p with rungs 1080/720) also gets a rung at
   * its own size, unless that size is within this factor of the next rung down (479p next to
   * 480p is not worth a rung; 900p next to 720p is).
   */
  nativeRungMinStep: 1.15,
  /** Shorter sides than this are not a video worth a ladder. */
  minShortSidePx: 16,
} as const;

export interface LadderOptions {
  readonly rungs?: readonly number[];
  readonly segmentS?: number;
  readonly preset?: string;
  readonly bitrateTableKbps?: Readonly<Record<number, number>>;
  readonly maxrateRatio?: number;
  readonly bufsizeRatio?: number;
  readonly maxFrameRate?: number;
  readonly fallbackFrameRate?: number;
  readonly audioBitrateKbps?: number;
  readonly audioSampleRate?: number;
  readonly posterAt?: number;
  readonly storyboard?: Partial<StoryboardPlan>;
  readonly nativeRungMinStep?: number;
  readonly minShortSidePx?: number;
}

export interface LadderRung {
  /** `720p`: the variant's directory and its name in the master playlist. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly shortSide: number;
  readonly videoBitrateKbps: number;
  readonly maxrateKbps: number;
  readonly bufsizeKbps: number;
}

export interface StoryboardPlan {
  /** One thumbnail every this many seconds. */
  readonly intervalS: number;
  readonly tileWidth: number;
  /** Derived from the display aspect ratio (even). */
  readonly tileHeight: number;
  readonly columns: number;
  readonly rows: number;
}

export interface LadderPlan {
  /** The picture as shown: coded size with rotation and pixel aspect applied. */
  readonly display: { readonly width: number; readonly height: number };
  /** Output frame rate of every rung. */
  readonly frameRate: number;
  /** Set when the source's frame rate is above the cap: an `fps` filter brings it down to this. */
  readonly frameRateCap?: number;
  readonly segmentS: number;
  /** Frames per GOP: round(frameRate x segmentS); keyframes only at segment boundaries. */
  readonly gop: number;
  readonly preset: string;
  /** Largest first. */
  readonly rungs: readonly LadderRung[];
  /** One AAC rendition shared by every rung (an `EXT-X-MEDIA` audio group); absent for a video-only source. */
  readonly audio?: { readonly bitrateKbps: number; readonly sampleRate: number; readonly channels: 2 };
  readonly durationS?: number;
  readonly poster: { readonly atS: number; readonly width: number; readonly height: number };
  readonly storyboard: StoryboardPlan;
}

export type LadderPlanResult = { readonly ok: true; readonly plan: LadderPlan } | { readonly ok: false; readonly reason: string };

/**
 * Plans the ladder for a source. Pure. Rungs are chosen by the source's short side after
 * rotation (a portrait 1080x1920 phone clip is "1080p"), never above the source's own size; a
 * source smaller than every configured rung gets one rung at its own size. Sizes are even
 * (x264 with 4:2:0 needs it) and keep the display aspect ratio.
 *
 * Audio-only sources are refused: a replay is a video for the player, with a poster and a
 * storyboard; a broadcast without a picture is a recording problem to report, not a VOD.
 */
export function planLadder(source: LadderSource, options: LadderOptions = {}): LadderPlanResult {
  const o = { ...DEFAULT_LADDER_OPTIONS, ...options, storyboard: { ...DEFAULT_LADDER_OPTIONS.storyboard, ...options.storyboard } };
  const video = source.video;
  if (!video) return { ok: false, reason: 'the source has no video stream (audio-only): a replay needs a picture' };
  if (!(video.width > 0 && video.height > 0)) return { ok: false, reason: 'the source video has no known size' };
  if (!(o.segmentS > 0)) return { ok: false, reason: `segment length ${o.segmentS} s is not positive` };

  const display = displaySize(video.width, video.height, video.rotationDeg, video.sampleAspectRatio);
  const sourceShort = Math.min(display.width, display.height);
  if (sourceShort < o.minShortSidePx) {
    return { ok: false, reason: `the source is ${display.width}x${display.height}, smaller than ${o.minShortSidePx} px on its short side` };
  }

  const sourceFrameRate = video.frameRate && video.frameRate > 0 ? video.frameRate : o.fallbackFrameRate;
  const frameRate = Math.min(sourceFrameRate, o.maxFrameRate);
  const shortSides = chooseShortSides(sourceShort, o.rungs, o.nativeRungMinStep);
  const rungs = shortSides.map((shortSide) => {
    const size = rungSize(display, shortSide);
    const videoBitrateKbps = Math.round(bitrateFor(size.width * size.height, o.bitrateTableKbps) * frameRateFactor(frameRate));
    return {
      name: `${shortSide}p`,
      ...size,
      shortSide,
      videoBitrateKbps,
      maxrateKbps: Math.round(videoBitrateKbps * o.maxrateRatio),
      bufsizeKbps: Math.round(videoBitrateKbps * o.bufsizeRatio),
    };
  });
  const top = rungs[0]!;
  const tileWidth = Math.min(o.storyboard.tileWidth, top.width);

  return {
    ok: true,
    plan: {
      display,
      frameRate,
      ...(sourceFrameRate > o.maxFrameRate ? { frameRateCap: o.maxFrameRate } : {}),
      segmentS: o.segmentS,
      gop: Math.max(1, Math.round(frameRate * o.segmentS)),
      preset: o.preset,
      rungs,
      ...(source.hasAudio ? { audio: { bitrateKbps: o.audioBitrateKbps, sampleRate: o.audioSampleRate, channels: 2 as const } } : {}),
      ...(source.durationS !== undefined ? { durationS: source.durationS } : {}),
      poster: { atS: (source.durationS ?? 0) * o.posterAt, width: top.width, height: top.height },
      storyboard: {
        intervalS: o.storyboard.intervalS,
        tileWidth,
        tileHeight: even((tileWidth * display.height) / display.width),
        columns: o.storyboard.columns,
        rows: o.storyboard.rows,
      },
    },
  };
}

/** The displayed size: pixel aspect applied to the width, then width and height swapped for a quarter turn. */
export function displaySize(width: number, height: number, rotationDeg: number, sampleAspectRatio = 1): { width: number; height: number } {
  const shownWidth = sampleAspectRatio > 0 && sampleAspectRatio !== 1 ? Math.round(width * sampleAspectRatio) : width;
  const quarterTurns = ((Math.round(rotationDeg / 90) % 4) + 4) % 4;
  return quarterTurns % 2 === 1 ? { width: height, height: shownWidth } : { width: shownWidth, height };
}

/**
 * Configured rungs at or below the source's short side, plus a rung at the source's own (even)
 * size when a configured rung above it had to be skipped and the next one down is a real step
 * below (or there is none).
 */
function chooseShortSides(sourceShort: number, configured: readonly number[], nativeRungMinStep: number): number[] {
  const ownSize = evenFloor(sourceShort);
  const wanted = [...new Set(configured.map(evenFloor).filter((side) => side >= 2))].sort((a, b) => b - a);
  const fitting = wanted.filter((side) => side <= ownSize);
  const skippedAbove = wanted.some((side) => side > ownSize);
  const nextDown = fitting[0];
  if (skippedAbove && (nextDown === undefined || ownSize > nextDown * nativeRungMinStep)) return [ownSize, ...fitting];
  return fitting.length > 0 ? fitting : [ownSize];
}

function rungSize(display: { width: number; height: number }, shortSide: number): { width: number; height: number } {
  const landscape = display.width >= display.height;
  const long = landscape ? display.width : display.height;
  const short = landscape ? display.height : display.width;
  // Rounding to even may round up past the source's own long side by a pixel: never upscale.
  const longSide = Math.min(even((shortSide * long) / short), evenFloor(long));
  return landscape ? { width: longSide, height: shortSide } : { width: shortSide, height: longSide };
}

/**
 * Bitrate for a frame of `pixels`: the table entry of the same pixel count, else interpolated
 * between the neighbouring entries by pixel count (a 900p rung between 720p and 1080p), else
 * scaled from the nearest end of the table by pixels^0.75 (quality per bit grows with size).
 */
export function bitrateFor(pixels: number, table: Readonly<Record<number, number>>): number {
  const points = Object.entries(table)
    .map(([side, kbps]) => ({ pixels: (Number(side) * Number(side) * 16) / 9, kbps }))
    .sort((a, b) => a.pixels - b.pixels);
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) throw new TypeError('bitrate table is empty');
  if (pixels <= first.pixels) return first.kbps * (pixels / first.pixels) ** 0.75;
  if (pixels >= last.pixels) return last.kbps * (pixels / last.pixels) ** 0.75;
  const upper = points.findIndex((point) => point.pixels >= pixels);
  const high = points[upper]!;
  const low = points[upper - 1]!;
  return low.kbps + ((high.kbps - low.kbps) * (pixels - low.pixels)) / (high.pixels - low.pixels);
}

/** 30 fps -> 1, 60 fps -> 1.5, 24 fps -> 0.9: more frames need more bits, though not in proportion. */
export function frameRateFactor(frameRate: number): number {
  return Math.min(1.5, Math.max(0.6, 0.5 + frameRate / 60));
}

function even(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}

function evenFloor(value: number): number {
  return 2 * Math.floor(value / 2);
}
