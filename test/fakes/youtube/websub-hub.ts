/**
 * A fake WebSub hub (PubSubHubbub 0.4 as https://pubsubhubbub.appspot.com speaks it, and
 * W3C WebSub): it takes subscribe/unsubscribe form posts with 202, verifies intent with a GET
 * to the callback (hub.mode, hub.topic, hub.challenge, hub.lease_seconds), and publishes
 * content signed with `X-Hub-Signature: sha1=<hex>` to verified subscribers. Its HMAC and
 * form handling are its own, independent of our production code.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubSubscription {
  readonly callback: string;
  readonly topic: string;
  readonly secret: string | undefined;
  readonly leaseSeconds: number;
  readonly verifiedAtMs: number;
}

/** One verification of intent the hub attempted. */
export interface FakeHubVerification {
  readonly mode: 'subscribe' | 'unsubscribe';
  readonly callback: string;
  readonly topic: string;
  readonly challenge: string;
  readonly leaseSeconds: number | undefined;
  readonly status: number;
  readonly body: string;
  /** The callback answered 2xx with exactly the challenge. */
  readonly verified: boolean;
}

export interface FakeHubRequest {
  readonly mode: string;
  readonly callback: string;
  readonly topic: string;
  readonly leaseSeconds: string | undefined;
  readonly secret: string | undefined;
  readonly status: number;
}

export interface PublishOptions {
  /** `valid` (default): sign with the subscription's secret; `none`: no header; or a literal header value. */
  readonly signature?: 'valid' | 'none' | { readonly header: string } | { readonly secret: string };
  readonly contentType?: string;
}

export interface FakeWebSubHub {
  /** The subscription endpoint: `{base}/subscribe`. */
  readonly subscribeUrl: string;
  readonly requests: readonly FakeHubRequest[];
  readonly verifications: readonly FakeHubVerification[];
  subscriptions(topic?: string): FakeHubSubscription[];
  /** Resolves at the next verification attempt matching `predicate` (or one already made). */
  nextVerification(predicate: (verification: FakeHubVerification) => boolean): Promise<FakeHubVerification>;
  /** Content distribution: POSTs `body` to every verified subscriber of `topic`. */
  publish(topic: string, body: string, options?: PublishOptions): Promise<{ callback: string; status: number }[]>;
  /** Answer subscription requests with this status instead of 202 (e.g. 500), until cleared with undefined. */
  failRequestsWith(status: number | undefined): void;
  close(): Promise<void>;
}

export interface FakeWebSubHubOptions {
  /** Lease granted when the subscriber asks for none; YouTube's hub: 5 days. */
  readonly defaultLeaseSeconds?: number;
  /** Longest lease granted; YouTube's hub: 10 days. */
  readonly maxLeaseSeconds?: number;
}

export async function startFakeWebSubHub(options: FakeWebSubHubOptions = {}): Promise<FakeWebSubHub> {
  const defaultLease = options.defaultLeaseSeconds ?? 432_000;
  const maxLease = options.maxLeaseSeconds ?? 864_000;
  const requests: FakeHubRequest[] = [];
  const verifications: FakeHubVerification[] = [];
  const waiters = new Set<{ predicate: (verification: FakeHubVerification) => boolean; resolve: (verification: FakeHubVerification) => void }>();
  const active = new Map<string, FakeHubSubscription>();
  const pendingVerifications = new Set<Promise<void>>();
  let failStatus: number | undefined;

  const key = (callback: string, topic: string) => `${callback}\n${topic}`;

  async function verify(mode: 'subscribe' | 'unsubscribe', callback: string, topic: string, secret: string | undefined, requestedLease: number | undefined): Promise<void> {
    const challenge = randomBytes(12).toString('hex');
    const leaseSeconds = mode === 'subscribe' ? Math.min(requestedLease ?? defaultLease, maxLease) : undefined;
    const url = new URL(callback);
    url.searchParams.set('hub.mode', mode);
    url.searchParams.set('hub.topic', topic);
    url.searchParams.set('hub.challenge', challenge);
    if (leaseSeconds !== undefined) url.searchParams.set('hub.lease_seconds', String(leaseSeconds));
    let status = 0;
    let body = '';
    try {
      const response = await fetch(url);
      status = response.status;
      body = await response.text();
    } catch {
      // Unreachable callback: recorded with status 0.
    }
    const verified = status >= 200 && status < 300 && body === challenge;
    if (verified && mode === 'subscribe') {
      active.set(key(callback, topic), { callback, topic, secret, leaseSeconds: leaseSeconds!, verifiedAtMs: Date.now() });
    } else if (verified) {
      active.delete(key(callback, topic));
    }
    const verification: FakeHubVerification = { mode, callback, topic, challenge, leaseSeconds, status, body, verified };
    verifications.push(verification);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(verification)) {
        waiters.delete(waiter);
        waiter.resolve(verification);
      }
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://hub.invalid');
      if (req.method !== 'POST' || (url.pathname !== '/subscribe' && url.pathname !== '/')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
        return;
      }
      const type = req.headers['content-type'] ?? '';
      const raw = await readBody(req);
      const form = new URLSearchParams(type.startsWith('application/x-www-form-urlencoded') ? raw : '');
      const mode = form.get('hub.mode') ?? '';
      const callback = form.get('hub.callback') ?? '';
      const topic = form.get('hub.topic') ?? '';
      const leaseText = form.get('hub.lease_seconds') ?? undefined;
      const secret = form.get('hub.secret') ?? undefined;
      let status = 202;
      let problem = '';
      if (mode !== 'subscribe' && mode !== 'unsubscribe') problem = 'Invalid value for hub.mode';
      else if (!/^https?:\/\//.test(callback)) problem = 'Invalid parameter: hub.callback';
      else if (!/^https?:\/\//.test(topic)) problem = 'Invalid parameter: hub.topic';
      else if (leaseText !== undefined && !/^[0-9]+$/.test(leaseText)) problem = 'Invalid parameter: hub.lease_seconds';
      else if (secret !== undefined && Buffer.byteLength(secret) >= 200) problem = 'Invalid parameter: hub.secret';
      if (problem) status = 400;
      else if (failStatus !== undefined) status = failStatus;
      requests.push({ mode, callback, topic, leaseSeconds: leaseText, secret, status });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(problem || (status === 202 ? '' : 'Internal error'));
      if (status === 202) {
        const attempt = verify(mode as 'subscribe' | 'unsubscribe', callback, topic, secret, leaseText === undefined ? undefined : Number(leaseText));
        pendingVerifications.add(attempt);
        void attempt.finally(() => pendingVerifications.delete(attempt));
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    subscribeUrl: `${base}/subscribe`,
    requests,
    verifications,
    subscriptions(topic) {
      return [...active.values()].filter((subscription) => topic === undefined || subscription.topic === topic);
    },
    nextVerification(predicate) {
      const done = verifications.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
    async publish(topic, body, publishOptions = {}) {
      const results: { callback: string; status: number }[] = [];
      for (const subscription of active.values()) {
        if (subscription.topic !== topic) continue;
        const headers: Record<string, string> = {
          'Content-Type': publishOptions.contentType ?? 'application/atom+xml',
          Link: `<${base}/>; rel=hub, <${topic}>; rel=self`,
        };
        const signature = publishOptions.signature ?? 'valid';
        if (signature === 'valid' && subscription.secret !== undefined) headers['X-Hub-Signature'] = `sha1=${hubHmac(subscription.secret, body)}`;
        else if (typeof signature === 'object' && 'header' in signature) headers['X-Hub-Signature'] = signature.header;
        else if (typeof signature === 'object' && 'secret' in signature) headers['X-Hub-Signature'] = `sha1=${hubHmac(signature.secret, body)}`;
        const response = await fetch(subscription.callback, { method: 'POST', headers, body });
        await response.arrayBuffer();
        results.push({ callback: subscription.callback, status: response.status });
      }
      return results;
    },
    failRequestsWith(status) {
      failStatus = status;
    },
    async close() {
      await Promise.allSettled([...pendingVerifications]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The hub's signature: HMAC-SHA1 of the body under the subscriber's `hub.secret`, lowercase hex. */
export function hubHmac(secret: string, body: string): string {
  return createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(body, 'utf8')).digest('hex');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
