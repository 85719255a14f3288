import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArchiveReader, ArchiveSegmentEntry } from '../vod-ingest/index.js';
import type { ObjectStore } from '../storage/index.js';

/** What `materializeArchive` wrote: the playlist to hand to the ladder, and what it holds. */
export interface LocalArchivePlaylist {
  readonly playlist: string;
  readonly segments: number;
  /** Seconds of media listed (gaps excluded). */
  readonly durationS: number;
  /** Breaks written (source discontinuities, gaps, init section changes). */
  readonly discontinuities: number;
}

/** The local name of an archived segment: its sequence and the archive's extension. */
function localSegmentName(entry: ArchiveSegmentEntry): string {
  const extension = entry.key.slice(entry.key.lastIndexOf('.') + 1);
  return `${String(entry.sequence).padStart(16, '0')}.${/^[a-z0-9]{1,4}$/.test(extension) ? extension : 'bin'}`;
}

/**
 * Downloads an archive's segments and init sections (from `store` under `prefix`) into
 * `directory` and writes `index.m3u8` listing them, for ffmpeg's `hls` demuxer: one `EXTINF`
 * per segment, `EXT-X-DISCONTINUITY` wherever the timeline breaks (the source said so, a gap
 * entry sits between two segments, a segment's object is missing, the init section changes),
 * `EXT-X-MAP` for fMP4 init sections, and `EXT-X-ENDLIST`. Every URI is a plain local file name
 * we chose, so the playlist cannot make ffmpeg open anything else. `signal` stops between files.
 */
export async function materializeArchive(
  store: ObjectStore,
  prefix: string,
  archive: ArchiveReader,
  directory: string,
  options: { readonly signal?: AbortSignal; readonly onSegment?: () => void } = {},
): Promise<LocalArchivePlaylist> {
  await mkdir(directory, { recursive: true });
  const body: string[] = [];
  const inits = new Map<string, string>();
  let currentInit: string | undefined;
  let breakPending = false;
  let segments = 0;
  let durationS = 0;
  let maxDurationS = 1;
  let discontinuities = 0;
  for await (const entry of archive.entries()) {
    options.signal?.throwIfAborted();
    if (entry.kind === 'gap') {
      breakPending = segments > 0;
      continue;
    }
    let initName: string | undefined;
    if (entry.initKey) {
      initName = inits.get(entry.initKey);
      if (!initName) {
        initName = `init-${String(inits.size).padStart(4, '0')}.mp4`;
        if (!(await download(store, `${prefix}${entry.initKey}`, join(directory, initName)))) {
          breakPending = segments > 0;
          continue;
        }
        inits.set(entry.initKey, initName);
      }
    }
    const name = localSegmentName(entry);
    if (!(await download(store, `${prefix}${entry.key}`, join(directory, name)))) {
      breakPending = segments > 0;
      continue;
    }
    options.onSegment?.();
    if (segments > 0 && (breakPending || entry.discontinuity || initName !== currentInit)) {
      body.push('#EXT-X-DISCONTINUITY');
      discontinuities++;
    }
    if (initName && initName !== currentInit) body.push(`#EXT-X-MAP:URI="${initName}"`);
    currentInit = initName;
    breakPending = false;
    body.push(`#EXTINF:${entry.durationS.toFixed(6)},`, name);
    segments++;
    durationS += entry.durationS;
    maxDurationS = Math.max(maxDurationS, entry.durationS);
  }
  const playlist = join(directory, 'index.m3u8');
  const head = ['#EXTM3U', `#EXT-X-VERSION:${inits.size > 0 ? 7 : 3}`, `#EXT-X-TARGETDURATION:${Math.ceil(maxDurationS)}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  await writeFile(playlist, `${[...head, ...body, '#EXT-X-ENDLIST'].join('\n')}\n`);
  return { playlist, segments, durationS, discontinuities };
}

/** Copies one object to a local file; false when the object is gone. */
async function download(store: ObjectStore, key: string, path: string): Promise<boolean> {
  const read = await store.get(key);
  if (!read) return false;
  await pipeline(read.body, createWriteStream(path));
  return true;
}
