export { uploadThroughTus } from '../../support/tus-upload.js';

/** What `GET /api/v1/uploads/:id` answers, as far as these tests read it. */
export interface UploadStatus {
  readonly upload_id: string;
  readonly status: string;
  readonly checks: ReadonlyArray<{ name: string; result: string; detail?: string }>;
  readonly media?: Record<string, unknown>;
}

export interface UploadGrant {
  readonly upload_url: string;
  readonly token: string;
  readonly upload_id: string;
}

/** `POST /api/v1/uploads/token`: the raw response, so a test can look at a refusal. */
export function requestUploadGrant(baseUrl: string, request: Record<string, unknown>): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/uploads/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
}

const POLL_INTERVAL_MS = 200;

/**
 * Polls `GET /api/v1/uploads/:id` (the main process is another process: there is no watch to
 * wait on) until its status is one of `statuses`; throws after `timeoutMs`, naming the last
 * status and checks it saw.
 */
export async function waitForUploadStatus(
  baseUrl: string,
  uploadId: string,
  statuses: readonly string[],
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<UploadStatus> {
  const deadline = performance.now() + timeoutMs;
  let last: UploadStatus | undefined;
  for (;;) {
    const response = await fetch(`${baseUrl}/api/v1/uploads/${uploadId}`, { headers });
    if (response.ok) {
      last = (await response.json()) as UploadStatus;
      if (statuses.includes(last.status)) return last;
    } else {
      await response.body?.cancel();
    }
    if (performance.now() > deadline) {
      throw new Error(`upload ${uploadId} did not reach ${statuses.join('|')} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
