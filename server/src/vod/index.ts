/**
 * VOD (issue 21): a finished broadcast, a VOD playlist or a long upload becomes a
 * multi-bitrate HLS/CMAF replay. This folder is the ladder itself: `planLadder` (pure: rungs,
 * sizes, rates, GOP), `ladderFfmpegArgs` (pure: one ffmpeg, one decode), `transcodeLadder`
 * (runs it into a staging directory with progress, abort and timeout, measures the output,
 * writes the master playlist and the storyboard VTT, renames into place).
 */
export { planLadder, displaySize, bitrateFor, frameRateFactor, DEFAULT_LADDER_OPTIONS, DEFAULT_BITRATE_TABLE_KBPS, type LadderOptions, type LadderPlan, type LadderPlanResult, type LadderRung, type StoryboardPlan } from './ladder-plan.js';
export { probeLadderSource, parseLadderSource, type LadderSource, type ProbeLadderSourceOptions } from './ladder-source.js';
export { ladderInputArgs, LADDER_INPUT_FORMATS, HLS_ARCHIVE_INPUT_FORMATS } from './ladder-input.js';
export { ladderFfmpegArgs, storyboardSheetName, LADDER_FILES, type LadderArgsOptions } from './ladder-ffmpeg-args.js';
export { writeMasterPlaylist, segmentBitrates, avcCodecString, AAC_LC_CODEC, type MasterAudio, type MasterVariant } from './master-playlist.js';
export { parseMediaPlaylist, type MediaPlaylist, type MediaPlaylistSegment } from './media-playlist.js';
export { storyboardCues, writeStoryboardVtt, parseStoryboardVtt, type StoryboardCue } from './storyboard.js';
export { transcodeLadder, removeLadderStaging, LadderRefusedError, type LadderProgress, type LadderRendition, type TranscodeLadderOptions, type VodLadder } from './transcode-ladder.js';
