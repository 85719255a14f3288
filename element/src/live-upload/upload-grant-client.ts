/** What `POST /api/v1/uploads/token` answers. */
export interface UploadGrant {
  readonly upload_url: string;
  readonly token: string;
  readonly upload_id: string;
  readonly expires_at: string;
  readonly max_size: number;
}

/** Where a clip came from: the broadcast and its program time (EXT-X-PROGRAM-DATE-TIME), ISO 8601. */
export interface ClipProvenance {
  readonly canonical_id: string;
  readonly from: string;
  readonly to: string;
}

export interface UploadGrantRequest {
  readonly channel: string;
  readonly filename: string;
  readonly size: number;
  readonly type: string;
  readonly source: 'clip' | 'recording' | 'file';
  readonly title?: string;
  /** Today's server field for clips: seconds from the broadcast's start. */
  readonly clip?: { readonly canonical_id: string; readonly from_s: number; readonly to_s: number };
  readonly provenance?: ClipProvenance;
}

/** A refusal from the server, with its JSON error code (`{ error: { code, message } }`). */
export class UploadServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UploadServerError';
  }
}

const api = (endpoint: string, path: string): string => `${endpoint.replace(/\/$/, '')}/api/v1/uploads${path}`;

async function serverError(response: Response): Promise<UploadServerError> {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code.slice(0, 64);
    if (typeof body.error?.message === 'string') message = body.error.message.slice(0, 500);
  } catch {
    // not our JSON error: keep the status line
  }
  return new UploadServerError(response.status, code, message);
}

function parseGrant(value: unknown, endpoint: string): UploadGrant {
  const grant = value as Partial<Record<keyof UploadGrant, unknown>>;
  if (
    typeof grant?.upload_url !== 'string' ||
    typeof grant.token !== 'string' ||
    typeof grant.upload_id !== 'string' ||
    !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(grant.upload_id) ||
    typeof grant.expires_at !== 'string' ||
    typeof grant.max_size !== 'number'
  ) {
    throw new UploadServerError(502, 'bad_grant', 'the server sent an upload grant of the wrong shape');
  }
  const base = endpoint || location.href;
  return { ...(grant as UploadGrant), upload_url: new URL(grant.upload_url, base).href };
}

async function postToken(endpoint: string, body: unknown): Promise<Response> {
  return fetch(api(endpoint, '/token'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit' });
}

/**
 * Asks for an upload grant. The optional clip fields (`provenance`, `clip`) are dropped and the
 * request retried once each when a 400 names exactly that field, so a server that does not know
 * one yet still takes the upload.
 */
export async function requestUploadGrant(endpoint: string, request: UploadGrantRequest): Promise<UploadGrant> {
  let body: Record<string, unknown> = { ...request };
  for (;;) {
    const response = await postToken(endpoint, body);
    if (response.ok) return parseGrant(await response.json(), endpoint);
    const error = await serverError(response);
    const optional = response.status === 400 && (['provenance', 'clip'] as const).find((field) => field in body && new RegExp(`\\b${field}\\b`).test(error.message));
    if (!optional) throw error;
    const { [optional]: _dropped, ...rest } = body;
    body = rest;
  }
}

/** A fresh token for an upload still uploading, with the previous (maybe expired) one as proof. */
export async function renewUploadGrant(endpoint: string, renewal: { upload_id: string; channel: string; token: string }): Promise<UploadGrant> {
  const response = await postToken(endpoint, renewal);
  if (!response.ok) throw await serverError(response);
  return parseGrant(await response.json(), endpoint);
}

/** An upload's status as the uploader sees it. */
export const UPLOAD_STATUSES = ['uploading', 'checking', 'in_review', 'approved', 'rejected', 'published', 'deleted'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** An upload's status, and once published the URL of its MP4 (absolute, resolved against the endpoint). */
export interface UploadStatusReport {
  readonly status: UploadStatus;
  readonly mp4Url: string | undefined;
}

export async function fetchUploadStatus(endpoint: string, uploadId: string, signal?: AbortSignal): Promise<UploadStatusReport> {
  const response = await fetch(api(endpoint, `/${encodeURIComponent(uploadId)}`), { credentials: 'omit', cache: 'no-store', ...(signal ? { signal } : {}) });
  if (!response.ok) throw await serverError(response);
  const body = (await response.json()) as { status?: unknown; media?: { mp4?: unknown } };
  const status = body.status;
  if (!(UPLOAD_STATUSES as readonly unknown[]).includes(status)) throw new UploadServerError(502, 'bad_status', 'the server sent an unknown upload status');
  const mp4 = body.media?.mp4;
  let mp4Url: string | undefined;
  if (typeof mp4 === 'string') {
    const url = new URL(mp4, new URL(`${endpoint.replace(/\/$/, '')}/`, location.href));
    if (url.protocol === 'https:' || url.protocol === 'http:') mp4Url = url.href;
  }
  return { status: status as UploadStatus, mp4Url };
}
