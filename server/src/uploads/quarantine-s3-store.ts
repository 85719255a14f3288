import type { ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Part, S3ClientConfig } from '@aws-sdk/client-s3';
import { S3Store, type MetadataValue } from '@tus/s3-store';
import { ERRORS, type KvStore } from '@tus/server';
import { z } from 'zod';
import { BUCKETS, jsonCodec, typedKv, type Bus, type TypedKv } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import { tapFirstBytes } from './tap-first-bytes.js';

/**
 * The tus `S3Store` (multipart upload per tus upload, `{id}.info` metadata, `{id}.part` for a
 * tail shorter than a part) on the quarantine bucket, shared by every replica, with the
 * semantics of `QuarantineFileStore`: `onFirstBytes` before an upload's first bytes are stored,
 * and an expiry that only removes INCOMPLETE uploads and tells `onExpired` of each.
 *
 * Two things differ from the stock store, both for a fleet:
 * - No metadata cache. The stock one is per process: after replica B removed or expired an
 *   upload, replica A's cached `.info` would make the missing multipart upload look finished.
 *   Each call reads `{id}.info` (a GET of a few hundred bytes) instead.
 * - The parts stored so far are a ledger in the bus KV (`upload-parts`), written by whichever
 *   replica stored each part, instead of S3's ListParts, and the expiry walks that ledger
 *   instead of ListMultipartUploads. The bus is the fleet's source of truth already (the upload
 *   records, the lock), and S3-compatible servers differ on these two listings (the test
 *   server, s3rver, has neither). An upload with a ledger is incomplete; one without a ledger
 *   but with `.info` is complete (its multipart upload was completed and the ledger dropped).
 */

/** A part as the ledger keeps it. */
const partSchema = z.strictObject({ number: z.number().int().min(1).max(10_000), etag: z.string().min(1), size: z.number().int().nonnegative() });
const ledgerSchema = z.strictObject({
  /** When the upload was created: what a ledger left without `.info` (a creation that failed halfway) ages from. */
  created_at_ms: z.number().int().nonnegative(),
  parts: z.array(partSchema),
});
type PartLedger = z.infer<typeof ledgerSchema>;

export interface QuarantineS3StoreOptions {
  readonly bus: Bus;
  readonly bucket: string;
  /** The S3 client configuration (`openStorage(...).s3ClientConfig`); credentials from the SDK's default chain. */
  readonly s3ClientConfig: S3ClientConfig;
  readonly expirationPeriodInMilliseconds: number;
  readonly onExpired?: (uploadId: string) => Promise<void>;
  readonly onFirstBytes?: (uploadId: string) => Promise<void>;
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Parts of the multipart upload (S3's minimum, 5 MiB, unless larger). */
  readonly partSize?: number;
}

/** Reads `.info` from S3 every time: see the class comment. */
class NoCache implements KvStore<MetadataValue> {
  async get(): Promise<undefined> {
    return undefined;
  }
  async set(): Promise<void> {}
  async delete(): Promise<void> {}
}

/** Thrown by `retrieveParts` for an upload without a ledger: S3Store then reads it as complete, as it does a NoSuchUpload. */
class NoSuchUpload extends Error {
  override readonly name = 'NoSuchUpload';
}

export class QuarantineS3Store extends S3Store {
  private readonly ledger: TypedKv<PartLedger>;
  private readonly onExpired: (uploadId: string) => Promise<void>;
  private readonly onFirstBytes: ((uploadId: string) => Promise<void>) | undefined;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;

  private constructor(options: QuarantineS3StoreOptions, ledger: TypedKv<PartLedger>) {
    super({
      s3ClientConfig: { ...options.s3ClientConfig, bucket: options.bucket },
      expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds,
      cache: new NoCache(),
      // Tags would only serve bucket lifecycle rules by tag; not every S3-compatible server takes them on PutObject.
      useTags: false,
      ...(options.partSize ? { partSize: options.partSize } : {}),
    });
    this.ledger = ledger;
    this.onExpired = options.onExpired ?? (async () => {});
    this.onFirstBytes = options.onFirstBytes;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  static async open(options: QuarantineS3StoreOptions): Promise<QuarantineS3Store> {
    return new QuarantineS3Store(options, typedKv(await options.bus.kv(BUCKETS.uploadParts), jsonCodec(ledgerSchema)));
  }

  override async create(upload: Parameters<S3Store['create']>[0]): ReturnType<S3Store['create']> {
    // The ledger first: an upload whose `.info` exists without one reads as complete.
    await this.ledger.update(upload.id, () => ({ created_at_ms: this.now(), parts: [] }));
    return super.create(upload);
  }

  override write(readable: Readable, uploadId: string, offset: number): Promise<number> {
    if (offset !== 0 || !this.onFirstBytes) return super.write(readable, uploadId, offset);
    return super.write(tapFirstBytes(readable as IncomingMessage | Readable, () => this.onFirstBytes!(uploadId)), uploadId, offset);
  }

  protected override async uploadPart(metadata: MetadataValue, readStream: ReadStream | Readable | Buffer, partNumber: number): Promise<string> {
    const size = Buffer.isBuffer(readStream) ? readStream.length : (await stat((readStream as ReadStream).path)).size;
    const etag = await super.uploadPart(metadata, readStream, partNumber);
    await this.ledger.update(metadata.file.id, (current) => {
      if (!current) throw ERRORS.FILE_NOT_FOUND;
      return { ...current, parts: [...current.parts.filter((part) => part.number !== partNumber), { number: partNumber, etag, size }] };
    });
    return etag;
  }

  protected override async retrieveParts(id: string): Promise<Part[]> {
    const entry = await this.ledger.get(id);
    if (!entry) throw new NoSuchUpload(`no parts ledger for ${id}: the upload is complete or gone`);
    return [...entry.value.parts].sort((a, b) => a.number - b.number).map((part) => ({ PartNumber: part.number, ETag: part.etag, Size: part.size }));
  }

  protected override async finishMultipartUpload(metadata: MetadataValue, parts: Part[]): Promise<string | undefined> {
    const location = await super.finishMultipartUpload(metadata, parts);
    await this.ledger.update(metadata.file.id, () => undefined);
    return location;
  }

  /**
   * `.info` goes first, so that a replica reading the upload meanwhile finds no upload (rather
   * than, without a ledger, a finished one); then the ledger, the multipart upload, the bytes
   * and the tail.
   */
  override async remove(id: string): Promise<void> {
    let multipartUploadId: string | undefined;
    try {
      multipartUploadId = (await this.getMetadata(id))['upload-id'];
    } catch (error) {
      if (isNotFound(error)) throw ERRORS.FILE_NOT_FOUND;
      throw error;
    }
    await this.client.deleteObject({ Bucket: this.bucket, Key: this.infoKey(id) });
    await this.ledger.update(id, () => undefined);
    if (multipartUploadId) await this.abort(id, multipartUploadId);
    await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: [{ Key: id }, { Key: this.partKey(id, true) }] } });
  }

  /** Removes incomplete uploads (those with a ledger) created more than the expiration period ago; complete ones stay for moderation. */
  override async deleteExpired(): Promise<number> {
    const expirationMs = this.getExpiration();
    if (expirationMs <= 0) return 0;
    const nowMs = this.now();
    let deleted = 0;
    for (const id of await this.ledger.bucket.keys()) {
      let createdMs: number;
      try {
        const created = (await this.getMetadata(id)).file.creation_date;
        createdMs = created ? Date.parse(created) : Number.NaN;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // A ledger without `.info`: a creation that failed halfway (or is under way: hence its age), a removal
        // that stopped halfway, or a quarantine deletion of an incomplete upload. Only the ledger is left to
        // expire here; the multipart upload's parts, if any, go by the bucket's lifecycle rule.
        const ledger = await this.ledger.get(id);
        if (ledger && nowMs > ledger.value.created_at_ms + expirationMs) await this.ledger.update(id, () => undefined);
        continue;
      }
      if (!Number.isFinite(createdMs) || nowMs <= createdMs + expirationMs) continue;
      try {
        await this.remove(id);
      } catch (error) {
        if (error === ERRORS.FILE_NOT_FOUND) continue;
        throw error;
      }
      await this.onExpired(id);
      deleted += 1;
    }
    return deleted;
  }

  /** Aborts the multipart upload; a server without AbortMultipartUpload keeps its parts until its own clean-up (logged). */
  private async abort(id: string, multipartUploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: multipartUploadId });
    } catch (error) {
      if (isNotFound(error)) return;
      if (isUnsupported(error)) {
        this.logger?.warn({ upload_id: id, err: error }, 'the S3 server cannot abort a multipart upload; its parts stay until a bucket lifecycle rule removes them');
        return;
      }
      throw error;
    }
  }
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const named = error as { name?: unknown; Code?: unknown };
  return typeof named.Code === 'string' ? named.Code : typeof named.name === 'string' ? named.name : undefined;
}

function isNotFound(error: unknown): boolean {
  return ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(errorName(error) ?? '');
}

function isUnsupported(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return ['NotImplemented', 'MethodNotAllowed'].includes(errorName(error) ?? '') || status === 405 || status === 501;
}
