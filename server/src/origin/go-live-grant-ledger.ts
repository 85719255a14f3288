import { BUCKETS, KvConflictError, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { PUBLISHER_GRANT_MAX_TTL_MS } from '../publishers/index.js';

/** Bus bucket of spent go-live grants, key = grant id (`jti`). */
export const USED_GO_LIVE_GRANTS_BUCKET = BUCKETS.originUsedGrants;

/**
 * A go-live grant opens one WHIP session, once, on any replica: the first offer that uses it
 * records its id here with a create-only write, and a second offer with the same grant loses
 * that write (on this replica or another). Entries outlive every grant's lifetime (an hour at
 * most, plus slack for clock skew), after which the grant is refused as expired anyway.
 */
export class GoLiveGrantLedger {
  private constructor(private readonly bucket: KvBucket) {}

  static async open(bus: Bus): Promise<GoLiveGrantLedger> {
    return new GoLiveGrantLedger(await bus.kv(USED_GO_LIVE_GRANTS_BUCKET, { ttlMs: PUBLISHER_GRANT_MAX_TTL_MS + 10 * 60 * 1000 }));
  }

  /** True when this call spent the grant; false when it had been used before. */
  async spend(grantId: string, use: { readonly channel: string; readonly sessionId: string; readonly nowMs: number }): Promise<boolean> {
    try {
      await this.bucket.create(grantId, encodeJson({ channel: use.channel, session_id: use.sessionId, used_at: new Date(use.nowMs).toISOString() }));
      return true;
    } catch (error) {
      if (error instanceof KvConflictError) return false;
      throw error;
    }
  }
}
