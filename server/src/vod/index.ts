export { planLadder, displaySize, bitrateFor, frameRateFactor, DEFAULT_LADDER_OPTIONS, DEFAULT_BITRATE_TABLE_KBPS, type LadderOptions, type LadderPlan, type LadderPlanResult, type LadderRung, type StoryboardPlan } from './ladder-plan.js';
export { probeLadderSource, parseLadderSource, type LadderSource, type ProbeLadderSourceOptions } from './ladder-source.js';
export { ladderInputArgs, LADDER_INPUT_FORMATS, HLS_ARCHIVE_INPUT_FORMATS } from './ladder-input.js';
export { ladderFfmpegArgs, storyboardSheetName, LADDER_FILES, type LadderArgsOptions } from './ladder-ffmpeg-args.js';
export { writeMasterPlaylist, segmentBitrates, avcCodecString, AAC_LC_CODEC, type MasterAudio, type MasterVariant } from './master-playlist.js';
export { parseMediaPlaylist, type MediaPlaylist, type MediaPlaylistSegment } from './media-playlist.js';
export { storyboardCues, writeStoryboardVtt, parseStoryboardVtt, type StoryboardCue } from './storyboard.js';
export { transcodeLadder, LadderRefusedError, type LadderProgress, type LadderRendition, type TranscodeLadderOptions, type VodLadder } from './transcode-ladder.js';
