import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { ERRORS, Server, type DataStore, type Locker, type Upload } from '@tus/server';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { AUDIT_ACTIONS, AuditLog } from '../audit/index.js';
import { BusUnavailableError, type Bus } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import { enqueueModerationJob } from './moderation-job.js';
import { QuarantineFileStore } from './quarantine-file-store.js';
import { QuarantineS3Store } from './quarantine-s3-store.js';
import { tusErrorAsJson } from './tus-error-body.js';
import { UploadGrantError, bearerToken, type UploadGrant, type UploadGrants } from './upload-grant.js';
import { UPLOAD_ID_PATTERN, UploadTransitionError } from './upload-record.js';
import { startLapsed, type UploadStore } from './upload-store.js';

/** The default of `TusEndpointOptions.startWindowMs` (config `UPLOAD_START_WINDOW_MS`). */
const DEFAULT_START_WINDOW_MS = 2 * 60 * 1000;

/** Where tus is mounted. */
export const TUS_PATH = '/uploads';

/** Who the audit log names for the expiry of an incomplete upload, and why. */
const EXPIRY_ACTOR = 'lifecycle';
export const INCOMPLETE_UPLOAD_EXPIRED = 'incomplete upload expired';

/** The answer to a request that waited for the upload's lock in vain. */
export const UPLOAD_LOCKED_MESSAGE = 'another request is writing this upload and did not let go in time; retry with HEAD and PATCH\n';

/** A tus-level refusal: `@tus/server` answers with `status_code` and `body`. */
export class TusRejection extends Error {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {
    super(body.trim());
    this.name = 'TusRejection';
  }
}

/**
 * Where tus keeps the uploads: the quarantine directory of one process, or the quarantine
 * bucket every replica shares (`openStorage(...).s3ClientConfig` and the bucket's name).
 */
export type TusQuarantine =
  | { readonly kind: 'filesystem'; readonly directory: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly s3ClientConfig: S3ClientConfig };

export interface TusEndpointOptions {
  readonly quarantine: TusQuarantine;
  /** Incomplete uploads older than this are deleted by `cleanUpExpiredUploads()`. */
  readonly incompleteTtlMs: number;
  /** An upload that stored no byte within this of its grant gave its place up: it can no longer start (410). */
  readonly startWindowMs?: number;
  readonly grants: UploadGrants;
  readonly uploads: UploadStore;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Cancellations and expiries are audited here (default: an `AuditLog` on `bus`). */
  readonly audit?: AuditLog;
  /** The clock of expiry (tests move it forward). */
  readonly now?: () => number;
  /**
   * The lock tus takes on every request of an upload. Default: tus's `MemoryLocker`, which only
   * excludes requests of this process; a fleet passes a `BusUploadLocker` shared by its replicas.
   */
  readonly locker?: Locker;
}

export interface TusEndpoint {
  /**
   * Answers one tus request (`POST /uploads`, `HEAD|PATCH|DELETE /uploads/:id`, `OPTIONS`).
   * `client` is the audit actor of the requester (`client:…`), named on a cancellation.
   */
  handle(req: IncomingMessage, res: ServerResponse, client?: string): Promise<void>;
  /** Deletes expired incomplete uploads, marks their records `deleted` and audits each as `quarantine.deleted`. */
  cleanUpExpiredUploads(): Promise<number>;
  /** Runs the clean-up every `intervalMs` until `stop()`. */
  startCleanup(intervalMs: number): void;
  stop(): void;
}

/** Is this path one the tus endpoint owns: `/uploads` or `/uploads/<upload id>`? */
export function isTusPath(path: string): boolean {
  if (path === TUS_PATH || path === `${TUS_PATH}/`) return true;
  return path.startsWith(`${TUS_PATH}/`) && UPLOAD_ID_PATTERN.test(path.slice(TUS_PATH.length + 1));
}

function rejectionFor(error: unknown): TusRejection {
  if (error instanceof UploadGrantError) {
    return error.problem === 'invalid' ? new TusRejection(403, `${error.message}\n`) : new TusRejection(401, `${error.message}\n`);
  }
  throw error;
}

/**
 * The tus 1.0 endpoint (creation, creation-with-upload, termination, expiration) over the
 * quarantine (a directory, or the bucket a fleet shares). Every request carries an upload
 * grant as a bearer token: creation names the file after the grant's upload id (never
 * anything the client sent), and every later request must address that same id. Completion
 * enqueues one moderation job. A termination by the client marks the record `deleted` and is
 * audited as `upload.cancelled` before the file goes; an expiry is audited as
 * `quarantine.deleted`. With a shared `locker` and the S3 quarantine, any replica takes any
 * request of an upload.
 */
export async function createTusEndpoint(options: TusEndpointOptions): Promise<TusEndpoint> {
  const { grants, uploads, bus, logger } = options;
  const now = options.now ?? Date.now;
  const startWindowMs = options.startWindowMs ?? DEFAULT_START_WINDOW_MS;
  const audit = options.audit ?? new AuditLog(bus, now);
  /** The requester of the tus request being answered, for the audit of a cancellation. */
  const requester = new AsyncLocalStorage<string>();
  const hooks = {
    expirationPeriodInMilliseconds: options.incompleteTtlMs,
    now,
    // Stored before the bytes are: from here on the upload keeps its channel place past the start window.
    onFirstBytes: async (uploadId: string) => {
      await uploads.markReceiving(uploadId);
    },
    onExpired: async (uploadId: string) => {
      try {
        await uploads.transition(uploadId, 'deleted');
      } catch (error) {
        // A record that moved on with an incomplete file is for the lifecycle sweeper; the file is gone either way.
        if (!(error instanceof UploadTransitionError)) throw error;
        logger.warn({ err: error, upload_id: uploadId }, 'expired incomplete upload has a record past uploading');
      }
      await audit.record({
        actor: EXPIRY_ACTOR,
        action: AUDIT_ACTIONS.quarantineDeleted,
        target: uploadId,
        reason: INCOMPLETE_UPLOAD_EXPIRED,
        msgId: `audit:${AUDIT_ACTIONS.quarantineDeleted}:${uploadId}`,
      });
      logger.info({ upload_id: uploadId }, INCOMPLETE_UPLOAD_EXPIRED);
    },
  };
  const { quarantine } = options;
  let datastore: DataStore;
  if (quarantine.kind === 'filesystem') {
    // Created before FileStore, which would otherwise create it world-readable, asynchronously.
    await mkdir(quarantine.directory, { recursive: true, mode: 0o700 });
    datastore = new QuarantineFileStore({ directory: quarantine.directory, ...hooks });
  } else {
    datastore = await QuarantineS3Store.open({ bus, bucket: quarantine.bucket, s3ClientConfig: quarantine.s3ClientConfig, logger, ...hooks });
  }

  /**
   * Before tus removes the file of a termination: the record goes `deleted` (so no PATCH can
   * follow) and the cancellation is audited. A finished file, or none, is left to tus to refuse.
   * Should the removal then fail, the lifecycle sweeper deletes the file of the deleted record.
   */
  const cancel = async (uploadId: string): Promise<void> => {
    const stored = await datastore.getUpload(uploadId).catch(() => undefined);
    if (!stored || (stored.size !== undefined && stored.offset === stored.size)) return;
    await uploads.transition(uploadId, 'deleted');
    await audit.record({
      actor: requester.getStore() ?? 'client:unknown',
      action: AUDIT_ACTIONS.uploadCancelled,
      target: uploadId,
      reason: 'cancelled by the uploader',
      details: { bytes_received: stored.offset, size: stored.size ?? null },
      msgId: `audit:${AUDIT_ACTIONS.uploadCancelled}:${uploadId}`,
    });
    logger.info({ upload_id: uploadId, bytes: stored.offset }, 'upload cancelled');
  };

  /** One verification per request, whichever hook asks first. */
  const verified = new WeakMap<object, Promise<UploadGrant>>();
  const grantOf = (req: Request): Promise<UploadGrant> => {
    let grant = verified.get(req);
    if (!grant) {
      grant = grants.verify(bearerToken(req.headers.get('authorization')));
      verified.set(req, grant);
    }
    return grant.catch((error: unknown) => {
      throw rejectionFor(error);
    });
  };

  /** Publishes the moderation job, then marks the record `checking`. Both steps are idempotent. */
  const complete = async (upload: Upload): Promise<void> => {
    const record = await uploads.get(upload.id);
    if (!record) throw new TusRejection(404, 'no such upload\n');
    if (record.status !== 'uploading') return;
    try {
      await enqueueModerationJob(bus, record, upload.offset, new Date(now()).toISOString());
      await uploads.transition(upload.id, 'checking');
    } catch (error) {
      logger.warn({ err: error, upload_id: upload.id }, 'could not enqueue the moderation job');
      throw new TusRejection(503, 'the upload is stored but could not be queued for checking; retry\n');
    }
    logger.info({ upload_id: upload.id, channel: record.channel, bytes: upload.offset }, 'upload complete');
  };

  const tus = new Server({
    path: TUS_PATH,
    datastore,
    relativeLocation: true,
    ...(options.locker ? { locker: options.locker } : {}),
    disableTerminationForFinishedUploads: true,
    namingFunction: async (req) => (await grantOf(req)).uploadId,
    // A preflight (OPTIONS) has no grant; the limit that matters is the grant's, checked on POST.
    maxSize: async (req) => (req.method === 'OPTIONS' ? 0 : (await grantOf(req)).maxSize),
    onIncomingRequest: async (req, uploadId) => {
      // A CORS preflight carries no credentials by design: tus answers it with its CORS headers.
      if (req.method === 'OPTIONS') return;
      const grant = await grantOf(req);
      if (grant.uploadId !== uploadId) throw new TusRejection(403, 'the upload token is for another upload\n');
      const record = await uploads.get(uploadId);
      if (!record || record.status === 'deleted') throw new TusRejection(404, 'no such upload\n');
      if (req.method === 'HEAD') {
        // A crash between the last byte and the job leaves a complete file in `uploading`; the
        // client's resume starts with HEAD and, seeing every byte there, never PATCHes again.
        if (record.status === 'uploading') {
          const stored = await datastore.getUpload(uploadId).catch(() => undefined);
          if (stored && stored.size !== undefined && stored.offset === stored.size) await complete(stored);
        }
        return;
      }
      if (record.status !== 'uploading') throw new TusRejection(409, 'the upload is complete and can no longer change\n');
      if ((req.method === 'POST' || req.method === 'PATCH') && startLapsed(record, startWindowMs, now())) {
        const stored = await datastore.getUpload(uploadId).catch(() => undefined);
        if (!stored || stored.offset === 0) {
          throw new TusRejection(410, `no byte arrived within ${Math.round(startWindowMs / 1000)} s of the grant, so its place was given up; ask for a new grant\n`);
        }
      }
      if (req.method === 'DELETE') {
        await cancel(uploadId);
        return;
      }
      if (req.method === 'POST' && (await datastore.getUpload(uploadId).then(() => true, () => false))) {
        throw new TusRejection(409, 'this upload was already created; resume it with HEAD and PATCH\n');
      }
    },
    onUploadCreate: async (req, upload) => {
      const grant = await grantOf(req);
      if (upload.sizeIsDeferred || upload.size === undefined) throw new TusRejection(400, 'Upload-Length is required\n');
      if (upload.size > grant.maxSize) throw new TusRejection(413, `Upload-Length exceeds the ${grant.maxSize} bytes granted\n`);
      if (upload.size === 0) throw new TusRejection(400, 'an empty upload is refused\n');
      // Client metadata is dropped: nothing the client sent is stored, echoed, or used as a name.
      return { metadata: { filetype: grant.type } };
    },
    onUploadFinish: async (_req, upload) => {
      await complete(upload);
      return {};
    },
    onResponseError: (_req, error) => {
      if (error instanceof TusRejection) return { status_code: error.status_code, body: error.body };
      // tus answers its lock timeout as a 500; it is a busy upload, which tus clients retry on 423.
      if (error === ERRORS.ERR_LOCK_TIMEOUT) return { status_code: 423, body: UPLOAD_LOCKED_MESSAGE };
      // The records, the lock and (on S3) the parts ledger are on the bus: without it nothing is stored; the client retries.
      if (error instanceof BusUnavailableError) return { status_code: 503, body: 'the message bus is unavailable; retry\n' };
      if ('status_code' in error) return undefined;
      logger.error({ err: error }, 'tus request failed');
      return { status_code: ERRORS.UNKNOWN_ERROR.status_code, body: ERRORS.UNKNOWN_ERROR.body };
    },
  });
  let cleanupTimer: ReturnType<typeof setInterval> | undefined;
  const cleanUpExpiredUploads = async (): Promise<number> => {
    const deleted = await tus.cleanUpExpiredUploads();
    if (deleted > 0) logger.info({ deleted }, 'expired incomplete uploads deleted');
    return deleted;
  };

  return {
    // As tus.handle(req, res) does, with its plain-text refusals answered as our JSON errors.
    handle: (req, res, client) =>
      requester.run(client ?? 'client:unknown', async () => {
        const response = await tus.handleWeb(new NodeRequest({ req, res }));
        await sendNodeResponse(res, await tusErrorAsJson(response));
      }),
    cleanUpExpiredUploads,
    startCleanup: (intervalMs) => {
      if (cleanupTimer) return;
      cleanupTimer = setInterval(() => {
        cleanUpExpiredUploads().catch((error: unknown) => logger.warn({ err: error }, 'upload clean-up failed'));
      }, intervalMs);
      cleanupTimer.unref();
    },
    stop: () => {
      if (cleanupTimer) clearInterval(cleanupTimer);
      cleanupTimer = undefined;
    },
  };
}
