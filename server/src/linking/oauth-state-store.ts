import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BUCKETS, KvContentionError, SKIP, jsonCodec, typedKv, type Bus, type TypedKv } from '../bus/index.js';
import { OAUTH_PROVIDERS, type OAuthProviderId } from './linked-account.js';

/** How long a started authorization may take. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

const pendingAuthorizationSchema = z.object({
  channel: z.string(),
  provider: z.enum(OAUTH_PROVIDERS),
  code_verifier: z.string(),
  return_to: z.string().nullable(),
  created_at_ms: z.number(),
  /** Set when consumed; the entry is then deleted. */
  consumed: z.boolean(),
});
export type PendingAuthorization = z.infer<typeof pendingAuthorizationSchema>;

const stateCodec = jsonCodec(pendingAuthorizationSchema);

/** 32 random bytes as base64url: 43 characters. */
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * OAuth `state` values in a TTL'd KV bucket: random, bound to the channel, provider, PKCE
 * verifier and return address, valid for 10 minutes and usable once. Consuming is a
 * compare-and-set, so of two callbacks racing with one state only one wins.
 */
export class OAuthStateStore {
  private constructor(
    private readonly states: TypedKv<PendingAuthorization>,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<OAuthStateStore> {
    return new OAuthStateStore(typedKv(await bus.kv(BUCKETS.oauthStates, { ttlMs: OAUTH_STATE_TTL_MS }), stateCodec), now);
  }

  /** Stores a pending authorization; returns its state. */
  async create(pending: Omit<PendingAuthorization, 'created_at_ms' | 'consumed'>): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.states.bucket.create(state, stateCodec.encode({ ...pending, created_at_ms: this.now(), consumed: false }));
    return state;
  }

  /** The pending authorization of `state`, consumed; undefined when unknown, used, expired or for another provider. */
  async consume(state: string, provider: OAuthProviderId): Promise<PendingAuthorization | undefined> {
    if (!STATE_PATTERN.test(state)) return undefined;
    let pending: PendingAuthorization;
    try {
      // One compare-and-set on one read, never retried: of two callbacks racing with one state, the loser gets nothing.
      const marked = await this.states.update(state, (current) => (!current || current.consumed ? SKIP : { ...current, consumed: true }), { maxAttempts: 1 });
      if (marked.outcome === 'unchanged') return undefined;
      pending = marked.previous!;
    } catch (error) {
      if (error instanceof KvContentionError) return undefined;
      throw error;
    }
    await this.states.bucket.delete(state);
    if (this.now() - pending.created_at_ms > OAUTH_STATE_TTL_MS || pending.created_at_ms > this.now()) return undefined;
    if (pending.provider !== provider) return undefined;
    return { ...pending, consumed: true };
  }
}
