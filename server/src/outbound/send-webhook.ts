import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './delivery-target.js';

/** Bytes of a receiver's response body we read (and drop) so the connection can be reused. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhookRequest {
  readonly url: URL;
  /** The checked address: the connection goes there, whatever DNS says now. */
  readonly pinned: ResolvedAddress;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SendLimits {
  /** From the start of the attempt until the TCP (and TLS) connection is up. */
  readonly connectTimeoutMs: number;
  /** From the start of the attempt until the response is complete. */
  readonly timeoutMs: number;
}

/** What one attempt came to. Redirects are responses like any other (never followed). */
export type SendResult =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter: string | undefined; readonly durationMs: number }
  | { readonly kind: 'failed'; readonly reason: 'connect_timeout' | 'timeout' | 'connection'; readonly message: string; readonly durationMs: number };

/** Keep-alive agents shared by all attempts of one sender (close them with `destroy`). */
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

/**
 * A resolver that answers every name with the pinned address: the connection goes to the address
 * the SSRF guard checked (`resolveDeliveryTarget`), whatever DNS answers now. Also used by the
 * VOD ingest's guarded GET.
 */
export function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (typeof options === 'object' && options !== null && (options as { all?: boolean }).all) {
      (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [{ address: pinned.address, family: pinned.family }]);
    } else {
      callback(null, pinned.address, pinned.family);
    }
  };
}

/** What a request to one URL always has: worked out once per URL object rather than per attempt. */
interface UrlParts {
  readonly https: boolean;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly host: string;
}

const urlParts = new WeakMap<URL, UrlParts>();

function partsOf(url: URL): UrlParts {
  let parts = urlParts.get(url);
  if (!parts) {
    parts = {
      https: url.protocol === 'https:',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      host: url.host,
    };
    urlParts.set(url, parts);
  }
  return parts;
}

class AttemptError extends Error {
  constructor(readonly reason: 'connect_timeout' | 'timeout') {
    super(reason === 'connect_timeout' ? 'connect timed out' : 'delivery timed out');
  }
}

/**
 * POSTs one signed webhook to the pinned address (TLS still checks the URL's host name). Never
 * throws: every outcome is a `SendResult`.
 */
export function sendWebhook(webhook: WebhookRequest, limits: SendLimits, agents: SenderAgents): Promise<SendResult> {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  const parts = partsOf(webhook.url);
  const https = parts.https;
  const body = Buffer.from(webhook.body, 'utf8');
  return new Promise((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve(result);
    };
    const fail = (error: unknown) => {
      const reason = error instanceof AttemptError ? error.reason : 'connection';
      finish({ kind: 'failed', reason, message: error instanceof Error ? error.message : String(error), durationMs: elapsed() });
    };
    const connectTimer = setTimeout(() => request?.destroy(new AttemptError('connect_timeout')), limits.connectTimeoutMs);
    timers.push(
      connectTimer,
      setTimeout(() => request?.destroy(new AttemptError('timeout')), limits.timeoutMs),
    );
    const headers: Record<string, string> = {};
    for (const name in webhook.headers) headers[name] = webhook.headers[name]!;
    headers.host = parts.host;
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
    headers['user-agent'] = 'live-upload-webhooks/1';
    const options = {
      method: 'POST',
      protocol: https ? 'https:' : 'http:',
      hostname: parts.hostname,
      port: parts.port,
      path: parts.path,
      headers,
      lookup: pinnedLookup(webhook.pinned),
      agent: https ? agents.https : agents.http,
      ...(https ? { servername: parts.hostname } : {}),
    };
    try {
      request = (https ? httpsRequest : httpRequest)(options, (response: IncomingMessage) => {
        let received = 0;
        const status = response.statusCode ?? 0;
        const retryAfter = typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        const done = () => finish({ kind: 'response', status, retryAfter, durationMs: elapsed() });
        response.once('end', done);
        // A body cut short or too long still carried its status: that decides.
        response.once('close', done);
        response.once('error', done);
      });
    } catch (error) {
      fail(error);
      return;
    }
    request.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once(https ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.once('error', fail);
    request.end(body);
  });
}
