import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  DeliveryRefusedError,
  HostUnresolvedError,
  WebhookUrlError,
  parseWebhookUrl,
  pinnedLookup,
  resolveDeliveryTarget,
  type ResolveHost,
  type SenderAgents,
} from '../outbound/index.js';
import type { IngestClock } from './ingest-clock.js';
import { INGEST_FAILURE_REASONS, IngestError, TransientFetchError } from './ingest-error.js';

/** Who may be fetched: the outbound webhooks' SSRF rules (`OUTBOUND_ALLOW_PRIVATE_HOSTS`). */
export interface SourcePolicy {
  /** Host names or literal addresses allowed even though they are private (tests, on-prem origins). */
  readonly allowPrivateHosts: ReadonlySet<string>;
  /** The resolver (default: the OS). */
  readonly resolve?: ResolveHost;
}

export interface GuardedGetOptions extends SourcePolicy {
  readonly maxRedirects: number;
  /** Time cap on the whole exchange, every hop and the body included. */
  readonly timeoutMs: number;
  readonly clock: IngestClock;
  readonly agents: SenderAgents;
  /** Aborts the exchange (the follower's `stop()`). */
  readonly signal?: AbortSignal;
}

/** A final (non-redirect) answer. Read or destroy `body`; the time cap runs until it closes. */
export interface GuardedResponse {
  /** The URL that answered, after redirects: relative playlist URIs resolve against it. */
  readonly url: URL;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * GETs `url` as the outbound webhooks POST: the URL must be absolute http(s) without
 * credentials, its host must resolve only to public addresses (unless allowed), and the
 * connection is pinned to the checked address. Redirects are followed up to `maxRedirects`,
 * each hop checked the same way, so a redirect to 169.254.169.254 or a loop ends with a reason.
 * Throws `IngestError` for what will never work (refused address, bad URL, loop, time cap) and
 * `TransientFetchError` for what may (DNS, a dropped connection).
 */
export async function guardedGet(text: string, options: GuardedGetOptions): Promise<GuardedResponse> {
  let current: ClientRequest | undefined;
  let currentResponse: IncomingMessage | undefined;
  let expired: IngestError | undefined;
  const cancelDeadline = options.clock.deadline(options.timeoutMs, () => {
    expired = new IngestError(INGEST_FAILURE_REASONS.timeout, `${text} did not arrive within ${options.timeoutMs} ms`);
    current?.destroy(expired);
    currentResponse?.destroy(expired);
  });
  try {
    let url = checkedUrl(text);
    for (let hop = 0; ; hop++) {
      const pinned = await resolveChecked(url, options);
      if (expired) throw expired;
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const https = url.protocol === 'https:';
        const hostname = url.hostname.replace(/^\[|\]$/g, '');
        try {
          current = (https ? httpsRequest : httpRequest)(
            {
              method: 'GET',
              protocol: url.protocol,
              hostname,
              port: url.port === '' ? undefined : Number(url.port),
              path: `${url.pathname}${url.search}`,
              headers: { host: url.host, 'user-agent': 'live-upload-vod-ingest/1', accept: '*/*' },
              lookup: pinnedLookup(pinned),
              agent: https ? options.agents.https : options.agents.http,
              ...(https ? { servername: hostname } : {}),
              ...(options.signal ? { signal: options.signal } : {}),
            },
            resolve,
          );
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        current.once('error', reject);
        current.end();
      }).catch((error: unknown) => {
        if (expired) throw expired;
        if (error instanceof IngestError) throw error;
        throw new TransientFetchError(`${url.href} failed: ${(error as Error).message}`, undefined, { cause: error });
      });
      currentResponse = response;
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && typeof location === 'string') {
        response.destroy();
        if (hop >= options.maxRedirects) {
          throw new IngestError(INGEST_FAILURE_REASONS.tooManyRedirects, `${text} redirected more than ${options.maxRedirects} times`);
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new IngestError(INGEST_FAILURE_REASONS.badUrl, `${url.href} redirected to an invalid URL`);
        }
        url = checkedUrl(next.href);
        continue;
      }
      response.once('close', cancelDeadline);
      if (response.destroyed) cancelDeadline();
      return { url, status, headers: response.headers, body: response };
    }
  } catch (error) {
    cancelDeadline();
    throw error;
  }
}

function checkedUrl(text: string): URL {
  try {
    return parseWebhookUrl(text, { requireHttps: false });
  } catch (error) {
    if (error instanceof WebhookUrlError) throw new IngestError(INGEST_FAILURE_REASONS.badUrl, `${text.slice(0, 200)}: ${error.message}`, { cause: error });
    throw error;
  }
}

async function resolveChecked(url: URL, policy: SourcePolicy) {
  try {
    return await resolveDeliveryTarget(url, { allowPrivateHosts: policy.allowPrivateHosts, ...(policy.resolve ? { resolve: policy.resolve } : {}) });
  } catch (error) {
    if (error instanceof DeliveryRefusedError) throw new IngestError(INGEST_FAILURE_REASONS.refusedAddress, `${url.href}: ${error.message}`, { cause: error });
    if (error instanceof HostUnresolvedError) throw new TransientFetchError(error.message, undefined, { cause: error });
    throw error;
  }
}
