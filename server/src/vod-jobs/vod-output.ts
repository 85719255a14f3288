import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { ObjectStore, StoredObject } from '../storage/index.js';
import { vodFileFor, vodOutputPrefix } from './vod-files.js';
import { vodRenditionSchema } from './vod-record.js';

/**
 * Written last under a replay's prefix, after every file of its ladder: its presence is what
 * "this replay is complete" means to the next delivery of the job, on any replica. It carries
 * what the record needs (duration, renditions), so a worker that died between the marker and
 * the record's move publishes from it without transcoding again. Not a name `/vod` serves.
 */
export const VOD_OUTPUT_MARKER = 'replay-complete.json';

const markerSchema = z.object({
  canonical_id: z.string(),
  duration_s: z.number().nonnegative(),
  renditions: z.array(vodRenditionSchema),
  files: z.array(z.object({ key: z.string(), size: z.number(), etag: z.string() })),
});
export type VodOutputMarker = z.infer<typeof markerSchema>;

/** Files sent to the store at once. */
const UPLOAD_CONCURRENCY = 4;

/** The completion marker of a replay a previous delivery finished, or undefined. */
export async function readVodOutputMarker(media: ObjectStore, canonicalId: string): Promise<VodOutputMarker | undefined> {
  const read = await media.get(`${vodOutputPrefix(canonicalId)}${VOD_OUTPUT_MARKER}`);
  if (!read) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return markerSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
}

/**
 * Sends a finished ladder directory to the media store under `vods/{path}/`, each file with its
 * type (segments and init sections first, rendition playlists next, the master playlist last),
 * then the marker. A delivery that dies halfway leaves no marker: the next one writes every
 * file again under the same keys. Only names `/vod` would serve are sent.
 */
export async function storeVodOutput(media: ObjectStore, directory: string, facts: Omit<VodOutputMarker, 'files'>): Promise<StoredObject[]> {
  const prefix = vodOutputPrefix(facts.canonical_id);
  const files = (await filesUnder(directory)).filter((file) => vodFileFor(file) !== undefined).sort(byUploadOrder);
  const stored: StoredObject[] = [];
  for (const stage of [0, 1, 2]) {
    const queue = files.filter((file) => uploadStage(file) === stage);
    await Promise.all(
      Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, async () => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          const contentType = vodFileFor(file)!.contentType;
          stored.push(await media.putFile(`${prefix}${file}`, join(directory, ...file.split('/')), { contentType }));
        }
      }),
    );
  }
  const marker: VodOutputMarker = { ...facts, files: stored.map(({ key, size, etag }) => ({ key, size, etag })).sort((a, b) => (a.key < b.key ? -1 : 1)) };
  await media.put(`${prefix}${VOD_OUTPUT_MARKER}`, JSON.stringify(marker, null, 2), { contentType: 'application/json' });
  return stored;
}

/** Removes a replay's output: the marker first (so nobody takes a half-removed replay for complete), then the rest. */
export async function removeVodOutput(media: ObjectStore, canonicalId: string): Promise<number> {
  const prefix = vodOutputPrefix(canonicalId);
  await media.delete(`${prefix}${VOD_OUTPUT_MARKER}`);
  return media.deletePrefix(prefix);
}

/** 0: media (segments, init sections, images, VTT); 1: rendition playlists; 2: the master playlist. */
function uploadStage(file: string): number {
  if (!file.endsWith('.m3u8')) return 0;
  return file.includes('/') ? 1 : 2;
}

function byUploadOrder(a: string, b: string): number {
  return uploadStage(a) - uploadStage(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Paths of the files under `directory`, relative and `/`-separated. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(directory, join(entry.parentPath, entry.name)).split(sep).join('/'));
}
