/**
 * A fake of Twitch's token endpoint and Helix EventSub subscription API, written from Twitch's
 * documentation (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/,
 * https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription, #get-eventsub-subscriptions,
 * #delete-eventsub-subscription, https://dev.twitch.tv/docs/eventsub/handling-webhook-events/).
 * A real HTTP server on a free port; production code reaches it through its base-URL config.
 *
 * Like Twitch, creating a webhook subscription answers 202 with status
 * `webhook_callback_verification_pending` and then POSTs a signed
 * `webhook_callback_verification` challenge to the callback: the subscription becomes `enabled`
 * only if the callback answers 2xx with exactly the challenge, else
 * `webhook_callback_verification_failed`. Signing uses the EventSub sender fake's HMAC and header
 * table, not our production code.
 *
 * The id.twitch.tv user-token part (authorization code grant, validate, refresh, revoke) acts for
 * one configurable test user: `GET /oauth2/authorize` answers at once with a 302 back to the
 * redirect_uri carrying `code` and `state` (or `error=access_denied` when told to deny). Codes
 * are one use, expire, and are bound to the client id, redirect_uri and (when a PKCE challenge
 * was sent; Twitch itself ignores PKCE) the code verifier. Access tokens expire; refresh tokens
 * rotate; a bad refresh token is 400 `{"status":400,"message":"Invalid refresh token"}`.
 *
 * `GET /helix/videos` (https://dev.twitch.tv/docs/api/reference/#get-videos) lists the videos a
 * test added (`addVideo`): exactly one of `id`, `user_id`, `game_id`; `type` (all, archive,
 * highlight, upload) and `first` (1-100, default 20) with `user_id`; newest first; a
 * `pagination.cursor` for `after` while more remain. Same app-token and `Client-Id` checks,
 * rate limits and `respondNext` overrides as the EventSub endpoints.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TWITCH_EVENTSUB_HEADERS, TWITCH_MESSAGE_TYPES, twitchSignature, twitchTimestamp, type TwitchMessageType, type TwitchRevocationStatus } from './eventsub.js';

/** Subscription types the fake accepts, with their versions. */
const KNOWN_TYPES: Readonly<Record<string, readonly string[]>> = {
  'stream.online': ['1'],
  'stream.offline': ['1'],
  'channel.update': ['1', '2'],
  'channel.follow': ['2'],
};

export interface FakeSubscription {
  readonly id: string;
  status: string;
  readonly type: string;
  readonly version: string;
  readonly cost: number;
  readonly condition: { readonly broadcaster_user_id: string };
  readonly transport: { readonly method: 'webhook'; readonly callback: string };
  readonly created_at: string;
  /** Never listed by Helix; kept to sign deliveries. */
  readonly secret: string;
}

/** A video as Helix Get Videos lists it (every documented field). */
export interface FakeVideo {
  readonly id: string;
  readonly stream_id: string | null;
  readonly user_id: string;
  readonly user_login: string;
  readonly user_name: string;
  readonly title: string;
  readonly description: string;
  readonly created_at: string;
  readonly published_at: string;
  readonly url: string;
  readonly thumbnail_url: string;
  readonly viewable: 'public';
  readonly view_count: number;
  readonly language: string;
  readonly type: 'archive' | 'highlight' | 'upload';
  readonly duration: string;
  readonly muted_segments: null | { readonly duration: number; readonly offset: number }[];
}

export interface HelixRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** The Twitch account a publisher signs in with at the fake's authorization endpoint. */
export interface FakeTwitchUser {
  readonly user_id: string;
  readonly login: string;
}

export interface FakeHelixOptions {
  /** Who `GET /oauth2/authorize` signs in as (default user 31, `acme`). */
  readonly oauthUser?: FakeTwitchUser;
  /** `expires_in` of user access tokens, seconds (default 4 h, as Twitch). */
  readonly userTokenLifetimeSeconds?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Items per page of `GET /helix/eventsub/subscriptions` (Twitch: up to 100). Small so tests page. */
  readonly pageSize?: number;
  /** `expires_in` of issued tokens, seconds. */
  readonly tokenLifetimeSeconds?: number;
  readonly maxTotalCost?: number;
  /** How long the fake waits for a callback to answer its challenge. */
  readonly verificationTimeoutMs?: number;
}

export interface FakeHelix {
  /** Base URL for both `TWITCH_AUTH_BASE_URL` and `TWITCH_API_BASE_URL`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every subscription in creation order (the live objects; do not mutate in tests). */
  subscriptions(): readonly FakeSubscription[];
  /**
   * Adds a video to Get Videos (listed newest `created_at` first). Fields not given are filled
   * like Twitch's example; an archive's `stream_id` should be given.
   */
  addVideo(video: Partial<FakeVideo> & { readonly user_id: string }): FakeVideo;
  /** Every request answered, in order. */
  readonly requests: readonly HelixRequestRecord[];
  /** How many access tokens were issued. */
  tokensIssued(): number;
  /** Resolves once every challenge sent so far has been answered (or has failed). */
  verificationsSettled(): Promise<void>;
  /** Every issued token becomes invalid: Helix answers 401 until a new one is fetched. */
  expireTokens(): void;
  /** The next `count` Helix requests get 429 with `Ratelimit-Reset` `resetInMs` from now. */
  rateLimitNext(count: number, resetInMs: number): void;
  /** The next Helix request (of `method`, when given) is answered with exactly this status and raw body. */
  respondNext(status: number, body: string, options?: { method?: 'GET' | 'POST' | 'DELETE'; contentType?: string }): void;
  /** New subscriptions fail verification whatever the callback answers. */
  failVerification(fail: boolean): void;
  /** Who the next authorizations sign in as. */
  authorizeAs(user: FakeTwitchUser): void;
  /** While true, the user presses "Cancel": the authorize redirect carries `error=access_denied`. */
  denyAuthorization(deny: boolean): void;
  /** Every user access token expires now (validate answers 401; refresh still works). */
  expireUserTokens(): void;
  /** Every refresh token becomes invalid (as when the user disconnects the app). */
  invalidateRefreshTokens(): void;
  /** While set, `POST /oauth2/revoke` answers this status (e.g. 500) and revokes nothing. */
  failRevoke(status: number | undefined): void;
  /** User access and refresh tokens currently valid. */
  userTokens(): { readonly access: readonly string[]; readonly refresh: readonly string[] };
  /** Tokens revoked through `POST /oauth2/revoke`, in order. */
  readonly revokedTokens: readonly string[];
  /** Sets a status as Twitch does when it gives up on a subscription, without telling anyone. */
  setStatus(id: string, status: string): void;
  /**
   * Revokes like Twitch: sets the status and POSTs a signed `revocation` message to the
   * callback. Resolves with the callback's HTTP status.
   */
  revoke(id: string, status: TwitchRevocationStatus): Promise<number>;
  close(): Promise<void>;
}

interface ReplyOverride {
  readonly method: string | undefined;
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

const SUBSCRIPTIONS_PATH = '/helix/eventsub/subscriptions';
const VIDEOS_PATH = '/helix/videos';
const VIDEO_TYPES = ['all', 'archive', 'highlight', 'upload'];
const MAX_BODY_BYTES = 64 * 1024;
const TOTAL_LIMIT = 800;

export async function startFakeHelix(options: FakeHelixOptions = {}): Promise<FakeHelix> {
  const clientId = options.clientId ?? 'fakeclientid0123456789abcdef';
  const clientSecret = options.clientSecret ?? 'fakeclientsecret0123456789abcdef';
  const pageSize = options.pageSize ?? 2;
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 5_000_000;
  const maxTotalCost = options.maxTotalCost ?? 10_000;
  const verificationTimeoutMs = options.verificationTimeoutMs ?? 5_000;
  const userTokenLifetimeSeconds = options.userTokenLifetimeSeconds ?? 4 * 3600;

  /** The user-token side of id.twitch.tv. */
  let oauthUser: FakeTwitchUser = options.oauthUser ?? { user_id: '31', login: 'acme' };
  let denying = false;
  let revokeFailure: number | undefined;
  const codes = new Map<string, { redirectUri: string; user: FakeTwitchUser; scopes: string[]; challenge: string | undefined; expiresAtMs: number }>();
  const userAccessTokens = new Map<string, { user: FakeTwitchUser; scopes: string[]; expiresAtMs: number; grant: string }>();
  const userRefreshTokens = new Map<string, { user: FakeTwitchUser; scopes: string[]; grant: string }>();
  const revokedTokens: string[] = [];

  const subscriptions: FakeSubscription[] = [];
  const videos: FakeVideo[] = [];
  const validTokens = new Set<string>();
  const requests: HelixRequestRecord[] = [];
  const inFlight = new Set<Promise<void>>();
  let issued = 0;
  let rateLimited: { remaining: number; resetAtMs: number } | undefined;
  const overrides: ReplyOverride[] = [];
  let forceVerificationFailure = false;
  let rateLimitRemaining = TOTAL_LIMIT;

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, { error: 'Internal Server Error', status: 500, message: String(error) });
      else response.destroy();
    });
  });

  const pending = new WeakMap<ServerResponse, { method: string; path: string }>();
  /** The one writer: records the request before the answer leaves. */
  const write = (response: ServerResponse, status: number, headers: Record<string, string>, text: string) => {
    const request = pending.get(response);
    if (request) requests.push({ ...request, status });
    response.writeHead(status, headers);
    response.end(text);
  };
  const reply = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    write(response, status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...headers }, text);
  };
  const helixError = (response: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}) =>
    reply(response, status, { error, status, message }, headers);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake-helix');
    pending.set(response, { method: request.method ?? '', path: url.pathname });
    const body = await readBody(request);
    if (body === undefined) return helixError(response, 413, 'Payload Too Large', 'body too large');

    if (url.pathname === '/oauth2/token') return token(request, response, url, body);
    if (url.pathname === '/oauth2/authorize') return authorize(request, response, url);
    if (url.pathname === '/oauth2/validate') return validate(request, response);
    if (url.pathname === '/oauth2/revoke') return revokeToken(request, response, url, body);
    if (url.pathname !== SUBSCRIPTIONS_PATH && url.pathname !== VIDEOS_PATH) return helixError(response, 404, 'Not Found', 'no such endpoint');

    const overrideAt = overrides.findIndex((candidate) => candidate.method === undefined || candidate.method === request.method);
    const override = overrideAt < 0 ? undefined : overrides.splice(overrideAt, 1)[0];
    if (override) {
      return write(response, override.status, { 'Content-Type': override.contentType }, override.body);
    }
    const nowSeconds = Math.ceil(Date.now() / 1000);
    if (rateLimited && rateLimited.remaining > 0) {
      rateLimited.remaining--;
      return helixError(response, 429, 'Too Many Requests', '', {
        'Ratelimit-Limit': String(TOTAL_LIMIT),
        'Ratelimit-Remaining': '0',
        'Ratelimit-Reset': String(Math.ceil(rateLimited.resetAtMs / 1000)),
      });
    }
    rateLimitRemaining = Math.max(0, rateLimitRemaining - 1);
    const limitHeaders = { 'Ratelimit-Limit': String(TOTAL_LIMIT), 'Ratelimit-Remaining': String(rateLimitRemaining), 'Ratelimit-Reset': String(nowSeconds + 60) };

    const authorization = request.headers['authorization'];
    const bearer = typeof authorization === 'string' && /^Bearer [^\s]+$/.test(authorization) ? authorization.slice(7) : undefined;
    if (bearer === undefined || !validTokens.has(bearer)) return helixError(response, 401, 'Unauthorized', 'Invalid OAuth token', limitHeaders);
    if (request.headers['client-id'] !== clientId) return helixError(response, 401, 'Unauthorized', 'Client ID and OAuth token do not match', limitHeaders);

    if (url.pathname === VIDEOS_PATH) {
      return request.method === 'GET' ? listVideos(response, url, limitHeaders) : helixError(response, 405, 'Method Not Allowed', 'method not allowed', limitHeaders);
    }
    switch (request.method) {
      case 'POST':
        return create(response, body, limitHeaders);
      case 'GET':
        return list(response, url, limitHeaders);
      case 'DELETE':
        return remove(response, url, limitHeaders);
      default:
        return helixError(response, 405, 'Method Not Allowed', 'method not allowed', limitHeaders);
    }
  };

  const token = (request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer) => {
    if (request.method !== 'POST') return reply(response, 404, { status: 404, message: 'Not Found' });
    // Twitch reads the parameters from the form body or the query string.
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.set(key, value);
    if (params.get('client_id') !== clientId) return reply(response, 400, { status: 400, message: 'invalid client' });
    if (!constantTimeEqual(params.get('client_secret') ?? '', clientSecret)) return reply(response, 403, { status: 403, message: 'invalid client secret' });
    if (params.get('grant_type') === 'authorization_code') return exchangeCode(response, params);
    if (params.get('grant_type') === 'refresh_token') return refreshUserToken(response, params);
    if (params.get('grant_type') !== 'client_credentials') return reply(response, 400, { status: 400, message: 'unsupported grant type' });
    const accessToken = randomBytes(15).toString('hex');
    validTokens.add(accessToken);
    issued++;
    return reply(response, 200, { access_token: accessToken, expires_in: lifetimeSeconds, token_type: 'bearer' });
  };

  /** Issues a user access token and a refresh token for one grant. */
  const issueUserTokens = (response: ServerResponse, user: FakeTwitchUser, scopes: string[], grant: string) => {
    const accessToken = randomBytes(15).toString('hex');
    const refreshToken = randomBytes(25).toString('hex');
    userAccessTokens.set(accessToken, { user, scopes, expiresAtMs: Date.now() + userTokenLifetimeSeconds * 1000, grant });
    userRefreshTokens.set(refreshToken, { user, scopes, grant });
    return reply(response, 200, { access_token: accessToken, expires_in: userTokenLifetimeSeconds, refresh_token: refreshToken, scope: scopes, token_type: 'bearer' });
  };

  const authorize = (request: IncomingMessage, response: ServerResponse, url: URL) => {
    if (request.method !== 'GET') return reply(response, 404, { status: 404, message: 'Not Found' });
    const params = url.searchParams;
    const redirectUri = params.get('redirect_uri');
    if (params.get('client_id') !== clientId) return reply(response, 400, { status: 400, message: 'invalid client' });
    if (params.get('response_type') !== 'code') return reply(response, 400, { status: 400, message: 'invalid response type' });
    if (!redirectUri || !/^https?:\/\//.test(redirectUri) || !URL.canParse(redirectUri)) return reply(response, 400, { status: 400, message: 'Parameter redirect_uri does not match registered URI' });
    const back = new URL(redirectUri);
    const state = params.get('state');
    if (denying) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user denied you access');
    } else {
      const code = randomBytes(15).toString('hex');
      const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
      const challenge = params.get('code_challenge_method') === 'S256' ? (params.get('code_challenge') ?? undefined) : undefined;
      codes.set(code, { redirectUri, user: oauthUser, scopes, challenge, expiresAtMs: Date.now() + 10 * 60 * 1000 });
      back.searchParams.set('code', code);
      back.searchParams.set('scope', scopes.join(' '));
    }
    if (state !== null) back.searchParams.set('state', state);
    return write(response, 302, { Location: back.toString() }, '');
  };

  const exchangeCode = (response: ServerResponse, params: URLSearchParams) => {
    const code = params.get('code') ?? '';
    const grant = codes.get(code);
    codes.delete(code);
    if (!grant || grant.expiresAtMs < Date.now()) return reply(response, 400, { status: 400, message: 'Invalid authorization code' });
    if (params.get('redirect_uri') !== grant.redirectUri) return reply(response, 400, { status: 400, message: 'Parameter redirect_uri does not match registered URI' });
    const verifier = params.get('code_verifier');
    if (grant.challenge !== undefined && verifier !== null && createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
      return reply(response, 400, { status: 400, message: 'Invalid authorization code' });
    }
    return issueUserTokens(response, grant.user, grant.scopes, randomUUID());
  };

  const refreshUserToken = (response: ServerResponse, params: URLSearchParams) => {
    const presented = params.get('refresh_token') ?? '';
    const grant = userRefreshTokens.get(presented);
    if (!grant) return reply(response, 400, { status: 400, message: 'Invalid refresh token' });
    // Refresh tokens rotate: the one just used is spent.
    userRefreshTokens.delete(presented);
    return issueUserTokens(response, grant.user, grant.scopes, grant.grant);
  };

  const validate = (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET') return reply(response, 404, { status: 404, message: 'Not Found' });
    const match = /^(?:OAuth|Bearer) (\S+)$/.exec(request.headers['authorization'] ?? '');
    const found = match ? userAccessTokens.get(match[1]!) : undefined;
    if (!found || found.expiresAtMs <= Date.now()) return reply(response, 401, { status: 401, message: 'invalid access token' });
    return reply(response, 200, {
      client_id: clientId,
      login: found.user.login,
      scopes: found.scopes,
      user_id: found.user.user_id,
      expires_in: Math.max(0, Math.floor((found.expiresAtMs - Date.now()) / 1000)),
    });
  };

  const revokeToken = (request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer) => {
    if (request.method !== 'POST') return reply(response, 404, { status: 404, message: 'Not Found' });
    if (revokeFailure !== undefined) return reply(response, revokeFailure, { status: revokeFailure, message: 'revocation failed' });
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.set(key, value);
    if (params.get('client_id') !== clientId) return reply(response, 404, { status: 404, message: 'client does not exist' });
    const presented = params.get('token') ?? '';
    const grant = userAccessTokens.get(presented)?.grant ?? userRefreshTokens.get(presented)?.grant;
    if (grant === undefined) return reply(response, 400, { status: 400, message: 'Invalid token' });
    // Revoking either token ends the whole grant.
    for (const [value, entry] of userAccessTokens) if (entry.grant === grant) userAccessTokens.delete(value);
    for (const [value, entry] of userRefreshTokens) if (entry.grant === grant) userRefreshTokens.delete(value);
    revokedTokens.push(presented);
    return write(response, 200, {}, '');
  };

  const totals = () => {
    const counted = subscriptions.filter((subscription) => subscription.status === 'enabled' || subscription.status === 'webhook_callback_verification_pending');
    return { total: subscriptions.length, total_cost: counted.reduce((sum, subscription) => sum + subscription.cost, 0), max_total_cost: maxTotalCost };
  };

  const create = (response: ServerResponse, body: Buffer, headers: Record<string, string>) => {
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return helixError(response, 400, 'Bad Request', 'malformed JSON body', headers);
    }
    const problem = validateCreate(input);
    if (typeof problem === 'string') return helixError(response, 400, 'Bad Request', problem, headers);
    const duplicate = subscriptions.find(
      (existing) =>
        existing.type === problem.type &&
        existing.version === problem.version &&
        existing.condition.broadcaster_user_id === problem.broadcasterUserId &&
        existing.transport.callback === problem.callback,
    );
    if (duplicate) return helixError(response, 409, 'Conflict', 'subscription already exists', headers);
    const subscription: FakeSubscription = {
      id: randomUUID(),
      status: 'webhook_callback_verification_pending',
      type: problem.type,
      version: problem.version,
      cost: 1,
      condition: { broadcaster_user_id: problem.broadcasterUserId },
      transport: { method: 'webhook', callback: problem.callback },
      created_at: twitchTimestamp(Date.now()),
      secret: problem.secret,
    };
    subscriptions.push(subscription);
    reply(response, 202, { data: [publicView(subscription)], ...totals() }, headers);
    const verifying = verify(subscription).finally(() => inFlight.delete(verifying));
    inFlight.add(verifying);
  };

  const verify = async (subscription: FakeSubscription) => {
    const challenge = randomBytes(24).toString('base64url');
    let answered: boolean;
    try {
      const response = await deliverMessage(subscription, TWITCH_MESSAGE_TYPES.verification, { challenge, subscription: publicView(subscription) }, verificationTimeoutMs);
      const text = await response.text();
      answered = response.ok && text === challenge;
    } catch {
      answered = false;
    }
    if (subscription.status !== 'webhook_callback_verification_pending') return;
    subscription.status = answered && !forceVerificationFailure ? 'enabled' : 'webhook_callback_verification_failed';
  };

  const list = (response: ServerResponse, url: URL, headers: Record<string, string>) => {
    const filters = ['status', 'type', 'user_id', 'subscription_id'].filter((name) => url.searchParams.has(name));
    if (filters.length > 1) return helixError(response, 400, 'Bad Request', 'only one of status, type, user_id, subscription_id may be given', headers);
    let matching = subscriptions.slice();
    const value = filters[0] === undefined ? undefined : url.searchParams.get(filters[0]);
    if (filters[0] === 'status') matching = matching.filter((subscription) => subscription.status === value);
    if (filters[0] === 'type') matching = matching.filter((subscription) => subscription.type === value);
    if (filters[0] === 'user_id') matching = matching.filter((subscription) => subscription.condition.broadcaster_user_id === value);
    if (filters[0] === 'subscription_id') matching = matching.filter((subscription) => subscription.id === value);
    const paged = pageOf(matching, url, pageSize);
    if (!paged) return helixError(response, 400, 'Bad Request', 'invalid cursor', headers);
    return reply(response, 200, { data: paged.page.map(publicView), ...totals(), total: matching.length, pagination: paged.pagination }, headers);
  };

  const listVideos = (response: ServerResponse, url: URL, headers: Record<string, string>) => {
    const selectors = ['id', 'user_id', 'game_id'].filter((name) => url.searchParams.has(name));
    if (selectors.length !== 1) return helixError(response, 400, 'Bad Request', 'exactly one of id, user_id, game_id is required', headers);
    const type = url.searchParams.get('type') ?? 'all';
    if (!VIDEO_TYPES.includes(type)) return helixError(response, 400, 'Bad Request', 'invalid type', headers);
    const firstText = url.searchParams.get('first') ?? '20';
    const first = /^\d{1,3}$/.test(firstText) ? Number(firstText) : Number.NaN;
    if (!(first >= 1 && first <= 100)) return helixError(response, 400, 'Bad Request', 'first must be 1-100', headers);
    let matching: FakeVideo[];
    if (selectors[0] === 'id') {
      const ids = url.searchParams.getAll('id');
      matching = videos.filter((video) => ids.includes(video.id));
      if (matching.length === 0) return helixError(response, 404, 'Not Found', 'videos not found', headers);
    } else if (selectors[0] === 'user_id') {
      const userId = url.searchParams.get('user_id');
      matching = videos.filter((video) => video.user_id === userId && (type === 'all' || video.type === type));
    } else {
      matching = [];
    }
    matching.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
    const paged = pageOf(matching, url, first);
    if (!paged) return helixError(response, 400, 'Bad Request', 'invalid cursor', headers);
    return reply(response, 200, { data: paged.page, pagination: paged.pagination }, headers);
  };

  const remove = (response: ServerResponse, url: URL, headers: Record<string, string>) => {
    const id = url.searchParams.get('id');
    if (!id) return helixError(response, 400, 'Bad Request', 'Missing required parameter "id"', headers);
    const index = subscriptions.findIndex((subscription) => subscription.id === id);
    if (index < 0) return helixError(response, 404, 'Not Found', 'subscription not found', headers);
    subscriptions.splice(index, 1);
    return write(response, 204, headers, '');
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const find = (id: string) => {
    const subscription = subscriptions.find((candidate) => candidate.id === id);
    if (!subscription) throw new Error(`fake Helix has no subscription ${id}`);
    return subscription;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    requests,
    subscriptions: () => subscriptions,
    addVideo: (video) => {
      const id = video.id ?? String(300_000_000 + videos.length);
      const createdAt = video.created_at ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const login = video.user_login ?? `user${video.user_id}`;
      const full: FakeVideo = {
        stream_id: null,
        user_login: login,
        user_name: login,
        title: 'A past broadcast',
        description: '',
        published_at: createdAt,
        url: `https://www.twitch.tv/videos/${id}`,
        thumbnail_url: `https://static-cdn.jtvnw.net/cf_vods/d2nvs31859zcd8/${login}/${id}/thumb/index-0000000000-%{width}x%{height}.jpg`,
        viewable: 'public',
        view_count: 0,
        language: 'en',
        type: 'archive',
        duration: '1h0m0s',
        muted_segments: null,
        ...video,
        id,
        created_at: createdAt,
      };
      videos.push(full);
      return full;
    },
    tokensIssued: () => issued,
    verificationsSettled: async () => {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    expireTokens: () => validTokens.clear(),
    rateLimitNext: (count, resetInMs) => {
      rateLimited = { remaining: count, resetAtMs: Date.now() + resetInMs };
    },
    respondNext: (status, body, options = {}) => {
      overrides.push({ method: options.method, status, body, contentType: options.contentType ?? 'application/json' });
    },
    failVerification: (fail) => {
      forceVerificationFailure = fail;
    },
    authorizeAs: (user) => {
      oauthUser = user;
    },
    denyAuthorization: (deny) => {
      denying = deny;
    },
    expireUserTokens: () => {
      for (const entry of userAccessTokens.values()) entry.expiresAtMs = Date.now() - 1;
    },
    invalidateRefreshTokens: () => userRefreshTokens.clear(),
    failRevoke: (status) => {
      revokeFailure = status;
    },
    userTokens: () => ({ access: [...userAccessTokens.keys()], refresh: [...userRefreshTokens.keys()] }),
    revokedTokens,
    setStatus: (id, status) => {
      find(id).status = status;
    },
    revoke: async (id, status) => {
      const subscription = find(id);
      subscription.status = status;
      const response = await deliverMessage(subscription, TWITCH_MESSAGE_TYPES.revocation, { subscription: publicView(subscription) }, verificationTimeoutMs);
      await response.arrayBuffer();
      return response.status;
    },
    close: async () => {
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A message as Twitch POSTs it to a webhook callback: all headers, signed body bytes. */
async function deliverMessage(subscription: FakeSubscription, messageType: TwitchMessageType, body: Record<string, unknown>, timeoutMs: number): Promise<Response> {
  const messageId = randomUUID();
  const timestamp = twitchTimestamp(Date.now());
  const text = JSON.stringify(body);
  return fetch(subscription.transport.callback, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      [TWITCH_EVENTSUB_HEADERS.messageId]: messageId,
      [TWITCH_EVENTSUB_HEADERS.messageRetry]: '0',
      [TWITCH_EVENTSUB_HEADERS.messageType]: messageType,
      [TWITCH_EVENTSUB_HEADERS.messageSignature]: twitchSignature(subscription.secret, messageId, timestamp, text),
      [TWITCH_EVENTSUB_HEADERS.messageTimestamp]: timestamp,
      [TWITCH_EVENTSUB_HEADERS.subscriptionType]: subscription.type,
      [TWITCH_EVENTSUB_HEADERS.subscriptionVersion]: subscription.version,
    },
    body: text,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/** The subscription as Helix shows it: everything but the secret. */
function publicView(subscription: FakeSubscription): Record<string, unknown> {
  const { secret: _secret, ...visible } = subscription;
  return { ...visible, condition: { ...visible.condition }, transport: { ...visible.transport } };
}

interface CreateInput {
  readonly type: string;
  readonly version: string;
  readonly broadcasterUserId: string;
  readonly callback: string;
  readonly secret: string;
}

/** Twitch's checks on a create body; a string is the 400 message. */
function validateCreate(input: unknown): CreateInput | string {
  if (!isRecord(input)) return 'body must be a JSON object';
  const { type, version, condition, transport } = input;
  if (typeof type !== 'string' || typeof version !== 'string') return 'type and version are required';
  const versions = KNOWN_TYPES[type];
  if (!versions) return `unsupported subscription type ${type}`;
  if (!versions.includes(version)) return `unsupported version ${version} for ${type}`;
  if (!isRecord(condition) || typeof condition['broadcaster_user_id'] !== 'string' || !/^[0-9]{1,20}$/.test(condition['broadcaster_user_id'])) {
    return 'condition.broadcaster_user_id is required';
  }
  if (!isRecord(transport) || transport['method'] !== 'webhook') return 'transport.method must be webhook';
  const { callback, secret } = transport;
  if (typeof callback !== 'string' || !/^https?:\/\//.test(callback) || !URL.canParse(callback)) return 'transport.callback must be a URL';
  if (typeof secret !== 'string' || secret.length < 10 || secret.length > 100 || !/^[\x20-\x7e]+$/.test(secret)) {
    return 'transport.secret must be 10-100 ASCII characters';
  }
  return { type, version, broadcasterUserId: condition['broadcaster_user_id'], callback, secret };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), 'utf8').toString('base64url');
}

/** One page of `items` from the `after` cursor, as Helix pages: undefined for a cursor it never gave. */
function pageOf<T>(items: readonly T[], url: URL, size: number): { page: T[]; pagination: { cursor?: string } } | undefined {
  const after = url.searchParams.get('after');
  const start = after === null ? 0 : decodeCursor(after);
  if (start === undefined) return undefined;
  const next = start + size < items.length ? encodeCursor(start + size) : undefined;
  return { page: items.slice(start, start + size), pagination: next === undefined ? {} : { cursor: next } };
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return isRecord(parsed) && Number.isInteger(parsed['o']) && (parsed['o'] as number) >= 0 ? (parsed['o'] as number) : undefined;
  } catch {
    return undefined;
  }
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
