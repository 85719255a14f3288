import { readFile } from 'node:fs/promises';
import * as tus from 'tus-js-client';

/** What `POST /api/v1/uploads/token` grants, as far as an upload needs it. */
export interface TusGrant {
  /** Absolute, or relative to `baseUrl`. */
  readonly upload_url: string;
  readonly token: string;
}

/**
 * Sends a whole file (its bytes, or a path to read) through the server's tus endpoint with
 * tus-js-client, as a browser would, with the grant as bearer token; no retries, no stored
 * fingerprint. Resolves once the last PATCH was answered.
 */
export async function uploadThroughTus(grant: TusGrant, file: Uint8Array | string, baseUrl?: string): Promise<void> {
  const data = typeof file === 'string' ? await readFile(file) : Buffer.from(file);
  await new Promise<void>((resolve, reject) => {
    new tus.Upload(data, {
      endpoint: new URL(grant.upload_url, baseUrl).href,
      headers: { Authorization: `Bearer ${grant.token}` },
      uploadSize: data.length,
      retryDelays: null,
      storeFingerprintForResuming: false,
      onSuccess: () => resolve(),
      onError: reject,
    }).start();
  });
}

export interface ResumableUploadOptions {
  /** Bytes per PATCH; default one PATCH for the whole file. */
  readonly chunkSize?: number;
  /** Resume this upload instead of creating one. */
  readonly uploadUrl?: string;
  /** Abort once at least this many bytes are acknowledged (a client that went away mid-upload). */
  readonly stopAfterBytes?: number;
  /** Client `Upload-Metadata`. */
  readonly metadata?: Record<string, string>;
}

/**
 * Uploads `data` with tus-js-client, creating an upload or resuming `uploadUrl`; resolves with
 * the upload URL and whether it finished (false when `stopAfterBytes` cut it short).
 */
export function uploadResumable(grant: TusGrant, data: Uint8Array, options: ResumableUploadOptions = {}): Promise<{ url: string; finished: boolean }> {
  const bytes = Buffer.from(data);
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(bytes, {
      endpoint: grant.upload_url,
      uploadUrl: options.uploadUrl ?? null,
      headers: { Authorization: `Bearer ${grant.token}` },
      chunkSize: options.chunkSize ?? Number.POSITIVE_INFINITY,
      uploadSize: bytes.length,
      metadata: options.metadata ?? {},
      retryDelays: null,
      storeFingerprintForResuming: false,
      onChunkComplete: (_chunk, accepted) => {
        if (options.stopAfterBytes !== undefined && accepted >= options.stopAfterBytes && accepted < bytes.length) {
          void upload.abort().then(() => resolve({ url: upload.url ?? '', finished: false }), reject);
        }
      },
      onSuccess: () => resolve({ url: upload.url ?? '', finished: true }),
      onError: reject,
    });
    upload.start();
  });
}
