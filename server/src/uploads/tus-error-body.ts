import type { ErrorCode } from '../errors/index.js';

/** The error code a tus refusal answers with, by its status (tus adds 410 for an expired upload, 460 for a checksum mismatch). */
const TUS_ERROR_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  423: 'locked',
  460: 'checksum_mismatch',
  500: 'internal',
  503: 'bus_unavailable',
};

/**
 * A tus error answer as ours: `@tus/server` writes its refusals (and ours, `TusRejection`) as
 * `text/plain` lines; every error of the API is `{ "error": { "code", "message" } }`, so the
 * line becomes the message and the status names the code. Headers (tus, CORS) are kept;
 * anything that is not a plain-text error is returned as it is.
 */
export async function tusErrorAsJson(response: Response): Promise<Response> {
  if (response.status < 400 || !(response.headers.get('content-type') ?? '').startsWith('text/plain')) return response;
  const message = (await response.text()).trim() || `tus answered ${response.status}`;
  const code = TUS_ERROR_CODES[response.status] ?? (response.status >= 500 ? 'internal' : 'bad_request');
  const body = JSON.stringify({ error: { code, message } });
  const headers = new Headers(response.headers);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Content-Length', String(Buffer.byteLength(body)));
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

