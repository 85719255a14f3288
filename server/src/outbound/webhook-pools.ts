import { Pool } from 'undici';
import type { ResolvedAddress } from './delivery-target.js';
import { pinnedLookup } from './pinned-lookup.js';

/** Connections to one receiver at once from one process (a subscriber's own cap is at most 64). */
const MAX_CONNECTIONS_PER_RECEIVER = 256;

/** A receiver's pool unused this long is closed (its sockets already went after undici's keep-alive timeout). */
const IDLE_POOL_MS = 60_000;

interface PoolEntry {
  readonly pool: Pool;
  lastUsedMs: number;
}

/**
 * Keep-alive connection pools (undici) to webhook receivers, one per receiver origin and pinned
 * address: the SSRF check pins each attempt's address, so a receiver whose name resolves
 * elsewhere later gets a pool of its own rather than a socket to the old address. undici's
 * client costs about a quarter less CPU per request than `node:http` with a keep-alive Agent (the
 * outbound bench: 100 receivers, most of the sender's time is its HTTP client).
 */
export class WebhookPools {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly sweep: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly options: { readonly connectTimeoutMs: number; readonly now?: () => number }) {
    this.sweep = setInterval(() => this.closeIdle(), IDLE_POOL_MS);
    this.sweep.unref();
  }

  /** The pool for `origin` (`http(s)://host[:port]`) whose connections go to `pinned`, whatever DNS says. */
  poolFor(origin: string, pinned: ResolvedAddress): Pool {
    if (this.closed) throw new Error('webhook pools are closed');
    const key = `${origin} ${pinned.address}`;
    const nowMs = (this.options.now ?? Date.now)();
    let entry = this.pools.get(key);
    if (!entry) {
      entry = {
        pool: new Pool(origin, {
          connections: MAX_CONNECTIONS_PER_RECEIVER,
          // Through `lookup`, so TLS still checks the certificate against the URL's host name.
          connect: { timeout: this.options.connectTimeoutMs, lookup: pinnedLookup(pinned) },
        }),
        lastUsedMs: nowMs,
      };
      this.pools.set(key, entry);
    }
    entry.lastUsedMs = nowMs;
    return entry.pool;
  }

  /** Pools held now (one per receiver origin and address used within the last minute or so). */
  get size(): number {
    return this.pools.size;
  }

  /** Closes pools not used for a minute; a request still running on one finishes first. */
  closeIdle(): void {
    const before = (this.options.now ?? Date.now)() - IDLE_POOL_MS;
    for (const [key, entry] of this.pools) {
      if (entry.lastUsedMs >= before) continue;
      this.pools.delete(key);
      void entry.pool.close().catch(() => undefined);
    }
  }

  /** Closes every pool and its sockets (after the worker has stopped and its attempts have ended). */
  async destroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    const entries = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(entries.map((entry) => entry.pool.destroy().catch(() => undefined)));
  }
}
