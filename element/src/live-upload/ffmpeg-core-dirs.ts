/**
 * Where the FFmpeg.wasm cores are served, under the element's asset base: one directory per core
 * whose name carries its package version and a hash of what is served, so every file in it is
 * cached for a year. Generated from the installed packages by
 * `node --import tsx element/scripts/ffmpeg-cores.ts --write`; the element build fails while it does not match them.
 */
export const FFMPEG_CORE_DIRS = {
  core: 'ffmpeg/core-0.12.10-9c916ad8dd90/',
  coreMt: 'ffmpeg/core-mt-0.12.10-1ff7e7e4b5af/',
} as const;
