import type { Readable } from 'node:stream';

/**
 * Where the server keeps bytes that outlive a request: the quarantine (uploads waiting for
 * moderation, never served), the published media (`/media`), and what the tus data store
 * writes. Two implementations stand behind one contract suite: the local file system (the
 * embedded default, one process) and S3-compatible storage (a fleet: every replica sees the
 * same objects). Keys are relative, `/`-separated, and made only by our code (upload ids and
 * the fixed names the transcode writes), never from a request path.
 */
export interface ObjectStore {
  /** For logs and errors: `file:///var/lib/live-upload/media` or `s3://bucket/prefix/`. Never holds a secret. */
  readonly location: string;

  /** Stores `body` under `key`, replacing what was there. The object is visible to readers only once complete. */
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<StoredObject>;

  /** Stores the file at `path` under `key` (large files go up in parts where the backend has them). */
  putFile(key: string, path: string, options?: PutOptions): Promise<StoredObject>;

  /** What is stored under `key`, or undefined. */
  head(key: string): Promise<StoredObject | undefined>;

  /**
   * The bytes under `key` (all of them, or the inclusive `range`), or undefined when there is no
   * such object. A range past the end throws `RangeNotSatisfiableError`.
   */
  get(key: string, range?: ByteRange): Promise<ObjectRead | undefined>;

  /** Removes `key`. True when it was there. */
  delete(key: string): Promise<boolean>;

  /** Removes every object whose key starts with `prefix` (which must end in `/`); how many went. */
  deletePrefix(prefix: string): Promise<number>;

  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<StoredObject>;

  /**
   * The object's bytes as a local file, for tools that need a seekable path (ffmpeg, ffprobe):
   * the object's own file on the file system store, a temporary download otherwise. `release()`
   * removes a download (and is harmless on the object's own file). Undefined when there is no
   * such object.
   */
  localFile(key: string): Promise<LocalFile | undefined>;
}

export type ObjectBody = Buffer | Uint8Array | string | Readable;

export interface PutOptions {
  readonly contentType?: string;
}

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** A strong validator of the content, quoted as HTTP sends it (`"…"`). */
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly contentType?: string;
}

/** Inclusive byte positions, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectRead {
  readonly object: StoredObject;
  /** The bytes read: all of them, or the range asked for. */
  readonly range: ByteRange;
  readonly body: Readable;
}

export interface LocalFile {
  readonly path: string;
  release(): Promise<void>;
}

/** A range that starts past the object's last byte. */
export class RangeNotSatisfiableError extends Error {
  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    super(`the range is outside ${key} (${size} bytes)`);
    this.name = 'RangeNotSatisfiableError';
  }
}

/** `a-z A-Z 0-9 . _ -` segments joined by `/`; no empty, `.` or `..` segment; no leading or trailing `/`. */
const KEY_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Throws unless `key` is one our code could have made (see `KEY_SEGMENT`). */
export function assertObjectKey(key: string): void {
  if (key.length === 0 || key.length > 512 || !key.split('/').every((segment) => KEY_SEGMENT.test(segment))) {
    throw new RangeError(`not an object key: ${JSON.stringify(key)}`);
  }
}

/** Throws unless `prefix` is a key prefix ending in `/` (or empty, for everything). */
export function assertObjectPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/')) throw new RangeError(`a prefix ends in "/": ${JSON.stringify(prefix)}`);
  assertObjectKey(prefix.slice(0, -1));
}
