import { z } from 'zod';
import { OAuthGrantError, OAuthUnavailableError, type AuthorizeRequest, type OAuthClient, type OAuthIdentity, type OAuthTokens } from './oauth-client.js';
import { grantRefused, providerReason, providerRequest } from './provider-http.js';

/**
 * Twitch user tokens by the authorization code grant
 * (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#authorization-code-grant-flow),
 * identity from `GET /oauth2/validate`, refresh with `grant_type=refresh_token`
 * (https://dev.twitch.tv/docs/authentication/refresh-tokens/), revocation at `POST /oauth2/revoke`.
 * No scopes: EventSub `stream.online/offline` and `channel.update` need none, so the link only
 * proves who the publisher is. Twitch ignores PKCE; we send the challenge anyway.
 */

export interface TwitchOAuthOptions {
  /** `https://id.twitch.tv` in production. */
  readonly authBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetch?: typeof fetch;
}

const tokenSchema = z.object({
  access_token: z.string().min(1).max(4096),
  refresh_token: z.string().min(1).max(4096).optional(),
  expires_in: z.number().int().positive().optional(),
  scope: z.array(z.string()).optional(),
});

const validateSchema = z.object({
  client_id: z.string(),
  login: z.string().regex(/^[a-z0-9_]{1,25}$/i),
  user_id: z.string().regex(/^[0-9]{1,20}$/),
  scopes: z.array(z.string()).nullable().optional(),
});

export class TwitchOAuth implements OAuthClient {
  readonly provider = 'twitch' as const;
  private readonly fetch: typeof fetch | undefined;

  constructor(private readonly options: TwitchOAuthOptions) {
    this.fetch = options.fetch;
  }

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL('/oauth2/authorize', this.options.authBaseUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.options.clientId,
      redirect_uri: request.redirectUri,
      scope: '',
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

  async identify(accessToken: string): Promise<OAuthIdentity> {
    const response = await providerRequest('twitch', new URL('/oauth2/validate', this.options.authBaseUrl), {
      method: 'GET',
      headers: { Authorization: `OAuth ${accessToken}` },
      ...(this.fetch ? { fetch: this.fetch } : {}),
    });
    if (response.status !== 200) throw grantRefused('twitch', response, 'the access token', providerReason(response.json, 'message'));
    const parsed = validateSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('twitch', 'Twitch /oauth2/validate answered without user_id/login');
    // A token minted for another app proves nothing to us.
    if (parsed.data.client_id !== this.options.clientId) throw new OAuthGrantError('twitch', 200, 'the Twitch token was issued to another client');
    return { accountId: parsed.data.user_id, displayName: parsed.data.login.toLowerCase() };
  }

  async revoke(token: string): Promise<void> {
    const response = await providerRequest('twitch', new URL('/oauth2/revoke', this.options.authBaseUrl), {
      method: 'POST',
      form: new URLSearchParams({ client_id: this.options.clientId, token }),
      ...(this.fetch ? { fetch: this.fetch } : {}),
    });
    if (response.status !== 200) throw grantRefused('twitch', response, 'the revocation', providerReason(response.json, 'message'));
  }

  private async token(params: Record<string, string>, what: string): Promise<OAuthTokens> {
    const response = await providerRequest('twitch', new URL('/oauth2/token', this.options.authBaseUrl), {
      method: 'POST',
      form: new URLSearchParams({ client_id: this.options.clientId, client_secret: this.options.clientSecret, ...params }),
      ...(this.fetch ? { fetch: this.fetch } : {}),
    });
    // 400 is Twitch's answer to a bad code or refresh token; 401/403 mean our client credentials are wrong (an operator's problem).
    if (response.status === 400) throw grantRefused('twitch', response, what, providerReason(response.json, 'message'));
    if (response.status !== 200) throw new OAuthUnavailableError('twitch', `Twitch /oauth2/token answered ${response.status}: ${providerReason(response.json, 'message')}`);
    const parsed = tokenSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('twitch', 'Twitch /oauth2/token answered without access_token');
    return {
      accessToken: parsed.data.access_token,
      refreshToken: parsed.data.refresh_token ?? null,
      expiresInSeconds: parsed.data.expires_in ?? null,
      scopes: parsed.data.scope ?? [],
    };
  }
}
