/**
 * The element's side of WHIP (RFC 9725), the signalling of going live: one `POST` of a complete
 * SDP offer (every ICE candidate in it: our server answers `PATCH` with 405, so there is no
 * trickle and no ICE restart), a `201` with the answer and the session's `Location`, and a
 * `DELETE` of that `Location` to end. Refusals keep the server's JSON error code
 * (`{ error: { code, message } }`) and are sorted into what the publisher can do about them.
 */

/** What a `201` gave: the SDP answer, the session resource (absolute), and the server's bitrate ceiling. */
export interface WhipAnswer {
  readonly answerSdp: string;
  readonly sessionUrl: string;
  /** `b=AS` of the answer's video section (kbps, video alone: the audio section carries its own share), when the server set one. */
  readonly maxBitrateKbps: number | undefined;
}

/**
 * What a publisher can do about a refusal, one translated sentence each:
 * - `grant` (401): the grant is missing, expired or not ours: the host page needs a new one.
 * - `forbidden` (403, 404): this grant may not go live on this channel (or already opened a session; grants are single-use).
 * - `conflict` (409): the channel is live from another connection.
 * - `codec` (415, 422, 400): the offer holds nothing the server can take.
 * - `too_large` (413): the offer is larger than the server takes.
 * - `busy` (429, 503): too many offers or sessions right now; worth retrying later (`retryAfterMs`).
 * - `network`: no answer at all (offline, CORS, DNS, a dropped connection).
 * - `server`: anything else (5xx, an answer that is not SDP).
 */
export type WhipErrorKind = 'grant' | 'forbidden' | 'conflict' | 'codec' | 'too_large' | 'busy' | 'network' | 'server';

/** A WHIP request that did not give a session; `code` is the server's JSON code (or ours for transport failures). */
export class WhipError extends Error {
  constructor(
    readonly kind: WhipErrorKind,
    readonly status: number,
    readonly code: string,
    message: string,
    /** From `Retry-After`, when the server said how long to wait. */
    readonly retryAfterMs: number | undefined = undefined,
  ) {
    super(message);
    this.name = 'WhipError';
  }

  /** Worth trying again by itself later: the server was busy or unreachable, not refusing this publisher. */
  get retryable(): boolean {
    return this.kind === 'busy' || this.kind === 'network' || this.kind === 'server';
  }
}

/** The channel's WHIP endpoint: `{endpoint}/api/v1/channels/{publisher}/{slug}/whip`, absolute. */
export function whipEndpointUrl(endpoint: string, channel: string): string {
  const [publisher = '', slug = ''] = channel.split('/');
  const base = new URL(`${endpoint.replace(/\/$/, '')}/`, location.href);
  return new URL(`api/v1/channels/${encodeURIComponent(publisher)}/${encodeURIComponent(slug)}/whip`, base).href;
}

function kindOf(status: number): WhipErrorKind {
  if (status === 401) return 'grant';
  if (status === 403 || status === 404) return 'forbidden';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 415 || status === 422) return 'codec';
  if (status === 413) return 'too_large';
  if (status === 429 || status === 503) return 'busy';
  return 'server';
}

/** `Retry-After` in ms (seconds or an HTTP date), undefined when absent or unreadable. */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A refusal as a `WhipError`, with the server's JSON code and message when it sent them. */
export async function readWhipError(response: Response): Promise<WhipError> {
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code.slice(0, 64);
    if (typeof body.error?.message === 'string') message = body.error.message.slice(0, 500);
  } catch {
    // not our JSON error (another WHIP server, a proxy): keep the status line
  }
  return new WhipError(kindOf(response.status), response.status, code, message, retryAfterMs(response));
}

/** The `b=AS` ceiling of the answer's video section (RFC 4566 application-specific maximum, kbps). */
export function answerBitrateCeilingKbps(sdp: string): number | undefined {
  let inVideo = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    const ceiling = inVideo ? /^b=AS:(\d+)$/.exec(line) : null;
    if (ceiling) return Number(ceiling[1]);
  }
  return undefined;
}

/**
 * Posts a complete offer with the grant as bearer token. Resolves with the answer and the
 * session's URL (`Location`, resolved against the endpoint); rejects with a `WhipError`.
 */
export async function postWhipOffer(url: string, grant: string, offerSdp: string, signal?: AbortSignal): Promise<WhipAnswer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${grant}` },
      body: offerSdp,
      credentials: 'omit',
      cache: 'no-store',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new WhipError('network', 0, 'network_error', error instanceof Error ? error.message : String(error));
  }
  if (response.status !== 201) throw await readWhipError(response);
  const location = response.headers.get('location');
  const answerSdp = await response.text();
  if (!location) throw new WhipError('server', 201, 'bad_answer', 'the WHIP answer has no Location (the server must expose it to this page)');
  if (!answerSdp.startsWith('v=0')) throw new WhipError('server', 201, 'bad_answer', 'the WHIP answer is not SDP');
  return { answerSdp, sessionUrl: new URL(location, response.url || url).href, maxBitrateKbps: answerBitrateCeilingKbps(answerSdp) };
}

/**
 * Ends a session (`DELETE` its `Location`; RFC 9725 makes the URL itself the capability). A 404
 * means it has ended already, which is what was asked; other refusals and transport failures reject.
 */
export async function deleteWhipSession(sessionUrl: string, signal?: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(sessionUrl, { method: 'DELETE', credentials: 'omit', cache: 'no-store', keepalive: true, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new WhipError('network', 0, 'network_error', error instanceof Error ? error.message : String(error));
  }
  if (response.ok || response.status === 404) return;
  throw await readWhipError(response);
}
