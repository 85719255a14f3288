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
