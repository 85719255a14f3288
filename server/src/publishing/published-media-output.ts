import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ObjectStore, StoredObject } from '../storage/index.js';
import { publishedFileFor } from './published-media.js';

/**
 * Written last, after every file of an upload's output: its presence is what "this output is
 * complete" means, for the next delivery of the job on any replica. Its name is none the
 * transcode writes, so `/media` never serves it.
 */
export const OUTPUT_COMPLETE_MARKER = 'output-complete.json';

/** Files of one output sent to the store at once. */
const UPLOAD_CONCURRENCY = 4;

/** The marker's content: what was written, for an operator looking at the bucket. */
interface CompleteOutput {
  readonly upload_id: string;
  readonly files: ReadonlyArray<{ readonly key: string; readonly size: number; readonly etag: string }>;
}

/** The key of a file of an upload's published output. */
export function outputKey(uploadId: string, relativePath: string): string {
  return `${uploadId}/${relativePath}`;
}

/** Whether a previous delivery (here or on another replica) finished this upload's output. */
export async function hasCompleteOutput(media: ObjectStore, uploadId: string): Promise<boolean> {
  return (await media.head(outputKey(uploadId, OUTPUT_COMPLETE_MARKER))) !== undefined;
}

/**
 * Sends a finished transcode (`directory`: `video.mp4`, `poster.jpg`, `hls/...`) to the media
 * store under `{upload_id}/`, with each file's type, and then the completion marker. A delivery
 * that dies halfway leaves no marker, so the next one transcodes and writes every file again
 * (same keys: it overwrites, never duplicates); two deliveries racing each write whole files.
 */
export async function storeOutput(media: ObjectStore, uploadId: string, directory: string): Promise<StoredObject[]> {
  const files = (await filesUnder(directory)).sort(playlistAfterSegments);
  const stored: StoredObject[] = [];
  const queue = [...files];
  await Promise.all(
    Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const contentType = publishedFileFor(file)?.contentType;
        stored.push(await media.putFile(outputKey(uploadId, file), join(directory, ...file.split('/')), contentType ? { contentType } : {}));
      }
    }),
  );
  const marker: CompleteOutput = { upload_id: uploadId, files: stored.map(({ key, size, etag }) => ({ key, size, etag })).sort((a, b) => (a.key < b.key ? -1 : 1)) };
  await media.put(outputKey(uploadId, OUTPUT_COMPLETE_MARKER), JSON.stringify(marker, null, 2), { contentType: 'application/json' });
  return stored;
}

/** Removes an upload's output: the marker first (so nobody takes a half-removed output for complete), then the rest. */
export async function removeOutput(media: ObjectStore, uploadId: string): Promise<number> {
  await media.delete(outputKey(uploadId, OUTPUT_COMPLETE_MARKER));
  return media.deletePrefix(`${uploadId}/`);
}

/** Paths of the files under `directory`, relative and `/`-separated. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(directory, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Segments before the playlist that names them (and everything else in name order). */
function playlistAfterSegments(a: string, b: string): number {
  const rank = (file: string) => (file.endsWith('.m3u8') ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
