import type { MediaProbe } from './probe.js';

/** What an upload's container and streams may be. Edges are inclusive. */
export interface MediaLimits {
  /** Accepted ffprobe `format_name`s (the whole demuxer name, as ffprobe prints it). */
  readonly containers: readonly string[];
  readonly videoCodecs: readonly string[];
  readonly audioCodecs: readonly string[];
  readonly minDurationS: number;
  readonly maxDurationS: number;
  readonly minEdgePx: number;
  /** The longer side, so portrait 2160x3840 is as fine as landscape 3840x2160. */
  readonly maxLongEdgePx: number;
  readonly maxShortEdgePx: number;
  /** Declared sizes past this are not just too big but a lie or an attack: the reason says so. */
  readonly absurdEdgePx: number;
  readonly maxFrameRate: number;
  readonly minVideoStreams: number;
  readonly maxVideoStreams: number;
  readonly maxAudioStreams: number;
  /** Data, subtitle, timecode and cover-art streams (phones add a few). */
  readonly maxOtherStreams: number;
  /**
   * Truncation: the video actually present (packets read / frame rate, or packets read / frames
   * declared) must be at least this share of what the container declares.
   */
  readonly minPresentRatio: number;
}

/** The default upload policy (issue 4): short clips in the usual web and phone formats. */
export const DEFAULT_MEDIA_LIMITS = {
  containers: ['mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm'],
  videoCodecs: ['h264', 'hevc', 'vp8', 'vp9', 'av1'],
  audioCodecs: ['aac', 'opus', 'mp3', 'vorbis'],
  minDurationS: 0.5,
  maxDurationS: 600,
  minEdgePx: 16,
  maxLongEdgePx: 3840,
  maxShortEdgePx: 2160,
  absurdEdgePx: 8192,
  maxFrameRate: 120,
  minVideoStreams: 1,
  maxVideoStreams: 1,
  maxAudioStreams: 2,
  maxOtherStreams: 2,
  minPresentRatio: 0.9,
} as const satisfies MediaLimits;

export type MediaLimitsResult = { readonly ok: true } | { readonly ok: false; readonly reasons: readonly string[] };

/** Checks a probe against the policy. Pure; every failed rule adds one human-readable reason. */
export function checkMediaLimits(probe: MediaProbe, limits: MediaLimits = DEFAULT_MEDIA_LIMITS): MediaLimitsResult {
  const reasons: string[] = [];

  if (!limits.containers.includes(probe.container)) reasons.push(`container ${probe.container} is not allowed`);

  if (probe.durationS === undefined) reasons.push('duration is unknown');
  else if (probe.durationS < limits.minDurationS) reasons.push(`duration ${fmt(probe.durationS)} s is shorter than ${limits.minDurationS} s`);
  else if (probe.durationS > limits.maxDurationS) reasons.push(`duration ${fmt(probe.durationS)} s is longer than ${limits.maxDurationS} s`);

  const video = probe.streams.filter((stream) => stream.kind === 'video');
  const audio = probe.streams.filter((stream) => stream.kind === 'audio');
  const other = probe.streams.filter((stream) => stream.kind === 'other');
  if (video.length < limits.minVideoStreams) reasons.push(`${video.length} video streams, at least ${limits.minVideoStreams} required`);
  if (video.length > limits.maxVideoStreams) reasons.push(`${video.length} video streams, at most ${limits.maxVideoStreams} allowed`);
  if (audio.length > limits.maxAudioStreams) reasons.push(`${audio.length} audio streams, at most ${limits.maxAudioStreams} allowed`);
  if (other.length > limits.maxOtherStreams) reasons.push(`${other.length} other streams, at most ${limits.maxOtherStreams} allowed`);

  for (const stream of video) {
    const label = `video stream ${stream.index}`;
    if (!limits.videoCodecs.includes(stream.codec)) reasons.push(`${label}: codec ${stream.codec} is not allowed`);
    reasons.push(...checkDimensions(label, stream.width, stream.height, limits));
    if (stream.frameRate !== undefined && stream.frameRate > limits.maxFrameRate) {
      reasons.push(`${label}: frame rate ${fmt(stream.frameRate)} fps is above ${limits.maxFrameRate}`);
    }
    const truncation = checkTruncation(stream.readPackets, stream.declaredFrames, stream.frameRate, probe.durationS, limits);
    if (truncation) reasons.push(`${label}: ${truncation}`);
  }
  for (const stream of audio) {
    if (!limits.audioCodecs.includes(stream.codec)) reasons.push(`audio stream ${stream.index}: codec ${stream.codec} is not allowed`);
  }

  return reasons.length === 0 ? { ok: true } : { ok: false, reasons };
}

function checkDimensions(label: string, width: number | undefined, height: number | undefined, limits: MediaLimits): string[] {
  if (width === undefined || height === undefined || width <= 0 || height <= 0) return [`${label}: dimensions are unknown`];
  const size = `${width}x${height}`;
  if (width > limits.absurdEdgePx || height > limits.absurdEdgePx) return [`${label}: declared dimensions ${size} are absurd`];
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (short < limits.minEdgePx) return [`${label}: ${size} is smaller than ${limits.minEdgePx} px`];
  if (long > limits.maxLongEdgePx || short > limits.maxShortEdgePx) {
    return [`${label}: ${size} is larger than ${limits.maxLongEdgePx}x${limits.maxShortEdgePx}`];
  }
  return [];
}

/**
 * A file cut short (or whose header lies about its length) has fewer packets than it declares:
 * MP4 declares its frame count (`nb_frames`) and its duration; Matroska only its duration.
 */
function checkTruncation(
  readPackets: number | undefined,
  declaredFrames: number | undefined,
  frameRate: number | undefined,
  durationS: number | undefined,
  limits: MediaLimits,
): string | undefined {
  if (readPackets === undefined) return undefined;
  if (readPackets === 0) return 'no video packets could be read (truncated or empty)';
  if (declaredFrames !== undefined && declaredFrames > 0 && readPackets < declaredFrames * limits.minPresentRatio) {
    return `truncated: ${readPackets} of ${declaredFrames} declared frames present`;
  }
  if (frameRate !== undefined && durationS !== undefined && durationS > 0) {
    const presentS = readPackets / frameRate;
    // One second of slack for variable frame rates and streams that start late.
    if (presentS + 1 < durationS * limits.minPresentRatio) {
      return `truncated: about ${fmt(presentS)} s of video present, container declares ${fmt(durationS)} s`;
    }
  }
  return undefined;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
