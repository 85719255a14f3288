import { z } from 'zod';
import { AuthorizationCodeClient, oauthTokens, tokenResponseFields } from './authorization-code-client.js';
import { OAuthGrantError, OAuthUnavailableError, type OAuthIdentity, type OAuthTokens } from './oauth-client.js';
import { grantRefused, providerReason, type ProviderResponse } from './provider-http.js';

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

const tokenSchema = z.object({ ...tokenResponseFields, scope: z.array(z.string()).optional() });

const validateSchema = z.object({
  client_id: z.string(),
  login: z.string().regex(/^[a-z0-9_]{1,25}$/i),
  user_id: z.string().regex(/^[0-9]{1,20}$/),
  scopes: z.array(z.string()).nullable().optional(),
});

export class TwitchOAuth extends AuthorizationCodeClient {
  readonly provider = 'twitch' as const;

  constructor(private readonly options: TwitchOAuthOptions) {
    super({
      authorizeUrl: new URL('/oauth2/authorize', options.authBaseUrl),
      tokenUrl: new URL('/oauth2/token', options.authBaseUrl),
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authorizeParams: { scope: '' },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async identify(accessToken: string): Promise<OAuthIdentity> {
    const response = await this.request(new URL('/oauth2/validate', this.options.authBaseUrl), { method: 'GET', headers: { Authorization: `OAuth ${accessToken}` } });
    if (response.status !== 200) throw grantRefused('twitch', response, 'the access token', providerReason(response.json, 'message'));
    const parsed = validateSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('twitch', 'Twitch /oauth2/validate answered without user_id/login');
    // A token minted for another app proves nothing to us.
    if (parsed.data.client_id !== this.options.clientId) throw new OAuthGrantError('twitch', 200, 'the Twitch token was issued to another client');
    return { accountId: parsed.data.user_id, displayName: parsed.data.login.toLowerCase() };
  }

  async revoke(token: string): Promise<void> {
    const response = await this.request(new URL('/oauth2/revoke', this.options.authBaseUrl), { method: 'POST', form: new URLSearchParams({ client_id: this.options.clientId, token }) });
    if (response.status !== 200) throw grantRefused('twitch', response, 'the revocation', providerReason(response.json, 'message'));
  }

  protected readTokens(response: ProviderResponse, what: string): OAuthTokens {
    // 400 is Twitch's answer to a bad code or refresh token; 401/403 mean our client credentials are wrong (an operator's problem).
    if (response.status === 400) throw grantRefused('twitch', response, what, providerReason(response.json, 'message'));
    if (response.status !== 200) throw new OAuthUnavailableError('twitch', `Twitch /oauth2/token answered ${response.status}: ${providerReason(response.json, 'message')}`);
    const parsed = tokenSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('twitch', 'Twitch /oauth2/token answered without access_token');
    return oauthTokens(parsed.data, parsed.data.scope ?? []);
  }
}
