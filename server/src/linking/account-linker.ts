import { formatChannelRef, parseChannelRef, type ChannelRef } from '@live-upload/schema';
import type { AuditLog } from '../audit/index.js';
import { linkedAccount, type ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import { BlueskySignInError, type BlueskyAppPasswords } from './bluesky-app-password.js';
import { LINK_ACTORS, LINK_AUDIT } from './link-audit.js';
import type { LinkedAccountStore } from './linked-account-store.js';
import { LINK_PROVIDERS, type LinkProvider, type LinkedAccountView, type OAuthProviderId } from './linked-account.js';
import { OAuthGrantError, type OAuthClient } from './oauth-client.js';
import type { OAuthStateStore } from './oauth-state-store.js';
import { codeChallengeS256, createCodeVerifier } from './pkce.js';
import { allowedReturnTo } from './return-to.js';

/** Why a callback did not link: the `link_error` a return page gets. */
export const LINK_ERRORS = {
  accessDenied: 'access_denied',
  providerError: 'provider_error',
  providerUnavailable: 'provider_unavailable',
  conflict: 'conflict',
  channelGone: 'channel_gone',
} as const;
export type LinkError = (typeof LINK_ERRORS)[keyof typeof LINK_ERRORS];

/** The link of one provider of a channel as the API shows it: `manual` when an admin typed the id (no credentials). */
export type ChannelLinkView = LinkedAccountView | { readonly provider: LinkProvider; readonly account_id: string; readonly status: 'manual' };

/** What a callback came to: where to send the browser (if anywhere) and what happened. */
export interface CallbackOutcome {
  readonly channel: string;
  readonly returnTo: URL | null;
  readonly result: { readonly linked: LinkedAccountView } | { readonly error: LinkError; readonly message: string };
}

export interface CallbackQuery {
  readonly code?: string | undefined;
  readonly state?: string | undefined;
  readonly error?: string | undefined;
}

export interface AccountLinkerDeps {
  readonly channels: ChannelRegistry;
  readonly store: LinkedAccountStore;
  readonly states: OAuthStateStore;
  /** The OAuth providers configured (a missing one answers 404). */
  readonly oauth: Partial<Record<OAuthProviderId, OAuthClient>>;
  /** Bluesky app-password sign-in; undefined turns Bluesky linking off. */
  readonly bluesky?: BlueskyAppPasswords | undefined;
  readonly audit: AuditLog;
  /** `{publicUrl}/oauth/{provider}/callback` is the redirect URI registered at each provider. */
  readonly publicUrl: string | (() => string);
  /** Exact origins `return_to` may point at. */
  readonly returnToOrigins: readonly string[];
  readonly log?: Logger | undefined;
  readonly now?: () => number;
}

const CODE_PATTERN = /^[\x21-\x7e]{1,1024}$/;

/**
 * Links provider accounts to channels once the publisher proved they own them: OAuth
 * authorization code with state + PKCE (Twitch, YouTube), an app password (Bluesky). Keeps the
 * credentials sealed in the store, the channel's links in the registry, and audits each change.
 */
export class AccountLinker {
  private readonly now: () => number;

  constructor(private readonly deps: AccountLinkerDeps) {
    this.now = deps.now ?? Date.now;
  }

  redirectUri(provider: OAuthProviderId): string {
    const publicUrl = typeof this.deps.publicUrl === 'function' ? this.deps.publicUrl() : this.deps.publicUrl;
    return `${publicUrl}/oauth/${provider}/callback`;
  }

  /** Starts an OAuth link for an existing channel: the URL to send the publisher to. */
  async startAuthorization(ref: ChannelRef, provider: OAuthProviderId, returnTo: string | undefined): Promise<{ authorize_url: string }> {
    const client = this.client(provider);
    let allowed: URL | undefined;
    if (returnTo !== undefined) {
      allowed = allowedReturnTo(returnTo, this.deps.returnToOrigins);
      if (!allowed) throw new AppError('invalid_body', 'return_to: must be an absolute URL on one of the allowed origins');
    }
    const channel = formatChannelRef(ref);
    if (!(await this.deps.channels.get(ref))) throw new AppError('not_found', `no channel ${channel}`);
    const verifier = createCodeVerifier();
    const state = await this.deps.states.create({ channel, provider, code_verifier: verifier, return_to: allowed?.toString() ?? null });
    return { authorize_url: client.authorizeUrl({ state, codeChallenge: codeChallengeS256(verifier), redirectUri: this.redirectUri(provider) }) };
  }

  /**
   * Finishes an OAuth link. A missing, forged, used or expired state is a 400 and links
   * nothing; past that, every outcome (including the provider's refusal) is a `CallbackOutcome`.
   */
  async completeAuthorization(provider: OAuthProviderId, query: CallbackQuery): Promise<CallbackOutcome> {
    const client = this.client(provider);
    const pending = query.state === undefined ? undefined : await this.deps.states.consume(query.state, provider);
    if (!pending) throw new AppError('bad_request', 'state is missing, unknown, already used or expired; start linking again');
    const channel = pending.channel;
    const returnTo = pending.return_to === null ? null : new URL(pending.return_to);
    const fail = (error: LinkError, message: string): CallbackOutcome => {
      this.deps.log?.warn({ provider, channel, link_error: error }, `link failed: ${message}`);
      return { channel, returnTo, result: { error, message } };
    };
    if (query.error !== undefined) {
      return query.error === 'access_denied' ? fail(LINK_ERRORS.accessDenied, 'the publisher declined') : fail(LINK_ERRORS.providerError, 'the provider answered with an error');
    }
    if (query.code === undefined || !CODE_PATTERN.test(query.code)) return fail(LINK_ERRORS.providerError, 'the callback carries no usable code');
    const ref = parseChannelRef(channel);
    if (!ref) return fail(LINK_ERRORS.channelGone, `no channel ${channel}`);

    let tokens;
    let identity;
    try {
      tokens = await client.exchangeCode(query.code, pending.code_verifier, this.redirectUri(provider));
      identity = await client.identify(tokens.accessToken);
    } catch (error) {
      if (error instanceof OAuthGrantError) return fail(LINK_ERRORS.providerError, error.message);
      this.deps.log?.warn({ provider, err: error }, 'provider unavailable during link');
      return fail(LINK_ERRORS.providerUnavailable, `${provider} could not be reached; try again`);
    }

    const previous = await this.deps.channels.get(ref);
    try {
      await this.deps.channels.linkAccount(
        ref,
        provider === 'twitch' ? { provider, user_id: identity.accountId, login: identity.displayName } : { provider, channel_id: identity.accountId },
      );
    } catch (error) {
      // The fresh grant is of no use to us: give it back.
      await this.revokeQuietly(client, tokens.refreshToken ?? tokens.accessToken);
      if (error instanceof AppError && error.code === 'conflict') return fail(LINK_ERRORS.conflict, `this ${provider} account is linked to another channel`);
      if (error instanceof AppError && error.code === 'not_found') return fail(LINK_ERRORS.channelGone, `no channel ${channel}`);
      throw error;
    }
    const linked = await this.deps.store.save({
      provider,
      accountId: identity.accountId,
      displayName: identity.displayName,
      channel,
      scopes: tokens.scopes,
      secrets: { access_token: tokens.accessToken, refresh_token: tokens.refreshToken },
      expiresAtMs: tokens.expiresInSeconds === null ? null : this.now() + tokens.expiresInSeconds * 1000,
    });
    const replaced = linkedAccount(previous?.providers, provider);
    if (replaced !== undefined && replaced !== identity.accountId) await this.forget(provider, replaced);
    await this.audit('linked', LINK_ACTORS.publisher, channel, provider, identity.accountId);
    return { channel, returnTo, result: { linked } };
  }

  /** Links a Bluesky account by app password (signed in against the configured service). */
  async linkBluesky(ref: ChannelRef, identifier: string, appPassword: string): Promise<LinkedAccountView> {
    const bluesky = this.deps.bluesky;
    if (!bluesky) throw new AppError('not_found', 'Bluesky linking is not configured');
    const channel = formatChannelRef(ref);
    const previous = await this.deps.channels.get(ref);
    if (!previous) throw new AppError('not_found', `no channel ${channel}`);
    let account;
    try {
      account = await bluesky.verify(identifier, appPassword);
    } catch (error) {
      if (error instanceof BlueskySignInError && error.kind === 'refused') throw new AppError('bad_request', `Bluesky sign-in failed: ${error.message}`);
      throw new AppError('not_ready', 'Bluesky could not be reached; try again', { cause: error });
    }
    await this.deps.channels.linkAccount(ref, { provider: 'bluesky', did: account.did });
    const linked = await this.deps.store.save({
      provider: 'bluesky',
      accountId: account.did,
      displayName: account.handle,
      channel,
      scopes: [],
      secrets: { app_password: appPassword },
      expiresAtMs: null,
    });
    const replaced = previous.providers.bluesky?.did;
    if (replaced !== undefined && replaced !== account.did) await this.forget('bluesky', replaced);
    await this.audit('linked', LINK_ACTORS.admin, channel, 'bluesky', account.did);
    return linked;
  }

  /** The links of a channel: status, account and expiry; never credentials. */
  async links(ref: ChannelRef): Promise<ChannelLinkView[]> {
    const config = await this.deps.channels.get(ref);
    if (!config) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
    const views: ChannelLinkView[] = [];
    for (const provider of LINK_PROVIDERS) {
      const accountId = linkedAccount(config.providers, provider);
      if (accountId === undefined) continue;
      const stored = await this.deps.store.get(provider, accountId);
      views.push(stored && stored.channel === config.channel ? stored : { provider, account_id: accountId, status: 'manual' });
    }
    return views;
  }

  /**
   * Unlinks a provider from a channel: revokes the grant at the provider (best effort: a
   * failure is logged and reported, the local unlink goes on), deletes the credentials, frees
   * the account, audits. 404 when the channel has no such link.
   */
  async unlink(ref: ChannelRef, provider: LinkProvider): Promise<{ revoked: boolean }> {
    const channel = formatChannelRef(ref);
    const config = await this.deps.channels.get(ref);
    const accountId = linkedAccount(config?.providers, provider);
    if (!config || accountId === undefined) throw new AppError('not_found', `${channel} has no ${provider} link`);
    const revoked = await this.forget(provider, accountId);
    await this.deps.channels.unlinkAccount(ref, provider);
    await this.audit('unlinked', LINK_ACTORS.admin, channel, provider, accountId, revoked ? null : 'provider revocation failed; unlinked locally');
    return { revoked };
  }

  /** Revokes (best effort) and deletes an account's stored credentials; true when the provider confirmed. */
  private async forget(provider: LinkProvider, accountId: string): Promise<boolean> {
    let revoked = false;
    const client = provider === 'bluesky' ? undefined : this.deps.oauth[provider];
    if (client) {
      try {
        const token = await this.deps.store.withSecrets(provider, accountId, (secrets) => secrets.refresh_token ?? secrets.access_token);
        if (token) revoked = await this.revokeQuietly(client, token);
      } catch (error) {
        this.deps.log?.warn({ provider, err: error }, 'stored credentials unreadable; not revoked at the provider');
      }
    }
    await this.deps.store.delete(provider, accountId);
    return revoked;
  }

  private async revokeQuietly(client: OAuthClient, token: string): Promise<boolean> {
    try {
      await client.revoke(token);
      return true;
    } catch (error) {
      this.deps.log?.warn({ provider: client.provider, err: error }, 'token revocation failed');
      return false;
    }
  }

  private client(provider: OAuthProviderId): OAuthClient {
    const client = this.deps.oauth[provider];
    if (!client) throw new AppError('not_found', `${provider} linking is not configured`);
    return client;
  }

  private async audit(kind: 'linked' | 'unlinked', actor: string, channel: string, provider: LinkProvider, accountId: string, reason: string | null = null): Promise<void> {
    const { action, link } = LINK_AUDIT[kind];
    await this.deps.audit.record({ actor, action, target: channel, reason, details: { link, provider, account_id: accountId } });
  }
}
