export { readFfmpegProgress } from './ffmpeg-progress.js';
export { runFfmpeg, runFfprobe, DEFAULT_MEDIA_BINARIES, type MediaBinaries, type MediaProcessResult, type RunMediaOptions } from './ffmpeg-runner.js';
export { MediaProcessError, MEDIA_TOOLS, MEDIA_FAILURE_KINDS, type MediaTool, type MediaFailureKind } from './media-process-error.js';
export { createJobLimiter, type JobLimiter } from './job-limiter.js';
export { ACCEPTED_DEMUXERS, mediaInputArgs, mediaOutputArg } from './media-input.js';
export { probeMedia, parseFfprobeOutput, STREAM_KINDS, type MediaProbe, type MediaStream, type ProbeOptions, type StreamKind } from './probe.js';
export { checkMediaLimits, DEFAULT_MEDIA_LIMITS, type MediaLimits, type MediaLimitsResult } from './media-limits.js';
export { checkMediaFile, type MediaFileCheck } from './check-media-file.js';
export {
  dHash,
  hammingDistance,
  matchesBlocklist,
  sampleFrameHashes,
  perceptualHashSchema,
  PERCEPTUAL_HASH_DEFAULTS,
  type BlocklistMatch,
  type BlocklistMatchOptions,
  type FrameHashOptions,
  type PerceptualHash,
} from './perceptual-hash.js';
export { transcodeForPublishing, PUBLISHING_PROFILE, PUBLISHED_FILES, type PublishedMedia, type TranscodeOptions } from './transcode.js';
export { sniffFileType, isAllowedVideoType, ALLOWED_VIDEO_MIME_TYPES, type AllowedVideoMimeType, type SniffedFileType } from './sniff-file-type.js';
export { readMp4BoxLayout, type Mp4Box, type Mp4BoxLayout } from './mp4-boxes.js';
