import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UPLOAD_ID_PATTERN } from '../uploads/index.js';

/**
 * The quarantine as the tus file store lays it out: `{dir}/{upload_id}` holds the bytes and
 * `{dir}/{upload_id}.json` the tus metadata. Only upload ids (ULIDs) are ever joined to `dir`.
 */
export function quarantineFilePath(quarantineDir: string, uploadId: string): string {
  if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new RangeError(`not an upload id: ${uploadId}`);
  return join(quarantineDir, uploadId);
}

/** When the quarantined bytes of an upload were last written; undefined when there are none. */
export async function quarantineFileModifiedMs(quarantineDir: string, uploadId: string): Promise<number | undefined> {
  try {
    return (await stat(quarantineFilePath(quarantineDir, uploadId))).mtimeMs;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Removes an upload's bytes and tus metadata. True when the bytes were there (so the deletion is news). */
export async function deleteQuarantineFiles(quarantineDir: string, uploadId: string): Promise<boolean> {
  const path = quarantineFilePath(quarantineDir, uploadId);
  const existed = (await quarantineFileModifiedMs(quarantineDir, uploadId)) !== undefined;
  await rm(path, { force: true });
  await rm(`${path}.json`, { force: true });
  return existed;
}

/** Upload ids with bytes in the quarantine (metadata files and anything not named by an id are skipped). */
export async function listQuarantinedUploads(quarantineDir: string): Promise<string[]> {
  try {
    return (await readdir(quarantineDir)).filter((name) => UPLOAD_ID_PATTERN.test(name));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
