import { mkdir } from 'node:fs/promises';
import { HeadBucketCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { removeAbandonedScratch } from './abandoned-scratch.js';
import { FilesystemObjectStore } from './filesystem-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';
import type { StorageConfig } from './storage-config.js';

/** How long a connection to the S3 endpoint may take before the request fails (and is retried by the SDK). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A connection to the S3 endpoint that carries no byte either way this long is cut: a store that
 * accepts and never answers fails requests instead of holding them (and their `/media` viewers)
 * forever. Idle, not total: a large part or a long download that moves is never cut; a viewer
 * paused longer than this loses its response, and its player asks again with a Range.
 */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

/**
 * Connections to the S3 endpoint one process keeps at most. Each `/media` response streams from
 * one (for as long as the viewer downloads), so the SDK's default of 50 would make the 51st
 * viewer wait for a socket.
 */
const MAX_SOCKETS = 512;

/**
 * A file-system write not renamed into place, or scratch (a staging directory, a download) not
 * touched, for this long was left by a process that died mid-work; younger ones may be another
 * live process's (replicas sharing a directory), so they stay. Transcodes time out after 10 min.
 */
const ABANDONED_WRITE_MS = 60 * 60 * 1000;

/** The two stores of a process and, on S3, what other S3 clients of ours (the tus data store) need. */
export interface Storage {
  /** Uploads waiting for moderation; never served. */
  readonly quarantine: ObjectStore;
  /** Published media, served under `/media`. */
  readonly media: ObjectStore;
  /** On S3: the client configuration (endpoint, region, addressing; credentials from the SDK's default chain). */
  readonly s3ClientConfig?: S3ClientConfig;
  /** Closes the S3 client's pooled connections; nothing to do on the file system. */
  close(): Promise<void>;
}

/** A bucket that cannot be reached at start: missing, forbidden, or the endpoint is down. */
export class StorageUnreachableError extends Error {
  constructor(
    readonly bucket: string,
    readonly role: 'quarantine' | 'media',
    cause: unknown,
  ) {
    super(`the ${role} bucket ${JSON.stringify(bucket)} is not reachable: ${describe(cause)}`, { cause });
    this.name = 'StorageUnreachableError';
  }
}

export interface OpenStorageOptions {
  /**
   * Where S3 objects are downloaded for tools that need a local file (default the OS temp dir).
   * What dead processes left in it is removed at open (see `removeAbandonedScratch`), so share it
   * only with work that keeps writing while it runs (the transcodes' staging does).
   */
  readonly scratchDir?: string;
}

/**
 * Opens the quarantine and media stores configuration chose. On the file system both
 * directories are created; on S3 both buckets are checked (HeadBucket), so a missing bucket,
 * wrong credentials or an unreachable endpoint fail the start with the bucket's name instead of
 * the first upload.
 */
export async function openStorage(config: StorageConfig, options: OpenStorageOptions = {}): Promise<Storage> {
  if (options.scratchDir) await removeAbandonedScratch(options.scratchDir, ABANDONED_WRITE_MS);
  if (config.kind === 'filesystem') {
    const quarantine = new FilesystemObjectStore(config.quarantineDir);
    const media = new FilesystemObjectStore(config.mediaDir);
    for (const store of [quarantine, media]) {
      await mkdir(store.root, { recursive: true });
      await store.removeAbandonedWrites(ABANDONED_WRITE_MS);
    }
    return { quarantine, media, close: async () => {} };
  }
  const s3ClientConfig = s3ClientConfigFor(config);
  const client = new S3Client(s3ClientConfig);
  try {
    for (const [role, bucket] of [['quarantine', config.quarantineBucket], ['media', config.mediaBucket]] as const) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        throw new StorageUnreachableError(bucket, role, error);
      }
    }
  } catch (error) {
    client.destroy();
    throw error;
  }
  const scratch = options.scratchDir ? { scratchDir: options.scratchDir } : {};
  return {
    quarantine: new S3ObjectStore({ client, bucket: config.quarantineBucket, ...scratch }),
    media: new S3ObjectStore({ client, bucket: config.mediaBucket, ...scratch }),
    s3ClientConfig,
    close: async () => client.destroy(),
  };
}

/**
 * The client configuration of an S3 storage config, for every S3 client of ours (the stores', the
 * tus data store's): endpoint, region, addressing, the timeouts and connection pool above, and
 * checksums only where an operation requires them (the SDK's default, a CRC32 trailer on every
 * upload in aws-chunked encoding, is not understood by every S3-compatible server; TLS and S3's
 * own MD5 ETags already guard the bytes). No credentials: the SDK's default chain finds them.
 */
export function s3ClientConfigFor(config: Extract<StorageConfig, { kind: 's3' }>): S3ClientConfig {
  return {
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (status === 404) return 'no such bucket (404)';
    if (status === 403) return 'access denied (403): check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the bucket policy';
    return `${error.name} (${status ?? 'no status'})`;
  }
  return error instanceof Error ? error.message : String(error);
}
