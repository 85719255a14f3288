import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type BigIntStats } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import {
  RangeNotSatisfiableError,
  assertObjectKey,
  assertObjectPrefix,
  type ByteRange,
  type LocalFile,
  type ObjectBody,
  type ObjectRead,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';

/**
 * Where writes are assembled before they are renamed into place. Its name starts with a dot,
 * which no key segment may (see `assertObjectKey`), so it never collides with an object and
 * `list` never shows it.
 */
const WRITING_DIR = '.writing';

/** A rename that keeps losing to a concurrent `delete` emptying the parent directory gives up after this many tries. */
const RENAME_ATTEMPTS = 5;

/**
 * The `ObjectStore` of one process: each object is a file under `root` at its key's path. A write
 * goes to a temporary file in the same directory tree and is renamed into place, so a reader sees
 * the old object or the new one, never part of one; of two concurrent writes of a key, the last
 * rename wins whole. A read opens the file first and streams from that descriptor, so an object
 * replaced meanwhile is read consistently to the end.
 *
 * The ETag is made of the file's inode, size and modification time in nanoseconds: every write
 * is a new file (rename), so it changes with every write, and it costs no read of the content.
 * Content types are not kept (a file has nowhere to keep them); callers that serve files know
 * their types from the names (`/media`).
 */
export class FilesystemObjectStore implements ObjectStore {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = pathToFileURL(root).href;
  }

  async put(key: string, body: ObjectBody): Promise<StoredObject> {
    assertObjectKey(key);
    return this.writeThrough(key, async (temporary) => {
      const source = typeof body === 'string' || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
      await pipeline(source, createWriteStream(temporary, { flags: 'wx' }));
    });
  }

  async putFile(key: string, path: string): Promise<StoredObject> {
    assertObjectKey(key);
    return this.writeThrough(key, (temporary) => copyFile(path, temporary));
  }

  async head(key: string): Promise<StoredObject | undefined> {
    assertObjectKey(key);
    const stats = await stat(this.pathOf(key), { bigint: true }).catch(ignoreMissing);
    return stats?.isFile() ? storedObject(key, stats) : undefined;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectRead | undefined> {
    assertObjectKey(key);
    const handle = await open(this.pathOf(key), 'r').catch(ignoreMissing);
    if (!handle) return undefined;
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return undefined;
      }
      const object = storedObject(key, stats);
      const read = satisfiable(key, object.size, range);
      // `end` is inclusive; an empty object read whole has nothing to stream.
      if (read.end < read.start) {
        await handle.close();
        return { object, range: read, body: Readable.from([]) };
      }
      return { object, range: read, body: createReadStream('', { fd: handle, start: read.start, end: read.end, autoClose: true }) };
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    assertObjectKey(key);
    const path = this.pathOf(key);
    const removed = await unlink(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'EPERM') return false;
        throw error;
      },
    );
    if (removed) await this.removeEmptyParents(path);
    return removed;
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertObjectPrefix(prefix);
    let count = 0;
    for await (const object of this.list(prefix)) {
      if (await this.delete(object.key)) count++;
    }
    return count;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertObjectPrefix(prefix);
    const keys = (await this.keysUnder(prefix === '' ? '' : prefix.slice(0, -1))).sort(byKeyOrder);
    for (const key of keys) {
      const object = await this.head(key);
      if (object) yield object;
    }
  }

  async localFile(key: string): Promise<LocalFile | undefined> {
    if (!(await this.head(key))) return undefined;
    return { path: this.pathOf(key), release: async () => {} };
  }

  /**
   * Removes temporary files of writes that never finished (their process died) and were last
   * touched more than `olderThanMs` ago; how many went. A write in progress keeps touching its file.
   */
  async removeAbandonedWrites(olderThanMs: number, now: number = Date.now()): Promise<number> {
    const writing = join(this.root, WRITING_DIR);
    let removed = 0;
    for (const name of (await readdir(writing).catch(ignoreMissing)) ?? []) {
      const path = join(writing, name);
      const stats = await stat(path).catch(ignoreMissing);
      if (!stats || now - stats.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  /** The file of `key` (a checked key: no segment can climb out of `root`). */
  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  /** Writes through `write` into a temporary file, then renames it to the key's path. */
  private async writeThrough(key: string, write: (temporary: string) => Promise<void>): Promise<StoredObject> {
    const writing = join(this.root, WRITING_DIR);
    await mkdir(writing, { recursive: true });
    const temporary = join(writing, `${randomBytes(12).toString('hex')}.part`);
    try {
      await write(temporary);
      const path = this.pathOf(key);
      for (let attempt = 1; ; attempt++) {
        await mkdir(dirname(path), { recursive: true });
        try {
          await rename(temporary, path);
          break;
        } catch (error) {
          // A delete of the directory's last object removed the directory between mkdir and rename.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= RENAME_ATTEMPTS) throw error;
        }
      }
      return storedObject(key, await stat(path, { bigint: true }));
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /** Keys of the files below `directoryKey` ('' for the root), skipping anything no key could name. */
  private async keysUnder(directoryKey: string): Promise<string[]> {
    const directory = directoryKey === '' ? this.root : this.pathOf(directoryKey);
    const entries = await readdir(directory, { withFileTypes: true }).catch(ignoreMissing);
    const keys: string[] = [];
    for (const entry of entries ?? []) {
      const key = directoryKey === '' ? entry.name : `${directoryKey}/${entry.name}`;
      if (!isKeySegment(entry.name)) continue;
      if (entry.isDirectory()) keys.push(...(await this.keysUnder(key)));
      else if (entry.isFile()) keys.push(key);
    }
    return keys;
  }

  /** Empty directories left by a delete go too, up to (not including) the root; a directory in use stays. */
  private async removeEmptyParents(path: string): Promise<void> {
    for (let directory = dirname(path); directory.startsWith(this.root) && directory !== this.root; directory = dirname(directory)) {
      try {
        await rmdir(directory);
      } catch {
        return;
      }
    }
  }
}

function storedObject(key: string, { ino, size, mtimeNs }: BigIntStats): StoredObject {
  return {
    key,
    size: Number(size),
    etag: `"${ino.toString(36)}-${size.toString(36)}-${mtimeNs.toString(36)}"`,
    lastModifiedMs: Number(mtimeNs / 1_000_000n),
  };
}

/** The inclusive range to read of an object of `size` bytes: all of it, or `range` cut at the end. */
function satisfiable(key: string, size: number, range: ByteRange | undefined): ByteRange {
  if (!range) return { start: 0, end: size - 1 };
  if (range.start < 0 || range.end < range.start || range.start >= size) throw new RangeNotSatisfiableError(key, size);
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

function isKeySegment(name: string): boolean {
  try {
    assertObjectKey(name);
    return true;
  } catch {
    return false;
  }
}

/** S3 lists keys in UTF-8 byte order; keys are ASCII, where that is code unit order. */
export function byKeyOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
}
