import { YOUTUBE_CHANNEL_ID_PATTERN } from '@live-upload/schema';
import { z } from 'zod';
import { AuthorizationCodeClient, oauthTokens, tokenResponseFields } from './authorization-code-client.js';
import { OAuthGrantError, OAuthUnavailableError, type OAuthIdentity, type OAuthTokens } from './oauth-client.js';
import { grantRefused, providerReason, type ProviderResponse } from './provider-http.js';

/**
 * Google OAuth 2.0 for web server apps (https://developers.google.com/identity/protocols/oauth2/web-server)
 * with PKCE, YouTube read-only, offline access (a refresh token) and a consent prompt (so a
 * relink gets a refresh token again). Identity: the YouTube channel of the token,
 * `GET /youtube/v3/channels?part=id,snippet&mine=true` with the Bearer token.
 */

export const YOUTUBE_READONLY_SCOPE = 'https://www.googleapis.com/auth/youtube.readonly';

export interface GoogleOAuthOptions {
  /** `https://accounts.google.com` in production (authorization endpoint `/o/oauth2/v2/auth`). */
  readonly authBaseUrl: string;
  /** `https://oauth2.googleapis.com` in production (`/token`, `/revoke`). */
  readonly tokenBaseUrl: string;
  /** `https://www.googleapis.com` in production (`/youtube/v3/...`). */
  readonly dataApiBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetch?: typeof fetch;
}

const tokenSchema = z.object({ ...tokenResponseFields, scope: z.string().optional() });

const channelsSchema = z.object({
  items: z
    .array(z.object({ id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN), snippet: z.object({ title: z.string().max(200) }).optional() }))
    .optional(),
});

export class GoogleOAuth extends AuthorizationCodeClient {
  readonly provider = 'youtube' as const;

  constructor(private readonly options: GoogleOAuthOptions) {
    super({
      authorizeUrl: new URL('/o/oauth2/v2/auth', options.authBaseUrl),
      tokenUrl: new URL('/token', options.tokenBaseUrl),
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authorizeParams: { scope: YOUTUBE_READONLY_SCOPE, access_type: 'offline', prompt: 'consent', include_granted_scopes: 'false' },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async identify(accessToken: string): Promise<OAuthIdentity> {
    const url = new URL('/youtube/v3/channels', this.options.dataApiBaseUrl);
    url.search = new URLSearchParams({ part: 'id,snippet', mine: 'true' }).toString();
    const response = await this.request(url, { method: 'GET', headers: { Authorization: `Bearer ${accessToken}` } });
    if (response.status === 401 || response.status === 403) {
      const error = (response.json as { error?: unknown } | undefined)?.error;
      throw grantRefused('youtube', response, 'the access token', providerReason(error, 'message'));
    }
    if (response.status !== 200) throw new OAuthUnavailableError('youtube', `YouTube channels.list answered ${response.status}`);
    const parsed = channelsSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('youtube', 'YouTube channels.list answered an unreadable body');
    const channel = parsed.data.items?.[0];
    if (!channel) throw new OAuthGrantError('youtube', 200, 'the Google account has no YouTube channel');
    return { accountId: channel.id, displayName: channel.snippet?.title ?? channel.id };
  }

  async revoke(token: string): Promise<void> {
    const response = await this.request(new URL('/revoke', this.options.tokenBaseUrl), { method: 'POST', form: new URLSearchParams({ token }) });
    if (response.status !== 200) throw grantRefused('youtube', response, 'the revocation', providerReason(response.json, 'error_description', 'error'));
  }

  protected readTokens(response: ProviderResponse, what: string): OAuthTokens {
    if (response.status !== 200) {
      const error = providerReason(response.json, 'error');
      const reason = `${error}: ${providerReason(response.json, 'error_description')}`;
      // invalid_grant: the code or refresh token is bad, expired or revoked. Anything else
      // (invalid_client, unauthorized_client) is our configuration, not the publisher's grant.
      if (error === 'invalid_grant') throw grantRefused('youtube', response, what, reason);
      throw new OAuthUnavailableError('youtube', `Google /token answered ${response.status} (${reason})`);
    }
    const parsed = tokenSchema.safeParse(response.json);
    if (!parsed.success) throw new OAuthUnavailableError('youtube', 'Google /token answered without access_token');
    return oauthTokens(parsed.data, parsed.data.scope ? parsed.data.scope.split(' ').filter(Boolean) : []);
  }
}
