import type { DetailedError, Upload } from 'tus-js-client';
import { pendingUploadKey, type PendingUpload, type PendingUploadStore } from './pending-uploads.js';
import {
  fetchUploadStatus,
  renewUploadGrant,
  requestUploadGrant,
  UploadServerError,
  type UploadGrant,
  type UploadGrantRequest,
  type UploadStatus,
} from './upload-grant-client.js';

/**
 * Where an upload is, as the viewer sees it. `checking`, `in_review`, `published` and
 * `rejected` follow the server's status once every byte is in.
 */
export const UPLOAD_PHASES = ['requesting', 'uploading', 'paused', 'offline', 'checking', 'in_review', 'published', 'rejected', 'failed', 'cancelled'] as const;
export type UploadPhase = (typeof UPLOAD_PHASES)[number];

export interface UploadSnapshot {
  readonly phase: UploadPhase;
  readonly uploadId: string | undefined;
  readonly bytesUploaded: number;
  readonly bytesTotal: number;
  /** Set in `failed`: the server's error code (or a client one) and message. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /** True when this session picked up an upload stored before a reload. */
  readonly resumed: boolean;
  /** Once `published`: where the clip plays (its MP4 under the server's `/media/`). */
  readonly mediaUrl?: string | undefined;
}

export interface UploadSessionOptions {
  readonly endpoint: string;
  readonly store: PendingUploadStore;
  /** Bytes per PATCH; smaller chunks lose less on a dropped connection. */
  readonly chunkSize?: number;
  /** tus-js-client's retry delays (ms) for network errors and 5xx; the backoff. */
  readonly retryDelays?: readonly number[];
  /** First delay between status reads once uploaded; grows 1.5x up to `statusPollMaxMs`. */
  readonly statusPollMs?: number;
  readonly statusPollMaxMs?: number;
}

const DEFAULT_RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000];
const FINAL_PHASES: readonly UploadPhase[] = ['published', 'rejected', 'failed', 'cancelled'];

const phaseOf = (status: UploadStatus): UploadPhase =>
  status === 'uploading' || status === 'checking' ? 'checking' : status === 'in_review' || status === 'approved' ? 'in_review' : status === 'published' ? 'published' : 'rejected';

const statusCode = (error: unknown): number => (error as Partial<DetailedError>).originalResponse?.getStatus() ?? 0;

/**
 * One upload, as a plain data model with a `state` event (the UI is a view of it): grant, tus
 * upload with retries and backoff, pause / resume / cancel, offline and back online, a token
 * renewal when the grant expired, then the server's status until final. The grant and bytes are
 * kept in `PendingUploadStore`, and tus keeps its fingerprint in localStorage, until the upload
 * is complete or cancelled, so `PendingUploadSession.resume` continues after a reload.
 */
export class UploadSession extends EventTarget {
  #snapshot: UploadSnapshot = { phase: 'requesting', uploadId: undefined, bytesUploaded: 0, bytesTotal: 0, error: undefined, resumed: false };
  #upload: Upload | undefined;
  #grant: UploadGrant | undefined;
  #pending: PendingUpload | undefined;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #renewed = false;
  readonly #abort = new AbortController();

  private constructor(private readonly options: UploadSessionOptions) {
    super();
    const onOffline = () => this.#goOffline();
    const onOnline = () => this.#backOnline();
    addEventListener('offline', onOffline, { signal: this.#abort.signal });
    addEventListener('online', onOnline, { signal: this.#abort.signal });
  }

  /** Requests a grant for `file` and uploads it. */
  static start(options: UploadSessionOptions, file: Blob, request: Omit<UploadGrantRequest, 'size' | 'type'>): UploadSession {
    const session = new UploadSession(options);
    void session.#begin(file, request);
    return session;
  }

  /** Continues an upload stored before a reload: renews its grant, finds tus's stored URL, sends the rest. */
  static resume(options: UploadSessionOptions, pending: PendingUpload): UploadSession {
    const session = new UploadSession(options);
    session.#set({ resumed: true, uploadId: pending.uploadId, bytesTotal: pending.file.size });
    void session.#continue(pending);
    return session;
  }

  get snapshot(): UploadSnapshot {
    return this.#snapshot;
  }

  #set(change: Partial<UploadSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    this.dispatchEvent(new Event('state'));
  }

  #fail(error: unknown): void {
    const code = error instanceof UploadServerError ? error.code : 'upload_failed';
    const message = error instanceof Error ? error.message : String(error);
    this.#set({ phase: 'failed', error: { code, message } });
  }

  async #begin(file: Blob, request: Omit<UploadGrantRequest, 'size' | 'type'>): Promise<void> {
    try {
      const type = file.type.split(';')[0] || 'video/mp4';
      const grant = await requestUploadGrant(this.options.endpoint, { ...request, size: file.size, type });
      this.#grant = grant;
      const pending: PendingUpload = {
        key: pendingUploadKey(this.options.endpoint, grant.upload_id),
        endpoint: this.options.endpoint,
        channel: request.channel,
        uploadId: grant.upload_id,
        token: grant.token,
        tusEndpoint: grant.upload_url,
        filename: request.filename,
        file,
        createdAt: new Date().toISOString(),
      };
      await this.options.store.put(pending);
      this.#set({ uploadId: grant.upload_id, bytesTotal: file.size });
      await this.#send(pending, false);
    } catch (error) {
      this.#fail(error);
    }
  }

  async #continue(pending: PendingUpload): Promise<void> {
    try {
      const grant = await renewUploadGrant(this.options.endpoint, { upload_id: pending.uploadId, channel: pending.channel, token: pending.token });
      this.#grant = grant;
      await this.options.store.put({ ...pending, token: grant.token });
      await this.#send(pending, true);
    } catch (error) {
      // 404 / 409: the server no longer takes this upload (finished, cancelled, expired)
      if (error instanceof UploadServerError && (error.status === 404 || error.status === 409)) {
        await this.options.store.delete(pending.key);
        this.#set({ phase: 'failed', error: { code: error.code, message: error.message } });
        return;
      }
      this.#fail(error);
    }
  }

  async #send(pending: PendingUpload, resuming: boolean): Promise<void> {
    this.#pending = pending;
    const { Upload } = await import('tus-js-client');
    const upload = new Upload(pending.file, {
      endpoint: pending.tusEndpoint,
      uploadSize: pending.file.size,
      chunkSize: this.options.chunkSize ?? 2 * 1024 * 1024,
      retryDelays: [...(this.options.retryDelays ?? DEFAULT_RETRY_DELAYS)],
      metadata: { filename: pending.filename, filetype: pending.file.type },
      fingerprint: () => Promise.resolve(`live-upload:${pending.key}`),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: (req) => {
        if (this.#grant) req.setHeader('Authorization', `Bearer ${this.#grant.token}`);
      },
      onShouldRetry: (error, _attempt, options) => {
        const status = statusCode(error);
        if (status === 401 || status === 403 || !navigator.onLine) return false;
        return options.retryDelays !== null && (status === 0 || status === 409 || status === 423 || status >= 500);
      },
      onProgress: (bytesUploaded, bytesTotal) => {
        if (this.#snapshot.phase === 'uploading') this.#set({ bytesUploaded, bytesTotal });
      },
      onSuccess: () => void this.#uploaded(),
      onError: (error) => void this.#onTusError(error),
    });
    this.#upload = upload;
    if (resuming) {
      const previous = await upload.findPreviousUploads();
      const stored = previous.find((entry) => entry.uploadUrl);
      if (stored) upload.resumeFromPreviousUpload(stored);
    }
    if (this.#snapshot.phase === 'cancelled') return;
    if (!navigator.onLine) {
      this.#set({ phase: 'offline' });
      return;
    }
    this.#set({ phase: 'uploading' });
    upload.start();
  }

  async #onTusError(error: Error): Promise<void> {
    if (this.#snapshot.phase === 'paused' || this.#snapshot.phase === 'cancelled') return;
    if (!navigator.onLine) {
      this.#set({ phase: 'offline' });
      return;
    }
    const status = statusCode(error);
    if ((status === 401 || status === 403) && !this.#renewed && this.#grant && this.#pending) {
      // The 15-minute grant expired mid-upload: renew once and carry on from the server's offset.
      this.#renewed = true;
      try {
        const { upload_id: uploadId, token } = this.#grant;
        this.#grant = await renewUploadGrant(this.options.endpoint, { upload_id: uploadId, channel: this.#pending.channel, token });
        await this.options.store.put({ ...this.#pending, token: this.#grant.token });
        this.#upload?.start();
        return;
      } catch (renewal) {
        this.#fail(renewal);
        return;
      }
    }
    this.#fail(new UploadServerError(status, status === 0 ? 'network_error' : 'upload_failed', error.message.split('\n')[0] ?? 'upload failed'));
  }

  async #uploaded(): Promise<void> {
    if (this.#pending) await this.options.store.delete(this.#pending.key);
    this.#set({ phase: 'checking', bytesUploaded: this.#snapshot.bytesTotal });
    this.#pollStatus(this.options.statusPollMs ?? 1000);
  }

  #pollStatus(delayMs: number): void {
    const uploadId = this.#snapshot.uploadId;
    if (!uploadId || this.#abort.signal.aborted) return;
    this.#poll = setTimeout(async () => {
      try {
        const { status, mp4Url } = await fetchUploadStatus(this.options.endpoint, uploadId, this.#abort.signal);
        if (this.#abort.signal.aborted) return;
        const phase = phaseOf(status);
        if (phase !== this.#snapshot.phase) this.#set({ phase, ...(phase === 'published' ? { mediaUrl: mp4Url } : {}) });
        if (FINAL_PHASES.includes(phase)) return;
      } catch {
        if (this.#abort.signal.aborted) return; // rate-limited or offline: keep asking, more slowly
      }
      this.#pollStatus(Math.min(this.options.statusPollMaxMs ?? 15_000, delayMs * 1.5));
    }, delayMs);
  }

  #goOffline(): void {
    if (this.#snapshot.phase !== 'uploading') return;
    this.#set({ phase: 'offline' });
    void this.#upload?.abort(false);
  }

  #backOnline(): void {
    if (this.#snapshot.phase !== 'offline' || !this.#upload) return;
    this.#set({ phase: 'uploading' });
    this.#upload.start();
  }

  /** Stops sending; the bytes the server has stay there for `resume()`. */
  pause(): void {
    if (this.#snapshot.phase !== 'uploading' && this.#snapshot.phase !== 'offline') return;
    this.#set({ phase: 'paused' });
    void this.#upload?.abort(false);
  }

  resume(): void {
    if (this.#snapshot.phase !== 'paused' || !this.#upload) return;
    if (!navigator.onLine) return this.#set({ phase: 'offline' });
    this.#set({ phase: 'uploading' });
    this.#upload.start();
  }

  /**
   * Abandons the upload: the server deletes what it has (tus termination), nothing is kept here.
   * The stored record goes at once, not after the server answers, so a page closed during the
   * termination does not offer the cancelled upload again (the server expires what it kept).
   */
  async cancel(): Promise<void> {
    if (FINAL_PHASES.includes(this.#snapshot.phase) || this.#snapshot.phase === 'checking' || this.#snapshot.phase === 'in_review') return;
    this.#set({ phase: 'cancelled' });
    this.#abort.abort();
    await Promise.all([this.#upload?.abort(true).catch(() => undefined), this.#pending && this.options.store.delete(this.#pending.key)]);
  }

  /** Stops listening and polling; an upload in flight stays resumable (after a reload, say). */
  dispose(): void {
    this.#abort.abort();
    clearTimeout(this.#poll);
    if (this.#snapshot.phase === 'uploading') void this.#upload?.abort(false);
  }
}
