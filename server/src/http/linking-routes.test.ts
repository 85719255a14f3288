import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import Koa from 'koa';
import { startFakeGoogleOAuth, type FakeGoogleOAuth } from '../../../test/fakes/google/oauth.js';
import { startFakePds, type FakePds } from '../../../test/fakes/bluesky/pds.js';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../../../test/fakes/youtube/data-api.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { auditRecordSchema, AuditLog, type AuditRecord } from '../audit/index.js';
import { BUCKETS, STREAMS, createMemoryBus, createNatsBus, decodeJson, decodeText, type Bus } from '../bus/index.js';
import { ChannelRegistry } from '../channels/index.js';
import {
  AccountLinker,
  BlueskyAppPasswords,
  GoogleOAuth,
  LinkedAccountStore,
  OAuthStateStore,
  TokenVault,
  TwitchOAuth,
  blueskyCredentialsLookup,
} from '../linking/index.js';
import { createLogger, createMetrics } from '../observability/index.js';
import type { AppState } from './app-state.js';
import { linkingRoutes } from './linking-routes.js';
import { errorHandler } from './middleware/error-handler.js';
import { requestContext } from './middleware/request-context.js';
import { requireBearer } from './middleware/require-bearer.js';

const ADMIN = 'admin-token-0123456789abcdef';
const OK_ORIGIN = 'https://ok.example';
const YOUTUBE_CHANNEL = 'UCyoutubeyoutubeyoutub01';
const DID = 'did:plc:z72i7hdynmk6r22z27h6tvur';
const APP_PASSWORD = 'abcd-efgh-ijkl-mnop';

describeEachBus('provider linking routes', (under) => {
  let bus: Bus;
  let server: Server;
  let url: string;
  let twitch: FakeHelix;
  let google: FakeGoogleOAuth;
  let youtube: FakeYouTubeDataApi;
  let pds: FakePds;
  let registry: ChannelRegistry;
  let store: LinkedAccountStore;
  let clockOffsetMs = 0;
  const changed: string[] = [];

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'linking-routes-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    twitch = await startFakeHelix();
    google = await startFakeGoogleOAuth({ user: { channelId: YOUTUBE_CHANNEL } });
    youtube = await startFakeYouTubeDataApi({ apiKey: 'unused-api-key-0123456789', resolveUserToken: (token) => google.tokenInfo(token) });
    youtube.addChannel(YOUTUBE_CHANNEL, 'Acme on YouTube');
    pds = await startFakePds();
    pds.addAccount({ did: DID, handle: 'acme.test', password: APP_PASSWORD });

    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const vault = TokenVault.fromKeyRing(`k1:${randomBytes(32).toString('base64')}`);
    registry = await ChannelRegistry.open(bus);
    store = await LinkedAccountStore.open(bus, vault);
    const linker = new AccountLinker({
      channels: registry,
      store,
      states: await OAuthStateStore.open(bus, () => Date.now() + clockOffsetMs),
      oauth: {
        twitch: new TwitchOAuth({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret }),
        youtube: new GoogleOAuth({ authBaseUrl: google.url, tokenBaseUrl: google.url, dataApiBaseUrl: youtube.baseUrl, clientId: google.clientId, clientSecret: google.clientSecret }),
      },
      bluesky: new BlueskyAppPasswords(pds.baseUrl),
      audit: new AuditLog(bus),
      publicUrl: url,
      returnToOrigins: [OK_ORIGIN, 'http://localhost:8080'],
    });
    const logger = createLogger({ level: 'silent' });
    const app = new Koa<AppState>();
    app.use(requestContext(logger, createMetrics()));
    app.use(errorHandler());
    const router = linkingRoutes({
      linker,
      requireAdmin: requireBearer(() => [ADMIN]),
      onChannelChanged: async (channel) => {
        changed.push(channel);
      },
    });
    app.use(router.routes()).use(router.allowedMethods());
    server.on('request', app.callback());

    for (const slug of ['show', 'other', 'tube', 'sky']) await registry.upsert({ publisher: 'acme', slug }, { title: slug, providers: {} });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([twitch.close(), google.close(), youtube.close(), pds.close()]);
    await bus.close();
  });

  const api = (path: string, init: { method?: string; body?: unknown; raw?: string; admin?: boolean; contentType?: string } = {}) =>
    fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.admin === false ? {} : { Authorization: `Bearer ${ADMIN}` }),
        ...(init.body !== undefined || init.raw !== undefined ? { 'Content-Type': init.contentType ?? 'application/json' } : {}),
      },
      ...(init.raw !== undefined ? { body: init.raw } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      redirect: 'manual',
    });
  const authorize = async (channel: string, provider: string, body: unknown = { return_to: `${OK_ORIGIN}/settings?tab=links` }) => {
    const response = await api(`/api/v1/channels/${channel}/links/${provider}/authorize`, { method: 'POST', body });
    assert.equal(response.status, 200, await response.clone().text());
    return new URL(((await response.json()) as { authorize_url: string }).authorize_url);
  };
  /** The publisher's browser at the provider: the provider's 302 back to our callback. */
  const consent = async (authorizeUrl: URL) => {
    const response = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(response.status, 302);
    return new URL(response.headers.get('location')!);
  };
  const callback = (callbackUrl: URL | string) => fetch(callbackUrl, { redirect: 'manual' });
  const audit = async (): Promise<AuditRecord[]> =>
    (await bus.readLatest(STREAMS.audit.name, { limit: 100 })).map((message) => decodeJson(message.data, auditRecordSchema));
  const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

  it('refuses every linking endpoint without the admin token', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/channels/acme/show/links/twitch/authorize'],
      ['POST', '/api/v1/channels/acme/show/links/bluesky'],
      ['GET', '/api/v1/channels/acme/show/links'],
      ['DELETE', '/api/v1/channels/acme/show/links/twitch'],
    ] as const) {
      const response = await api(path, { method, admin: false, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(response.status, 401, path);
      assert.equal(await errorCode(response), 'unauthorized');
    }
  });

  it('links a Twitch account by OAuth: state, PKCE, redirect back to return_to, tokens only sealed', async () => {
    const authorizeUrl = await authorize('acme/show', 'twitch');
    assert.equal(authorizeUrl.origin + authorizeUrl.pathname, `${twitch.url}/oauth2/authorize`);
    assert.equal(authorizeUrl.searchParams.get('client_id'), twitch.clientId);
    assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${url}/oauth/twitch/callback`);
    assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorizeUrl.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(authorizeUrl.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);

    const back = await consent(authorizeUrl);
    assert.equal(back.origin + back.pathname, `${url}/oauth/twitch/callback`);
    const response = await callback(back);
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `${OK_ORIGIN}/settings?tab=links&linked=twitch`);
    assert.equal(await registry.findByAccount('twitch', '31'), 'acme/show');
    assert.deepEqual((await registry.get({ publisher: 'acme', slug: 'show' }))?.providers.twitch, { user_id: '31', login: 'acme', state: 'active' });
    assert.ok(changed.includes('acme/show'), 'the pipeline was told');

    const links = await api('/api/v1/channels/acme/show/links');
    const text = await links.text();
    const body = JSON.parse(text) as { links: Array<{ provider: string; account_id: string; display_name: string; status: string; expires_at: string }> };
    assert.equal(body.links.length, 1);
    assert.deepEqual({ ...body.links[0], expires_at: undefined, linked_at: undefined }, {
      provider: 'twitch',
      account_id: '31',
      display_name: 'acme',
      channel: 'acme/show',
      scopes: [],
      expires_at: undefined,
      status: 'active',
      status_reason: null,
      linked_at: undefined,
    });
    const { access, refresh } = twitch.userTokens();
    for (const token of [...access, ...refresh]) {
      assert.ok(!text.includes(token), 'no token in the API');
      const raw = (await (await bus.kv(BUCKETS.linkedAccounts)).get('twitch.31'))!;
      assert.ok(!decodeText(raw.value).includes(token), 'no plaintext token in KV');
    }
    const record = (await audit()).find((entry) => entry.details?.['link'] === 'linked' && entry.details['provider'] === 'twitch');
    assert.equal(record?.target, 'acme/show');
    assert.equal(record?.actor, 'publisher');
  });

  it('refuses a replayed, forged, missing, repeated, expired or cross-provider state and links nothing', async () => {
    const back = await consent(await authorize('acme/other', 'twitch'));
    const state = back.searchParams.get('state')!;
    const code = back.searchParams.get('code')!;
    // Cross-provider: a Twitch state at the YouTube callback is refused and spent.
    const crossed = await callback(`${url}/oauth/youtube/callback?code=${code}&state=${state}`);
    assert.equal(crossed.status, 400);
    assert.equal((await callback(back)).status, 400, 'spent by the refused use');

    const fresh = await consent(await authorize('acme/other', 'twitch'));
    const hostile = [
      `${url}/oauth/twitch/callback?code=${fresh.searchParams.get('code')}`,
      `${url}/oauth/twitch/callback?code=x&state=${'A'.repeat(43)}`,
      `${url}/oauth/twitch/callback?code=x&state=..%2F..%2Fetc`,
      `${url}/oauth/twitch/callback?code=x&state=${encodeURIComponent('a.b>*')}`,
      `${url}/oauth/twitch/callback?code=x&state=${fresh.searchParams.get('state')}&state=${fresh.searchParams.get('state')}`,
    ];
    for (const attempt of hostile) {
      const response = await callback(attempt);
      assert.equal(response.status, 400, attempt);
      assert.equal(response.headers.get('content-type')?.startsWith('application/json'), true);
    }
    // The good one still works exactly once; its replay is refused.
    assert.equal((await callback(fresh)).status, 303);
    const replay = await callback(fresh);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { error: { message: string } }).error.message, /already used or expired/);

    // Expired: ten minutes and a bit later.
    const late = await consent(await authorize('acme/other', 'youtube'));
    clockOffsetMs = 10 * 60 * 1000 + 1000;
    try {
      assert.equal((await callback(late)).status, 400);
    } finally {
      clockOffsetMs = 0;
    }
    assert.equal(await registry.findByAccount('youtube', YOUTUBE_CHANNEL), undefined, 'nothing linked');
    assert.equal((await callback(`${url}/oauth/mastodon/callback?code=x&state=y`)).status, 404);
  });

  it('refuses a return_to off the allowlist with a 400', async () => {
    for (const returnTo of [
      '//evil.example/x',
      '/relative',
      'https://ok.example.evil/',
      'https://ok.example@evil.example/',
      'https://user:pw@ok.example/',
      'https://evil.example/?https://ok.example/',
      'http://ok.example/',
      'https://ok.example:444/',
      'https:\\\\ok.example\\x',
      'https://ok.example\\@evil.example/',
      ' https://ok.example/',
      'javascript:alert(1)//https://ok.example/',
      'data:text/html,https://ok.example/',
      `https://ok.example/${'a'.repeat(3000)}`,
      'https://OK.example/',
    ]) {
      const response = await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST', body: { return_to: returnTo } });
      assert.equal(response.status, 400, returnTo);
      assert.equal(await errorCode(response), 'invalid_body', returnTo);
    }
    for (const body of [{ return_to: 5 }, { return_to: OK_ORIGIN, extra: true }, []]) {
      assert.equal((await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST', body })).status, 400, JSON.stringify(body));
    }
    assert.equal((await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST', raw: '{' })).status, 400);
    assert.equal((await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST', raw: 'x', contentType: 'text/plain' })).status, 415);
    assert.equal((await api('/api/v1/channels/acme/other/links/bluesky/authorize', { method: 'POST', body: {} })).status, 404);
    assert.equal((await api('/api/v1/channels/acme/nope/links/twitch/authorize', { method: 'POST', body: {} })).status, 404);
    assert.equal((await api('/api/v1/channels/ACME/show/links/twitch/authorize', { method: 'POST', body: {} })).status, 400);
    // Allowed: exact origin, any path; no body at all means no return_to.
    assert.equal((await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST', body: { return_to: 'http://localhost:8080' } })).status, 200);
    assert.equal((await api('/api/v1/channels/acme/other/links/twitch/authorize', { method: 'POST' })).status, 200);
  });

  it('reports a denied consent, a code minted for another redirect_uri and provider failures to return_to, linking nothing', async () => {
    twitch.denyAuthorization(true);
    try {
      const denied = await callback(await consent(await authorize('acme/other', 'twitch')));
      assert.equal(denied.status, 303);
      assert.equal(new URL(denied.headers.get('location')!).searchParams.get('link_error'), 'access_denied');
    } finally {
      twitch.denyAuthorization(false);
    }

    // The attacker's code: minted for their own redirect_uri, delivered to our callback with a valid state.
    const ours = await consent(await authorize('acme/other', 'twitch'));
    const theirs = new URL(`${twitch.url}/oauth2/authorize`);
    theirs.search = new URLSearchParams({ client_id: twitch.clientId, response_type: 'code', redirect_uri: 'https://evil.example/cb', scope: '' }).toString();
    const stolen = await consent(theirs);
    ours.searchParams.set('code', stolen.searchParams.get('code')!);
    const refused = await callback(ours);
    assert.equal(new URL(refused.headers.get('location')!).searchParams.get('link_error'), 'provider_error');

    // Google down, then Google refusing the code.
    google.respondNextToken(503, { error: 'backend_error' });
    const down = await callback(await consent(await authorize('acme/tube', 'youtube')));
    assert.equal(new URL(down.headers.get('location')!).searchParams.get('link_error'), 'provider_unavailable');
    google.respondNextToken(400, { error: 'invalid_grant', error_description: 'Bad Request' });
    const bad = await callback(await consent(await authorize('acme/tube', 'youtube', {})));
    assert.equal(bad.status, 400, 'no return_to: a JSON error');
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^provider_error:/);
    assert.equal(await registry.findByAccount('youtube', YOUTUBE_CHANNEL), undefined);
    assert.equal((await registry.get({ publisher: 'acme', slug: 'other' }))?.providers.twitch, undefined);
  });

  it('refuses an account that belongs to another channel (409) and gives the fresh grant back', async () => {
    const revokedBefore = twitch.revokedTokens.length;
    const response = await callback(await consent(await authorize('acme/other', 'twitch', {})));
    assert.equal(response.status, 409);
    assert.equal(await errorCode(response), 'conflict');
    assert.equal(await registry.findByAccount('twitch', '31'), 'acme/show');
    assert.equal(twitch.revokedTokens.length, revokedBefore + 1, 'the unused grant was revoked');
    assert.equal((await store.get('twitch', '31'))?.channel, 'acme/show', 'the owner keeps its credentials');
  });

  it('links a YouTube channel through Google with offline access and the read-only scope; JSON without return_to', async () => {
    const authorizeUrl = await authorize('acme/tube', 'youtube', {});
    assert.equal(authorizeUrl.pathname, '/o/oauth2/v2/auth');
    assert.equal(authorizeUrl.searchParams.get('scope'), 'https://www.googleapis.com/auth/youtube.readonly');
    assert.equal(authorizeUrl.searchParams.get('access_type'), 'offline');
    assert.equal(authorizeUrl.searchParams.get('prompt'), 'consent');
    const response = await callback(await consent(authorizeUrl));
    assert.equal(response.status, 200);
    const body = (await response.json()) as { linked: { provider: string; account_id: string; display_name: string; scopes: string[] } };
    assert.deepEqual([body.linked.provider, body.linked.account_id, body.linked.display_name], ['youtube', YOUTUBE_CHANNEL, 'Acme on YouTube']);
    assert.deepEqual(body.linked.scopes, ['https://www.googleapis.com/auth/youtube.readonly']);
    assert.equal(await registry.findByAccount('youtube', YOUTUBE_CHANNEL), 'acme/tube');
  });

  it('links Bluesky by app password against the configured service, refusing hostile input', async () => {
    const path = '/api/v1/channels/acme/sky/links/bluesky';
    for (const body of [
      { identifier: 'acme.test', app_password: 'my-real-account-password' },
      { identifier: 'acme.test', app_password: APP_PASSWORD, service: 'https://evil.example' },
      { identifier: 'not a handle', app_password: APP_PASSWORD },
      { identifier: 'a'.repeat(300), app_password: APP_PASSWORD },
      { identifier: 'acme.test' },
      { identifier: ['acme.test'], app_password: APP_PASSWORD },
    ]) {
      const response = await api(path, { method: 'POST', body });
      assert.equal(response.status, 400, JSON.stringify(body));
    }
    pds.failNext(1, 503);
    const down = await api(path, { method: 'POST', body: { identifier: 'acme.test', app_password: APP_PASSWORD } });
    assert.equal(down.status, 503, 'the service being down is not the publisher\'s fault');
    const wrong = await api(path, { method: 'POST', body: { identifier: 'acme.test', app_password: 'zzzz-zzzz-zzzz-zzzz' } });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /Bluesky sign-in failed/);
    assert.equal(await registry.findByAccount('bluesky', DID), undefined);

    const response = await api(path, { method: 'POST', body: { identifier: '@Acme.test', app_password: APP_PASSWORD } });
    assert.equal(response.status, 201, await response.clone().text());
    const linked = (await response.json()) as Record<string, unknown>;
    assert.equal(linked['account_id'], DID);
    assert.equal(linked['display_name'], 'acme.test');
    assert.ok(!JSON.stringify(linked).includes(APP_PASSWORD));
    assert.equal(await registry.findByAccount('bluesky', DID), 'acme/sky');
    const lookup = blueskyCredentialsLookup(store, pds.baseUrl);
    assert.deepEqual(await lookup(DID), { service: pds.baseUrl, identifier: DID, password: APP_PASSWORD });
    assert.equal(await lookup('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), undefined);
    assert.ok(changed.includes('acme/sky'));

    assert.equal((await api('/api/v1/channels/acme/sky/links/bluesky', { method: 'DELETE' })).status, 204);
    assert.equal(await lookup(DID), undefined, 'the app password is gone');
    assert.equal(await registry.findByAccount('bluesky', DID), undefined);
  });

  it('refuses with 400 naming the reason when the account\'s DID method is not supported, not 503', async () => {
    const path = '/api/v1/channels/acme/sky/links/bluesky';
    const unsupported = [
      { did: 'did:web:example.com:user:alice', handle: 'pathdid.test', reason: /a did:web with a path or port/ },
      { did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', handle: 'keydid.test', reason: /did:key/ },
    ];
    for (const account of unsupported) {
      pds.addAccount({ did: account.did, handle: account.handle, password: APP_PASSWORD });
      const sessionsBefore = pds.count('com.atproto.server.createSession');
      const response = await api(path, { method: 'POST', body: { identifier: account.handle, app_password: APP_PASSWORD } });
      assert.equal(response.status, 400, account.did);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'bad_request');
      assert.match(body.error.message, /DID method is not supported/);
      assert.match(body.error.message, account.reason);
      assert.doesNotMatch(body.error.message, /could not be reached/);
      assert.ok(!body.error.message.includes(APP_PASSWORD));
      assert.equal(pds.count('com.atproto.server.createSession'), sessionsBefore + 1, 'the PDS was asked and answered');
      assert.equal(await registry.findByAccount('bluesky', account.did), undefined);
      assert.equal(await store.get('bluesky', account.did), undefined);
    }
  });

  it('unlinks even when the provider refuses the revocation, and audits it', async () => {
    twitch.failRevoke(500);
    try {
      const response = await api('/api/v1/channels/acme/show/links/twitch', { method: 'DELETE' });
      assert.equal(response.status, 204);
    } finally {
      twitch.failRevoke(undefined);
    }
    assert.equal(await registry.findByAccount('twitch', '31'), undefined);
    assert.equal(await store.get('twitch', '31'), undefined);
    assert.equal((await registry.get({ publisher: 'acme', slug: 'show' }))?.providers.twitch, undefined);
    const record = (await audit()).find((entry) => entry.details?.['link'] === 'unlinked' && entry.details['provider'] === 'twitch');
    assert.match(record?.reason ?? '', /revocation failed/);
    assert.equal((await api('/api/v1/channels/acme/show/links/twitch', { method: 'DELETE' })).status, 404, 'nothing left to unlink');
    assert.equal((await api('/api/v1/channels/acme/show/links/mastodon', { method: 'DELETE' })).status, 404);
  });

  it('unlinks a YouTube link whose ciphertext was tampered with in KV; the list still answers', async () => {
    const bucket = await bus.kv(BUCKETS.linkedAccounts);
    const entry = (await bucket.get(`youtube.${YOUTUBE_CHANNEL}`))!;
    const record = JSON.parse(decodeText(entry.value)) as { refresh_token: string };
    const tampered = record.refresh_token.slice(0, -2) + (record.refresh_token.endsWith('AA') ? 'AB' : 'AA');
    await bucket.put(entry.key, new TextEncoder().encode(JSON.stringify({ ...record, refresh_token: tampered })));
    const list = await api('/api/v1/channels/acme/tube/links');
    assert.equal(list.status, 200);
    const revokedBefore = google.revokedTokens.length;
    assert.equal((await api('/api/v1/channels/acme/tube/links/youtube', { method: 'DELETE' })).status, 204);
    assert.equal(google.revokedTokens.length, revokedBefore, 'an unreadable token is not sent anywhere');
    assert.equal(await registry.findByAccount('youtube', YOUTUBE_CHANNEL), undefined);
    assert.equal(await store.get('youtube', YOUTUBE_CHANNEL), undefined);
  });
});
