import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../observability/index.js';
import { LINK_ACTORS, LINK_AUDIT } from './link-audit.js';
import type { LinkedAccountStore } from './linked-account-store.js';
import type { LinkedAccountView, OAuthProviderId } from './linked-account.js';
import { OAuthGrantError, type OAuthClient } from './oauth-client.js';
import { TokenVaultError } from './token-vault.js';

export interface TokenRefresherOptions {
  readonly store: LinkedAccountStore;
  readonly oauth: Partial<Record<OAuthProviderId, OAuthClient>>;
  readonly audit: AuditLog;
  /** How often to look for tokens close to expiry. Default 60 s. */
  readonly intervalMs?: number;
  /** Refresh a token this long before it expires. Default 10 min. */
  readonly marginMs?: number;
  /** How long one instance holds an account's refresh lease. Default 60 s. */
  readonly leaseMs?: number;
  readonly log?: Logger | undefined;
  readonly now?: () => number;
}

export interface RefreshSweep {
  readonly refreshed: number;
  readonly needsReauth: number;
  /** Transient failures: tried again on a later sweep. */
  readonly retryLater: number;
}

/**
 * Refreshes OAuth access tokens before they expire. A refusal from the provider
 * (`invalid_grant`, Twitch's 400) marks the link `needs_reauth` and audits it; an unreadable
 * sealed token does the same; a transient failure (network, 5xx) is retried on the next sweep.
 * Several instances may run it: a compare-and-set lease per account lets one refresh.
 */
export class TokenRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RefreshSweep> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenRefresherOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refreshDue().catch((error: unknown) => this.options.log?.error({ err: error }, 'token refresh sweep failed'));
    }, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep: every active OAuth link whose token expires within the margin. Overlapping calls share one sweep. */
  refreshDue(): Promise<RefreshSweep> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<RefreshSweep> {
    const margin = this.options.marginMs ?? 10 * 60 * 1000;
    const counts = { refreshed: 0, needsReauth: 0, retryLater: 0 };
    for (const account of await this.options.store.list()) {
      if (account.status !== 'active' || account.expires_at === null) continue;
      if (Date.parse(account.expires_at) - this.now() > margin) continue;
      const outcome = await this.refreshOne(account);
      if (outcome === 'refreshed') counts.refreshed++;
      else if (outcome === 'needs_reauth') counts.needsReauth++;
      else if (outcome === 'retry') counts.retryLater++;
    }
    return counts;
  }

  private async refreshOne(account: LinkedAccountView): Promise<'refreshed' | 'needs_reauth' | 'retry' | 'skipped'> {
    const { store } = this.options;
    const provider = account.provider;
    if (provider === 'bluesky') return 'skipped';
    const client = this.options.oauth[provider];
    if (!client) return 'skipped';
    let claim;
    try {
      claim = await store.claimRefresh(provider, account.account_id, this.options.leaseMs ?? 60_000);
    } catch (error) {
      if (error instanceof TokenVaultError) return this.needsReauth(account, 'credentials_unreadable', error.message);
      throw error;
    }
    if (!claim) return 'skipped';
    try {
      const tokens = await client.refresh(claim.refreshToken);
      const written = await store.completeRefresh(claim, {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAtMs: tokens.expiresInSeconds === null ? null : this.now() + tokens.expiresInSeconds * 1000,
        scopes: tokens.scopes,
      });
      if (!written) this.options.log?.info({ provider, account_id: account.account_id }, 'link changed during refresh; refreshed tokens dropped');
      return written ? 'refreshed' : 'skipped';
    } catch (error) {
      if (error instanceof OAuthGrantError) return this.needsReauth(account, 'refresh_refused', error.message);
      this.options.log?.warn({ provider, account_id: account.account_id, err: error }, 'token refresh failed; will retry');
      await store.releaseRefresh(provider, account.account_id);
      return 'retry';
    }
  }

  private async needsReauth(account: LinkedAccountView, reason: string, message: string): Promise<'needs_reauth'> {
    await this.options.store.markNeedsReauth(account.provider, account.account_id, reason);
    this.options.log?.warn({ provider: account.provider, account_id: account.account_id, reason }, 'link needs the publisher again');
    const { action, link } = LINK_AUDIT.needsReauth;
    await this.options.audit.record({
      actor: LINK_ACTORS.refresher,
      action,
      target: account.channel,
      reason,
      details: { link, provider: account.provider, account_id: account.account_id, message },
    });
    return 'needs_reauth';
  }
}
