import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  RangeNotSatisfiableError,
  assertObjectKey,
  assertObjectPrefix,
  type ByteRange,
  type LocalFile,
  type ObjectBody,
  type ObjectRead,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.js';

/** S3's smallest part but the last; lib-storage refuses smaller ones. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000;

export interface S3ObjectStoreOptions {
  /** Shared by the stores of one process (it pools the connections). */
  readonly client: S3Client;
  readonly bucket: string;
  /** Parts of a multipart `putFile`/stream `put` (default 8 MiB; at least 5 MiB). */
  readonly partBytes?: number;
  /** Parts sent at once by one multipart upload (default 4). */
  readonly partConcurrency?: number;
  /**
   * Where `localFile` downloads objects (default the OS temp dir). Uploads run to hundreds of
   * megabytes: a container's /tmp is often a small tmpfs, so the server points this at its volume.
   */
  readonly scratchDir?: string;
}

/**
 * The `ObjectStore` of a fleet: objects in one bucket of an S3-compatible store that every
 * replica sees. S3 itself gives the guarantees the contract asks for: an object appears only
 * once its PUT (or multipart upload) completes, of two concurrent writes one wins whole, and
 * ranges are answered by the store. Files and streams go up through lib-storage's `Upload`
 * (multipart above one part, retried per part); small buffers in one PUT.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partBytes: number;
  private readonly partConcurrency: number;
  private readonly scratchDir: string;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.partBytes = Math.max(MIN_PART_BYTES, options.partBytes ?? 8 * 1024 * 1024);
    this.partConcurrency = options.partConcurrency ?? 4;
    this.scratchDir = options.scratchDir ?? tmpdir();
    this.location = `s3://${options.bucket}/`;
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<StoredObject> {
    assertObjectKey(key);
    if (body instanceof Readable) return this.upload(key, body, options);
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body, ContentType: options.contentType }),
    );
    return this.written(key);
  }

  async putFile(key: string, path: string, options: PutOptions = {}): Promise<StoredObject> {
    assertObjectKey(key);
    return this.upload(key, createReadStream(path), options);
  }

  async head(key: string): Promise<StoredObject | undefined> {
    assertObjectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: head.ContentLength ?? 0,
        etag: quoted(head.ETag),
        lastModifiedMs: head.LastModified?.getTime() ?? 0,
        ...(head.ContentType ? { contentType: head.ContentType } : {}),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectRead | undefined> {
    assertObjectKey(key);
    if (range && (range.start < 0 || range.end < range.start)) throw new RangeError(`not a byte range: ${range.start}-${range.end}`);
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      const body = got.Body as Readable | undefined;
      const length = got.ContentLength ?? 0;
      // `bytes 100-299/4096` on a ranged read; the whole object otherwise.
      const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(got.ContentRange ?? '');
      const size = contentRange ? Number(contentRange[3]) : length;
      const read = contentRange ? { start: Number(contentRange[1]), end: Number(contentRange[2]) } : { start: 0, end: length - 1 };
      return {
        object: {
          key,
          size,
          etag: quoted(got.ETag),
          lastModifiedMs: got.LastModified?.getTime() ?? 0,
          ...(got.ContentType ? { contentType: got.ContentType } : {}),
        },
        range: read,
        body: body ?? Readable.from([]),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      if (statusOf(error) === 416) {
        // The error carries no size: ask for it (and an object deleted meanwhile is simply gone).
        const object = await this.head(key);
        if (!object) return undefined;
        throw new RangeNotSatisfiableError(key, object.size);
      }
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    assertObjectKey(key);
    // S3 answers a delete the same whether or not the key was there.
    if (!(await this.head(key))) return false;
    await this.deleteKeys([key]);
    return true;
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertObjectPrefix(prefix);
    let batch: string[] = [];
    let count = 0;
    for await (const object of this.list(prefix)) {
      batch.push(object.key);
      if (batch.length === DELETE_BATCH) {
        count += await this.deleteKeys(batch);
        batch = [];
      }
    }
    if (batch.length > 0) count += await this.deleteKeys(batch);
    return count;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertObjectPrefix(prefix);
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, ...(prefix ? { Prefix: prefix } : {}), ...(continuationToken ? { ContinuationToken: continuationToken } : {}) }),
      );
      for (const entry of page.Contents ?? []) {
        if (entry.Key === undefined) continue;
        yield { key: entry.Key, size: entry.Size ?? 0, etag: quoted(entry.ETag), lastModifiedMs: entry.LastModified?.getTime() ?? 0 };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async localFile(key: string): Promise<LocalFile | undefined> {
    const read = await this.get(key);
    if (!read) return undefined;
    await mkdir(this.scratchDir, { recursive: true });
    const directory = await mkdtemp(join(this.scratchDir, 'download-'));
    const release = () => rm(directory, { recursive: true, force: true });
    try {
      const path = join(directory, key.split('/').at(-1)!);
      await pipeline(read.body, createWriteStream(path, { flags: 'wx' }));
      return { path, release };
    } catch (error) {
      read.body.destroy();
      await release();
      throw error;
    }
  }

  /** A stream of unknown length: in parts when it is larger than one, in one PUT otherwise (lib-storage decides). */
  private async upload(key: string, body: Readable, options: PutOptions): Promise<StoredObject> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ...(options.contentType ? { ContentType: options.contentType } : {}) },
      partSize: this.partBytes,
      queueSize: this.partConcurrency,
      // A failed multipart upload is aborted, so no parts are left to pay for.
      leavePartsOnError: false,
    });
    await upload.done();
    return this.written(key);
  }

  /** What a write just stored (S3's PUT answer has no size or date). */
  private async written(key: string): Promise<StoredObject> {
    const object = await this.head(key);
    if (!object) throw new Error(`${this.location}${key} vanished right after it was written`);
    return object;
  }

  private async deleteKeys(keys: readonly string[]): Promise<number> {
    const answer = await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(`could not delete ${failed.length} of ${keys.length} objects in ${this.location}: ${first.Key}: ${first.Code} ${first.Message}`);
    }
    return keys.length;
  }
}

function quoted(etag: string | undefined): string {
  if (!etag) return '""';
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function isMissing(error: unknown): boolean {
  if (!(error instanceof S3ServiceException) || error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}
