import { z } from 'zod';
import type { OAuthProviderId } from './linked-account.js';
import type { AuthorizeRequest, OAuthClient, OAuthIdentity, OAuthTokens } from './oauth-client.js';
import { providerRequest, type ProviderResponse } from './provider-http.js';

/** Where a provider's authorization-code grant is, and who we are to it. */
export interface AuthorizationCodeEndpoints {
  /** Where the publisher's browser is sent. */
  readonly authorizeUrl: URL;
  /** Where codes and refresh tokens are exchanged for tokens. */
  readonly tokenUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The provider's own authorization parameters (scope, prompts), between `redirect_uri` and `state`. */
  readonly authorizeParams: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
}

/** The fields every token endpoint answers (RFC 6749 §5.1); a provider adds its `scope` shape. */
export const tokenResponseFields = {
  access_token: z.string().min(1).max(4096),
  refresh_token: z.string().min(1).max(4096).optional(),
  expires_in: z.number().int().positive().optional(),
};

/** Tokens from a token endpoint's parsed answer. */
export function oauthTokens(answer: { access_token: string; refresh_token?: string | undefined; expires_in?: number | undefined }, scopes: readonly string[]): OAuthTokens {
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token ?? null,
    expiresInSeconds: answer.expires_in ?? null,
    scopes,
  };
}

/**
 * What the OAuth 2.0 authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636, S256) is
 * for every provider: the authorization URL, the code exchange and the refresh, both POSTed
 * with the client's credentials in the form. A provider's client says how its token endpoint
 * answers (`readTokens`: its error shapes and scope format), who a token belongs to and how a
 * token is revoked.
 */
export abstract class AuthorizationCodeClient implements OAuthClient {
  abstract readonly provider: OAuthProviderId;

  protected constructor(protected readonly endpoints: AuthorizationCodeEndpoints) {}

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(this.endpoints.authorizeUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.endpoints.clientId,
      redirect_uri: request.redirectUri,
      ...this.endpoints.authorizeParams,
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  }

  async exchangeCode(code: string, codeVerifier: string, redirectUri: string): Promise<OAuthTokens> {
    return this.token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: redirectUri }, 'the authorization code');
  }

  async refresh(refreshToken: string): Promise<OAuthTokens> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'the refresh token');
  }

  abstract identify(accessToken: string): Promise<OAuthIdentity>;

  abstract revoke(token: string): Promise<void>;

  /**
   * The token endpoint's answer as tokens. Throws `OAuthGrantError` when the provider refused
   * `what` (the grant is gone), `OAuthUnavailableError` for anything else.
   */
  protected abstract readTokens(response: ProviderResponse, what: string): OAuthTokens;

  /** One request to the provider, through this client's fetch. */
  protected request(url: URL, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; form?: URLSearchParams }): Promise<ProviderResponse> {
    return providerRequest(this.provider, url, { ...init, ...(this.endpoints.fetch ? { fetch: this.endpoints.fetch } : {}) });
  }

  private async token(params: Record<string, string>, what: string): Promise<OAuthTokens> {
    const { clientId, clientSecret, tokenUrl } = this.endpoints;
    const response = await this.request(tokenUrl, { method: 'POST', form: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, ...params }) });
    return this.readTokens(response, what);
  }
}
