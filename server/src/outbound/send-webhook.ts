import { Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Dispatcher } from 'undici';
import type { ResolvedAddress } from './delivery-target.js';
import type { WebhookPools } from './webhook-pools.js';

/** Bytes of a receiver's response body we read (and drop) so the connection can be reused. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const USER_AGENT = 'live-upload-webhooks/1';

export interface WebhookRequest {
  readonly url: URL;
  /** The checked address: the connection goes there, whatever DNS says now. */
  readonly pinned: ResolvedAddress;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The connect timeout is the pools' (`WebhookPools`): it runs from the start of a connection. */
export interface SendLimits {
  /** From the start of the attempt until the response is complete. */
  readonly timeoutMs: number;
}

/** What one attempt came to. Redirects are responses like any other (never followed). */
export type SendResult =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter: string | undefined; readonly durationMs: number }
  | { readonly kind: 'failed'; readonly reason: 'connect_timeout' | 'timeout' | 'connection'; readonly message: string; readonly durationMs: number };

/** Keep-alive `node:http` agents shared by the guarded GETs of the VOD ingest (close them with `destroy`). */
export interface SenderAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  destroy(): void;
}

export function createSenderAgents(maxSockets = 256): SenderAgents {
  const http = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: 64, scheduling: 'lifo' });
  const https = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: 64, scheduling: 'lifo' });
  return {
    http,
    https,
    destroy: () => {
      http.destroy();
      https.destroy();
    },
  };
}

/** What a request to one URL always has: worked out once per URL object rather than per attempt. */
interface UrlParts {
  /** `http(s)://host[:port]`: the pool's key with the pinned address. */
  readonly origin: string;
  readonly path: string;
}

const urlParts = new WeakMap<URL, UrlParts>();

function partsOf(url: URL): UrlParts {
  let parts = urlParts.get(url);
  if (!parts) {
    parts = { origin: url.origin, path: `${url.pathname}${url.search}` };
    urlParts.set(url, parts);
  }
  return parts;
}

class AttemptError extends Error {
  constructor(readonly reason: 'connect_timeout' | 'timeout') {
    super(reason === 'connect_timeout' ? 'connect timed out' : 'delivery timed out');
  }
}

/** undici's error for a connection not up within the pool's connect timeout. */
const CONNECT_TIMEOUT_CODE = 'UND_ERR_CONNECT_TIMEOUT';

/**
 * One attempt as undici's dispatch handler: a class rather than closures (one object per
 * attempt, and no per-attempt function objects). Settles once: the first of the response's end,
 * its error (after the status: the status decides), a failure before any response, or the timeout.
 */
class WebhookAttempt implements Dispatcher.DispatchHandler {
  private settled = false;
  private status = 0;
  private retryAfter: string | undefined;
  private received = 0;
  private controller: Dispatcher.DispatchController | undefined;
  /** The timeout fired before undici handed the request a connection: abort it when it does. */
  private abandoned: AttemptError | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly resolve: (result: SendResult) => void,
    private readonly startedAt: number,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(onAttemptTimeout, timeoutMs, this);
  }

  /** The total timeout: answers `timeout` now and cuts the request (or will, once it starts). */
  timeOut(): void {
    const error = new AttemptError('timeout');
    if (this.controller) this.controller.abort(error);
    else this.abandoned = error;
    this.fail(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abandoned) controller.abort(this.abandoned);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    const retryAfter = headers['retry-after'];
    this.retryAfter = typeof retryAfter === 'string' ? retryAfter : undefined;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.length;
    // Read (and dropped) so the connection can be reused; a body too long ends it, the status stands.
    if (this.received > MAX_RESPONSE_BYTES) controller.abort(new Error('response body too long'));
  }

  onResponseEnd(): void {
    this.respond();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // A body cut short or too long still carried its status: that decides.
    if (this.status !== 0) this.respond();
    else this.fail(error);
  }

  private respond(): void {
    this.finish({ kind: 'response', status: this.status, retryAfter: this.retryAfter, durationMs: this.elapsed() });
  }

  /** The request never went out (the pool refused it). */
  notDispatched(error: unknown): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    const reason =
      error instanceof AttemptError ? error.reason : (error as { code?: unknown } | null)?.code === CONNECT_TIMEOUT_CODE ? 'connect_timeout' : 'connection';
    this.finish({ kind: 'failed', reason, message: error instanceof Error ? error.message : String(error), durationMs: this.elapsed() });
  }

  private finish(result: SendResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(result);
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.startedAt);
  }
}

function onAttemptTimeout(attempt: WebhookAttempt): void {
  attempt.timeOut();
}

/**
 * POSTs one signed webhook to the pinned address over the receiver's keep-alive pool (TLS
 * still checks the URL's host name). Redirects are never followed. The connect timeout runs
 * from the start of the connection (a request waiting for one of the pool's connections is
 * bound by the total timeout). Never throws: every outcome is a `SendResult`.
 */
export function sendWebhook(webhook: WebhookRequest, limits: SendLimits, pools: WebhookPools): Promise<SendResult> {
  const startedAt = performance.now();
  const parts = partsOf(webhook.url);
  return new Promise((resolve) => {
    const attempt = new WebhookAttempt(resolve, startedAt, limits.timeoutMs);
    // Name, value, name, value...: undici's cheapest form (no object walk).
    const headers = ['content-type', 'application/json', 'user-agent', USER_AGENT];
    for (const name in webhook.headers) headers.push(name, webhook.headers[name]!);
    try {
      pools.poolFor(parts.origin, webhook.pinned).dispatch({ method: 'POST', path: parts.path, headers, body: webhook.body }, attempt);
    } catch (error) {
      attempt.notDispatched(error);
    }
  });
}
