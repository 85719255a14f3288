import type { OAuthProviderId } from './linked-account.js';

/** Tokens from a code exchange or a refresh. */
export interface OAuthTokens {
  readonly accessToken: string;
  /** Null when the provider sent none (a Google refresh keeps the old one). */
  readonly refreshToken: string | null;
  /** Seconds until the access token expires; null when the provider did not say. */
  readonly expiresInSeconds: number | null;
  readonly scopes: readonly string[];
}

/** Who the token belongs to. */
export interface OAuthIdentity {
  /** Twitch user id, YouTube channel id. */
  readonly accountId: string;
  /** Twitch login, YouTube channel title. */
  readonly displayName: string;
}

export interface AuthorizeRequest {
  readonly state: string;
  readonly codeChallenge: string;
  readonly redirectUri: string;
}

/** One provider's authorization-code flow. */
export interface OAuthClient {
  readonly provider: OAuthProviderId;
  /** Where to send the publisher's browser. */
  authorizeUrl(request: AuthorizeRequest): string;
  exchangeCode(code: string, codeVerifier: string, redirectUri: string): Promise<OAuthTokens>;
  identify(accessToken: string): Promise<OAuthIdentity>;
  refresh(refreshToken: string): Promise<OAuthTokens>;
  /** Revokes a token at the provider (access or refresh). */
  revoke(token: string): Promise<void>;
}

/**
 * The provider refused the grant for good (`invalid_grant`, an invalid refresh token or code,
 * a 400/401 from the token endpoint): the publisher must link again. Never carries a token.
 */
export class OAuthGrantError extends Error {
  constructor(
    readonly provider: OAuthProviderId,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthGrantError';
  }
}

/** The provider could not be reached or answered 5xx/garbage: try again later. */
export class OAuthUnavailableError extends Error {
  constructor(
    readonly provider: OAuthProviderId,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OAuthUnavailableError';
  }
}
