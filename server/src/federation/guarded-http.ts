import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseWebhookUrl, pinnedLookup, resolveDeliveryTarget, type ResolveHost } from '../outbound/index.js';

/**
 * The outbound webhooks' SSRF rules, applied to every request federation makes (actor fetches,
 * inbox deliveries): http(s) only (https only when required), no credentials, every resolved
 * address public unless the host is allowlisted, and the connection pinned to the checked address.
 */
export interface FederationNetworkPolicy {
  readonly requireHttps: boolean;
  readonly allowPrivateHosts: ReadonlySet<string>;
  readonly timeoutMs: number;
  readonly resolve?: ResolveHost;
}

export interface GuardedRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Bytes of the response body kept; a longer body fails the request. */
  readonly maxResponseBytes: number;
}

export interface GuardedResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** The response body was longer than the caller takes. */
export class ResponseTooLargeError extends Error {
  constructor(url: string) {
    super(`response of ${url} is too large`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * One request under the SSRF policy. Throws `WebhookUrlError` / `DeliveryRefusedError` (never
 * worth a retry), `HostUnresolvedError`, or a connection error; redirects are not followed.
 */
export async function guardedRequest(request: GuardedRequest, policy: FederationNetworkPolicy): Promise<GuardedResponse> {
  const url = parseWebhookUrl(request.url, { requireHttps: policy.requireHttps });
  const pinned = await resolveDeliveryTarget(url, { allowPrivateHosts: policy.allowPrivateHosts, ...(policy.resolve ? { resolve: policy.resolve } : {}) });
  const https = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        method: request.method,
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, host: url.host, 'user-agent': 'live-upload-federation/1', ...(body ? { 'content-length': String(body.length) } : {}) },
        lookup: pinnedLookup(pinned),
        timeout: policy.timeoutMs,
        ...(https ? { servername: hostname } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > request.maxResponseBytes) {
            response.destroy();
            reject(new ResponseTooLargeError(request.url));
            return;
          }
          chunks.push(chunk);
        });
        response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.once('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${request.method} ${request.url} timed out`)), policy.timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
    req.end(body);
  });
}
