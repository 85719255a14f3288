/**
 * A fake of Google's OAuth 2.0 endpoints for web server apps, written from
 * https://developers.google.com/identity/protocols/oauth2/web-server: the authorization
 * endpoint `GET /o/oauth2/v2/auth` (answers at once with a 302 back to the redirect_uri, as if
 * the configured Google user consented; or `error=access_denied` when told to deny), the token
 * endpoint `POST /token` (authorization_code with PKCE, refresh_token) with Google's JSON
 * answers and error shapes (`{"error":"invalid_grant","error_description":…}`), and
 * `POST /revoke`. One server plays both accounts.google.com and oauth2.googleapis.com.
 *
 * The user's YouTube channel is what `tokenInfo` reports for an access token; the YouTube Data
 * API fake asks it (`resolveUserToken`) to answer `channels.list?mine=true`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGoogleUser {
  /** The YouTube channel of the Google account. */
  readonly channelId: string;
}

export interface FakeGoogleOAuthOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly user?: FakeGoogleUser;
  /** `expires_in` of access tokens, seconds (Google: 3599). */
  readonly tokenLifetimeSeconds?: number;
}

export interface FakeGoogleOAuth {
  /** Base URL for both the authorization (`/o/oauth2/v2/auth`) and token (`/token`, `/revoke`) hosts. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  authorizeAs(user: FakeGoogleUser): void;
  denyAuthorization(deny: boolean): void;
  /** Access tokens expire now; refresh tokens still work. */
  expireAccessTokens(): void;
  /** Refresh tokens become invalid (the user removed the app's access). */
  invalidateRefreshTokens(): void;
  /** The next `POST /token` answers exactly this. */
  respondNextToken(status: number, body: unknown): void;
  /** While set, `POST /revoke` answers this status and revokes nothing. */
  failRevoke(status: number | undefined): void;
  /** The user and scopes of a valid access token; what Google APIs accept as Bearer. */
  tokenInfo(accessToken: string): { readonly channelId: string; readonly scopes: readonly string[] } | undefined;
  readonly revokedTokens: readonly string[];
  /** Every token endpoint call: grant type and status. */
  readonly tokenCalls: ReadonlyArray<{ readonly grantType: string; readonly status: number }>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function startFakeGoogleOAuth(options: FakeGoogleOAuthOptions = {}): Promise<FakeGoogleOAuth> {
  const clientId = options.clientId ?? '1234567890-fake.apps.googleusercontent.com';
  const clientSecret = options.clientSecret ?? 'GOCSPX-fakeclientsecret012345';
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  let user: FakeGoogleUser = options.user ?? { channelId: 'UC_x5XG1OV2P6uZZ5FSM9Ttw' };
  let denying = false;
  let revokeFailure: number | undefined;
  const nextToken: Array<{ status: number; body: unknown }> = [];
  const codes = new Map<string, { redirectUri: string; user: FakeGoogleUser; scopes: string[]; challenge: string | undefined; offline: boolean; expiresAtMs: number }>();
  const accessTokens = new Map<string, { user: FakeGoogleUser; scopes: string[]; expiresAtMs: number; grant: string }>();
  const refreshTokens = new Map<string, { user: FakeGoogleUser; scopes: string[]; grant: string }>();
  const revokedTokens: string[] = [];
  const tokenCalls: Array<{ grantType: string; status: number }> = [];

  const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, { ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}), 'Cache-Control': 'no-store', ...headers });
    response.end(text);
  };
  const oauthError = (response: ServerResponse, status: number, error: string, description: string) => send(response, status, { error, error_description: description });

  const issue = (u: FakeGoogleUser, scopes: string[], grant: string) => {
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, { user: u, scopes, expiresAtMs: Date.now() + lifetimeSeconds * 1000, grant });
    return accessToken;
  };

  const authorize = (response: ServerResponse, url: URL) => {
    const params = url.searchParams;
    if (params.get('client_id') !== clientId) return oauthError(response, 401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri || !/^https?:\/\//.test(redirectUri) || !URL.canParse(redirectUri)) return oauthError(response, 400, 'redirect_uri_mismatch', 'Bad Request');
    if (params.get('response_type') !== 'code') return oauthError(response, 400, 'unsupported_response_type', 'Bad Request');
    const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return oauthError(response, 400, 'invalid_request', 'Missing required parameter: scope');
    const method = params.get('code_challenge_method');
    const challenge = params.get('code_challenge') ?? undefined;
    if (challenge !== undefined && method !== 'S256') return oauthError(response, 400, 'invalid_request', 'Invalid code_challenge_method');
    const back = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (denying) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = `4/${randomBytes(24).toString('base64url')}`;
      codes.set(code, { redirectUri, user, scopes, challenge, offline: params.get('access_type') === 'offline', expiresAtMs: Date.now() + 10 * 60 * 1000 });
      back.searchParams.set('code', code);
      back.searchParams.set('scope', scopes.join(' '));
    }
    response.writeHead(302, { Location: back.toString() });
    response.end();
  };

  const token = (response: ServerResponse, params: URLSearchParams) => {
    const grantType = params.get('grant_type') ?? '';
    const reply = (status: number, body: unknown) => {
      tokenCalls.push({ grantType, status });
      send(response, status, body);
    };
    const error = (status: number, code: string, description: string) => reply(status, { error: code, error_description: description });
    const override = nextToken.shift();
    if (override) return reply(override.status, override.body);
    if (params.get('client_id') !== clientId || !constantTimeEqual(params.get('client_secret') ?? '', clientSecret)) return error(401, 'invalid_client', 'Unauthorized');
    if (grantType === 'authorization_code') {
      const code = params.get('code') ?? '';
      const grant = codes.get(code);
      codes.delete(code);
      if (!grant || grant.expiresAtMs < Date.now()) return error(400, 'invalid_grant', 'Malformed auth code.');
      if (params.get('redirect_uri') !== grant.redirectUri) return error(400, 'redirect_uri_mismatch', 'Bad Request');
      if (grant.challenge !== undefined) {
        const verifier = params.get('code_verifier');
        if (!verifier) return error(400, 'invalid_request', 'code_verifier or verifier is not needed.');
        if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return error(400, 'invalid_grant', 'Invalid code verifier.');
      }
      const id = randomBytes(8).toString('hex');
      const body: Record<string, unknown> = { access_token: issue(grant.user, grant.scopes, id), expires_in: lifetimeSeconds, scope: grant.scopes.join(' '), token_type: 'Bearer' };
      if (grant.offline) {
        const refreshToken = `1//${randomBytes(30).toString('base64url')}`;
        refreshTokens.set(refreshToken, { user: grant.user, scopes: grant.scopes, grant: id });
        body['refresh_token'] = refreshToken;
      }
      return reply(200, body);
    }
    if (grantType === 'refresh_token') {
      const grant = refreshTokens.get(params.get('refresh_token') ?? '');
      if (!grant) return error(400, 'invalid_grant', 'Token has been expired or revoked.');
      // Google keeps the refresh token: the answer carries a new access token only.
      return reply(200, { access_token: issue(grant.user, grant.scopes, grant.grant), expires_in: lifetimeSeconds, scope: grant.scopes.join(' '), token_type: 'Bearer' });
    }
    return error(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType.slice(0, 40)}`);
  };

  const revoke = (response: ServerResponse, params: URLSearchParams) => {
    if (revokeFailure !== undefined) return send(response, revokeFailure, { error: 'backend_error', error_description: 'Revocation failed' });
    const presented = params.get('token') ?? '';
    const grant = accessTokens.get(presented)?.grant ?? refreshTokens.get(presented)?.grant;
    if (grant === undefined) return oauthError(response, 400, 'invalid_token', 'Token expired or revoked');
    for (const [value, entry] of accessTokens) if (entry.grant === grant) accessTokens.delete(value);
    for (const [value, entry] of refreshTokens) if (entry.grant === grant) refreshTokens.delete(value);
    revokedTokens.push(presented);
    return send(response, 200, {});
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake-google');
    const body = await readBody(request);
    if (body === undefined) return oauthError(response, 413, 'invalid_request', 'body too large');
    if (url.pathname === '/o/oauth2/v2/auth' && request.method === 'GET') return authorize(response, url);
    if (request.method === 'POST' && (url.pathname === '/token' || url.pathname === '/revoke')) {
      // Google takes form bodies (revoke also takes the token in the query).
      const params = new URLSearchParams(url.search);
      for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.set(key, value);
      return url.pathname === '/token' ? token(response, params) : revoke(response, params);
    }
    return send(response, 404, { error: 'not_found', error_description: 'Not Found' });
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, { error: 'internal_failure', error_description: 'Internal error' });
      else response.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientId,
    clientSecret,
    authorizeAs: (next) => {
      user = next;
    },
    denyAuthorization: (deny) => {
      denying = deny;
    },
    expireAccessTokens: () => {
      for (const entry of accessTokens.values()) entry.expiresAtMs = Date.now() - 1;
    },
    invalidateRefreshTokens: () => refreshTokens.clear(),
    respondNextToken: (status, body) => {
      nextToken.push({ status, body });
    },
    failRevoke: (status) => {
      revokeFailure = status;
    },
    tokenInfo: (accessToken) => {
      const found = accessTokens.get(accessToken);
      return found && found.expiresAtMs > Date.now() ? { channelId: found.user.channelId, scopes: found.scopes } : undefined;
    },
    revokedTokens,
    tokenCalls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
