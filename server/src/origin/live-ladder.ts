import { join } from 'node:path';
import { planLadder, type LadderPlan } from '../vod/index.js';
import type { FrameSize } from './video-frame-size.js';

/** The live ladder's knobs (config: `ORIGIN_*`). */
export interface LiveLadderOptions {
  /** Rung short sides; the source's own size is never exceeded (the VOD ladder's rule). */
  readonly rungs: readonly number[];
  /** HLS segment length: 2 s keeps the glass-to-glass delay low. */
  readonly segmentS: number;
  /** Segments a live playlist lists (the live window). */
  readonly playlistSegments: number;
  /** x264 preset; live has to keep up in real time on 2 cores. */
  readonly preset: string;
  /** Output frame rate (WebRTC frame rates vary; the ladder is constant). */
  readonly frameRate: number;
}

export const DEFAULT_LIVE_LADDER_OPTIONS: LiveLadderOptions = {
  rungs: [1080, 720, 480, 360],
  segmentS: 2,
  playlistSegments: 10,
  preset: 'veryfast',
  frameRate: 30,
};

/** File names inside a live session's output directory (the `LiveHlsSink` contract). */
export const LIVE_LADDER_FILES = {
  master: 'master.m3u8',
  variantPlaylist: 'index.m3u8',
  segmentPattern: 'seg-%d.m4s',
  init: 'init.mp4',
  audioName: 'audio',
} as const;

/**
 * Plans the live ladder from the publisher's picture size with the VOD ladder's rung planning
 * (`planLadder`: rungs by the short side, never upscaled, a rung at the source's own size when
 * a configured one had to be skipped), at the live segment length and a fixed frame rate.
 */
export function planLiveLadder(size: FrameSize, hasAudio: boolean, options: LiveLadderOptions = DEFAULT_LIVE_LADDER_OPTIONS): LadderPlan {
  const result = planLadder(
    { video: { width: size.width, height: size.height, rotationDeg: 0, sampleAspectRatio: 1, frameRate: options.frameRate }, hasAudio },
    { rungs: options.rungs, segmentS: options.segmentS, preset: options.preset, maxFrameRate: options.frameRate },
  );
  if (!result.ok) throw new RangeError(`no live ladder for ${size.width}x${size.height}: ${result.reason}`);
  return result.plan;
}

/** How far a declared picture's shape may be from the received one's and still be taken (2 %). */
const SAME_SHAPE_TOLERANCE = 0.02;

/**
 * The picture the live ladder is planned from: the largest `received` so far, or the picture the
 * offer `declared` it will send (`OfferSummary.sendSize`) when that is larger and of the same shape,
 * fitted within `maxShortSidePx`. A browser's encoder may start below its camera's size (its
 * first bandwidth estimate, a busy CPU) and scale up seconds later: planned from the declaration,
 * the ladder has the camera's rungs and upscales those first seconds, instead of keeping the small
 * start's rungs for the whole broadcast and its replay. Pure.
 */
export function ladderSourceSize(received: FrameSize, declared: FrameSize | undefined, maxShortSidePx: number): FrameSize {
  if (!declared) return received;
  const shape = (size: FrameSize) => size.width / size.height;
  if (Math.abs(shape(declared) - shape(received)) > SAME_SHAPE_TOLERANCE * shape(received)) return received;
  const short = Math.min(declared.width, declared.height);
  const scale = Math.min(1, maxShortSidePx / short);
  const fitted = { width: 2 * Math.round((declared.width * scale) / 2), height: 2 * Math.round((declared.height * scale) / 2) };
  return Math.min(fitted.width, fitted.height) > Math.min(received.width, received.height) ? fitted : received;
}

/** x264's fastest preset: a third of `veryfast`'s CPU for a softer picture at the same bitrate. */
const FASTEST_PRESET = 'ultrafast';

/**
 * One step lighter than `plan`, for an origin whose ffmpeg falls behind real time: without its
 * top rung (the largest picture is most of the encoding's work, and viewers who had it get the
 * next one), or, with one rung left, the same rung at x264's fastest preset. Undefined when
 * nothing is left to shed. Pure.
 */
export function lighterLadder(plan: LadderPlan): LadderPlan | undefined {
  if (plan.rungs.length > 1) return { ...plan, rungs: plan.rungs.slice(1) };
  if (plan.preset !== FASTEST_PRESET) return { ...plan, preset: FASTEST_PRESET };
  return undefined;
}

/**
 * The same rungs at x264's fastest preset, for a live ladder that falls behind real time while
 * viewers watch it (its variants must stay: players do not load the master playlist again).
 * Undefined when it is at that preset already. Pure.
 */
export function fasterLadder(plan: LadderPlan): LadderPlan | undefined {
  return plan.preset === FASTEST_PRESET ? undefined : { ...plan, preset: FASTEST_PRESET };
}

export interface RtpInputPorts {
  readonly video: number;
  readonly audio?: number;
}

export interface RtpInputCodecs {
  readonly video: { readonly codec: 'h264' | 'vp8'; readonly payloadType: number };
  readonly audio?: { readonly payloadType: number; readonly channels: number };
}

/**
 * The SDP ffmpeg reads the forwarded RTP with: plain RTP/AVP on loopback, the payload types
 * the WebRTC session negotiated, RTCP on port + 1 (the publisher's sender reports, for lip sync).
 *
 * Audio comes first: ffmpeg's SDP demuxer (`udp_read_packet` in libavformat/rtsp.c) polls the
 * streams' sockets and reads from the first, in SDP order, that has a packet waiting. An ffmpeg
 * that falls behind its input (a starved CPU) always has video waiting, so with video first it
 * never read audio: its socket filled (300 kB queued, measured) and the audio rendition's
 * playlist stopped at its first segment while video went on, and hls.js, which waits for the
 * audio rendition, played nothing. Audio first costs video nothing (50 small packets a second).
 */
export function rtpInputSdp(ports: RtpInputPorts, codecs: RtpInputCodecs): string {
  const video = codecs.video;
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=live-upload origin', 'c=IN IP4 127.0.0.1', 't=0 0'];
  if (codecs.audio && ports.audio !== undefined) {
    lines.push(`m=audio ${ports.audio} RTP/AVP ${codecs.audio.payloadType}`, `a=rtpmap:${codecs.audio.payloadType} opus/48000/${codecs.audio.channels}`);
  }
  lines.push(
    `m=video ${ports.video} RTP/AVP ${video.payloadType}`,
    `a=rtpmap:${video.payloadType} ${video.codec === 'h264' ? 'H264' : 'VP8'}/90000`,
    ...(video.codec === 'h264' ? [`a=fmtp:${video.payloadType} packetization-mode=1`] : []),
  );
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The one ffmpeg command of a live session: RTP in (the SDP file), decoded once, a `scale` per
 * rung, libx264 per rung with keyframes exactly every segment (forced by time, no scene cuts,
 * `zerolatency`), Opus to AAC once (its own rendition every variant shares), out as live fMP4
 * HLS: 2 s segments, `EXT-X-PROGRAM-DATE-TIME`, `EXT-X-INDEPENDENT-SEGMENTS`, `temp_file` (a
 * segment or playlist appears whole, by rename), a sliding window (old segments deleted here;
 * the sink keeps what it needs), and ffmpeg's master playlist (BANDWIDTH, RESOLUTION, CODECS).
 * A `continuation` goes on from a ladder viewers are watching (`LadderContinuationArgs`). Pure.
 */
/**
 * How a ladder that replaces a live one while viewers watch it (same rungs, a new ffmpeg) goes
 * on from it: segment files numbered past every old one, timestamps after the old ones, and its
 * own init segment per rung (a new encoder's parameters), named `init_r{n}_{rung}.mp4`.
 */
export interface LadderContinuationArgs {
  /** The first segment's number (`-start_number`): past every segment file the old ladder wrote. */
  readonly startNumber: number;
  /** Where the new timestamps start (`-output_ts_offset`): the old ladder's media time. */
  readonly timestampOffsetS: number;
  /** Which replacement this is (1, 2, ...): names the init segments. */
  readonly replacement: number;
}

/** The init segment a rung of the `replacement`th continuing ladder has (ffmpeg fills in `%v`, the rung's name). */
export function continuationInitName(replacement: number): string {
  return `init_r${replacement}_%v.mp4`;
}

export function liveLadderFfmpegArgs(
  plan: LadderPlan,
  sdpPath: string,
  outputDir: string,
  options: Pick<LiveLadderOptions, 'playlistSegments'>,
  continuation?: LadderContinuationArgs,
): string[] {
  const rungs = plan.rungs;
  const graph = [
    `[0:v:0]fps=${plan.frameRate},split=${rungs.length}${rungs.map((_, i) => `[in${i}]`).join('')}`,
    ...rungs.map((rung, i) => `[in${i}]scale=${rung.width}:${rung.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(';');
  const audio = plan.audio;
  const streamMap = [
    ...rungs.map((rung, i) => `v:${i},${audio ? 'agroup:audio,' : ''}name:${rung.name}`),
    ...(audio ? [`a:0,agroup:audio,name:${LIVE_LADDER_FILES.audioName},default:yes`] : []),
  ].join(' ');
  return [
    '-y',
    '-v', 'warning',
    '-protocol_whitelist', 'file,udp,rtp',
    // Packets reordered on the way in (loopback after werift's NACK recovery) are put back in order here.
    '-reorder_queue_size', '512',
    '-analyzeduration', '1000000',
    '-probesize', '1000000',
    '-fflags', '+genpts',
    // Progress (`frame=`, the first rung's frames encoded) twice a second on stdout: how `LadderPace` tells a ladder that keeps up from one that falls behind.
    // (Not with `-nostats`: at `-v warning` the stats line is not printed anyway, and with it the
    // served segments came later in 4 of 5 runs of `bench/origin.ts`, 0.4-2.8 s against 0.4-0.5 s.)
    '-progress', 'pipe:1',
    '-stats_period', '0.5',
    '-i', sdpPath,
    '-filter_complex', graph,
    ...rungs.flatMap((_, i) => ['-map', `[v${i}]`]),
    ...(audio ? ['-map', '0:a:0'] : []),
    '-c:v', 'libx264',
    '-preset', plan.preset,
    '-tune', 'zerolatency',
    '-profile:v', 'high',
    ...rungs.flatMap((rung, i) => [`-b:v:${i}`, `${rung.videoBitrateKbps}k`, `-maxrate:v:${i}`, `${rung.maxrateKbps}k`, `-bufsize:v:${i}`, `${rung.bufsizeKbps}k`]),
    '-g', String(plan.gop),
    '-keyint_min', String(plan.gop),
    '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${plan.segmentS})`,
    ...(audio ? ['-c:a', 'aac', '-b:a', `${audio.bitrateKbps}k`, '-ar', String(audio.sampleRate), '-ac', String(audio.channels)] : []),
    '-f', 'hls',
    '-hls_segment_type', 'fmp4',
    '-hls_time', String(plan.segmentS),
    '-hls_list_size', String(options.playlistSegments),
    '-hls_delete_threshold', '2',
    '-hls_flags', 'independent_segments+program_date_time+temp_file+delete_segments',
    '-hls_fmp4_init_filename', continuation ? continuationInitName(continuation.replacement) : LIVE_LADDER_FILES.init,
    ...(continuation ? ['-start_number', String(continuation.startNumber), '-output_ts_offset', continuation.timestampOffsetS.toFixed(3)] : []),
    '-hls_segment_filename', join(outputDir, '%v', LIVE_LADDER_FILES.segmentPattern),
    '-master_pl_name', LIVE_LADDER_FILES.master,
    '-var_stream_map', streamMap,
    join(outputDir, '%v', LIVE_LADDER_FILES.variantPlaylist),
  ];
}
