export { TokenVault, TokenVaultError, parseKeyRing, type SealContext, type VaultKey } from './token-vault.js';
export { LinkedAccountStore, type SaveLinkedAccount } from './linked-account-store.js';
export {
  LINK_PROVIDERS,
  OAUTH_PROVIDERS,
  LINK_STATUSES,
  type LinkProvider,
  type OAuthProviderId,
  type LinkStatus,
  type LinkedAccountView,
  type LinkSecrets,
} from './linked-account.js';
export { OAuthStateStore, OAUTH_STATE_TTL_MS } from './oauth-state-store.js';
export { allowedReturnTo, parseReturnToOrigins } from './return-to.js';
export { OAuthGrantError, OAuthUnavailableError, type OAuthClient, type OAuthTokens, type OAuthIdentity } from './oauth-client.js';
export { TwitchOAuth, type TwitchOAuthOptions } from './twitch-oauth.js';
export { GoogleOAuth, YOUTUBE_READONLY_SCOPE, type GoogleOAuthOptions } from './google-oauth.js';
export { BlueskyAppPasswords, BlueskySignInError, blueskyLinkInputSchema, type BlueskyLinkInput } from './bluesky-app-password.js';
export { blueskyCredentialsLookup } from './bluesky-credentials-lookup.js';
export { AccountLinker, LINK_ERRORS, type AccountLinkerDeps, type CallbackOutcome, type ChannelLinkView, type LinkError } from './account-linker.js';
export { TokenRefresher, type TokenRefresherOptions, type RefreshSweep } from './token-refresher.js';
