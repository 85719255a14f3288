import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Removes what processes that died (kill -9, a lost node) left in a local scratch directory:
 * each entry (a transcode's staging directory, an S3 download) whose newest modification, itself
 * or anything inside, is older than `olderThanMs`. Work in progress keeps writing (ffmpeg, a
 * download), so another live process's entries in a shared directory stay. How many went.
 */
export async function removeAbandonedScratch(directory: string, olderThanMs: number, now: number = Date.now()): Promise<number> {
  let removed = 0;
  const entries = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const name of entries) {
    const path = join(directory, name);
    const newest = await newestModificationMs(path);
    if (newest === undefined || now - newest < olderThanMs) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** The latest mtime of `path` and everything below it; undefined when it vanished meanwhile. */
async function newestModificationMs(path: string): Promise<number | undefined> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats) return undefined;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of await readdir(path, { recursive: true }).catch(() => [] as string[])) {
    const inner = await stat(join(path, entry)).catch(() => undefined);
    if (inner) newest = Math.max(newest, inner.mtimeMs);
  }
  return newest;
}
