import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeGoogleOAuth, type FakeGoogleOAuth } from '../../../test/fakes/google/oauth.js';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../../../test/fakes/youtube/data-api.js';
import { startFakeWebSubHub, type FakeWebSubHub } from '../../../test/fakes/youtube/websub-hub.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { PUBLISHER_ORIGIN, tokenKeyRing } from '../../../test/support/provider-fakes.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

/**
 * The public error contract in one table: for every route of the README's HTTP API, what
 * hostile or wrong input gets back (status and `{ "error": { "code", "message" } }`). The
 * whole server is booted (`startServer` -> `createApp`), every provider configured against
 * its fake, so each route answers as in production. The route suites test each route in
 * depth; this file is the list a client author reads.
 */

const MODERATOR_TOKEN = 'test-moderator-token-0123456789';
const YOUTUBE_API_KEY = 'test-youtube-api-key-0123456789';
const NO_UPLOAD = '01J0000000000000000000000A';
const JSON_TYPE = { 'Content-Type': 'application/json' };
const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const ACTIVITY_TYPE = { 'Content-Type': 'application/activity+json' };

interface ErrorCase {
  readonly method: string;
  /** A path, or one that needs the server's own URL (oEmbed names our pages by absolute URL). */
  readonly path: string | ((baseUrl: string) => string);
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly status: number;
  readonly code: string;
}

/** Each README route with what a wrong request to it gets. */
const ROUTE_ERRORS: Readonly<Record<string, readonly ErrorCase[]>> = {
  'an unknown path': [{ method: 'GET', path: '/api/v1/nope', status: 404, code: 'not_found' }],
  'POST /webhooks/twitch': [
    { method: 'POST', path: '/webhooks/twitch', headers: JSON_TYPE, body: '{}', status: 403, code: 'signature_invalid' },
    { method: 'POST', path: '/webhooks/twitch', headers: JSON_TYPE, body: '{not json', status: 403, code: 'signature_invalid' },
    { method: 'GET', path: '/webhooks/twitch', status: 405, code: 'method_not_allowed' },
  ],
  'GET, POST /webhooks/youtube': [
    { method: 'GET', path: '/webhooks/youtube', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/webhooks/youtube?hub.mode=subscribe&hub.topic=https%3A%2F%2Fevil.example%2F&hub.challenge=x', status: 404, code: 'not_found' },
    { method: 'PUT', path: '/webhooks/youtube', status: 405, code: 'method_not_allowed' },
  ],
  'PUT /api/v1/channels/:publisher/:slug': [
    { method: 'PUT', path: '/api/v1/channels/ACME!/x', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"providers":{}}', status: 400, code: 'invalid_channel' },
    { method: 'PUT', path: '/api/v1/channels/acme/x', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"providers":{"twitch":{"user_id":7}}}', status: 400, code: 'invalid_body' },
    { method: 'DELETE', path: `/api/v1/channels/${TEST_CHANNEL}`, headers: ADMIN, status: 405, code: 'method_not_allowed' },
  ],
  'POST /api/v1/channels/:publisher/:slug/links/:provider/authorize': [
    { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/myspace/authorize`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{}', status: 404, code: 'not_found' },
    { method: 'POST', path: '/api/v1/channels/acme/unknown/links/twitch/authorize', headers: { ...JSON_TYPE, ...ADMIN }, body: '{}', status: 404, code: 'not_found' },
    { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/twitch/authorize`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"return_to":7}', status: 400, code: 'invalid_body' },
  ],
  'GET /oauth/:provider/callback': [
    { method: 'GET', path: '/oauth/twitch/callback', status: 400, code: 'bad_request' },
    { method: 'GET', path: `/oauth/twitch/callback?state=${'A'.repeat(43)}&code=x`, status: 400, code: 'bad_request' },
    { method: 'GET', path: '/oauth/myspace/callback?state=x&code=y', status: 404, code: 'not_found' },
  ],
  'POST /api/v1/channels/:publisher/:slug/links/bluesky': [
    { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/bluesky`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"identifier":7}', status: 400, code: 'invalid_body' },
  ],
  'GET /api/v1/channels/:publisher/:slug/links, DELETE .../links/:provider': [
    { method: 'GET', path: '/api/v1/channels/acme/unknown/links', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'DELETE', path: `/api/v1/channels/${TEST_CHANNEL}/links/myspace`, headers: ADMIN, status: 404, code: 'not_found' },
  ],
  'GET /api/v1/channels/:publisher/:slug': [
    { method: 'GET', path: '/api/v1/channels/acme/unknown', status: 404, code: 'not_found' },
    { method: 'GET', path: '/api/v1/channels/ACME!/x', status: 400, code: 'invalid_channel' },
    { method: 'GET', path: '/api/v1/channels/acme/x/y/z', status: 404, code: 'not_found' },
    { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{}', status: 405, code: 'method_not_allowed' },
  ],
  'GET /api/v1/channels/:publisher/:slug/status': [
    { method: 'GET', path: '/api/v1/channels/acme/unknown/status', status: 404, code: 'not_found' },
    { method: 'GET', path: '/api/v1/channels/acme/-x/status', status: 400, code: 'invalid_channel' },
  ],
  'GET /api/v1/live/events': [
    { method: 'GET', path: '/api/v1/live/events', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/live/events?channel=not-a-channel', status: 400, code: 'invalid_channel' },
    { method: 'POST', path: `/api/v1/live/events?channel=${TEST_CHANNEL}`, status: 405, code: 'method_not_allowed' },
  ],
  'POST /api/v1/uploads/token': [
    { method: 'POST', path: '/api/v1/uploads/token', headers: JSON_TYPE, body: '{"channel":7}', status: 400, code: 'invalid_body' },
    {
      method: 'POST',
      path: '/api/v1/uploads/token',
      headers: JSON_TYPE,
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'a.mp4', size: 0, type: 'video/mp4', source: 'file' }),
      status: 400,
      code: 'invalid_body',
    },
  ],
  '/uploads/ (tus 1.0)': [
    { method: 'POST', path: '/uploads', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' }, status: 401, code: 'unauthorized' },
    { method: 'POST', path: '/uploads', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', Authorization: 'Bearer not.a.grant' }, status: 403, code: 'forbidden' },
    { method: 'POST', path: '/uploads', headers: { 'Upload-Length': '10', Authorization: 'Bearer not.a.grant' }, status: 412, code: 'precondition_failed' },
    { method: 'PATCH', path: `/uploads/${NO_UPLOAD}`, headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': 'minus one', 'Content-Type': 'application/offset+octet-stream' }, body: 'x', status: 400, code: 'bad_request' },
    { method: 'GET', path: `/uploads/${NO_UPLOAD}`, status: 405, code: 'method_not_allowed' },
  ],
  'GET /api/v1/uploads/:upload_id': [{ method: 'GET', path: `/api/v1/uploads/${NO_UPLOAD}`, status: 404, code: 'not_found' }],
  'GET /api/v1/moderation/queue, POST /api/v1/moderation/:upload_id/decision': [
    { method: 'POST', path: `/api/v1/moderation/${NO_UPLOAD}/decision`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"decision":"approve"}', status: 404, code: 'not_found' },
    { method: 'POST', path: `/api/v1/moderation/${NO_UPLOAD}/decision`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"decision":"maybe"}', status: 400, code: 'invalid_body' },
    { method: 'GET', path: `/api/v1/moderation/${NO_UPLOAD}/media`, headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'DELETE', path: '/api/v1/moderation/queue', headers: ADMIN, status: 405, code: 'method_not_allowed' },
  ],
  'POST/GET/DELETE /api/v1/moderation/blocklist': [
    { method: 'POST', path: '/api/v1/moderation/blocklist', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"hash":7}', status: 400, code: 'invalid_body' },
    { method: 'DELETE', path: '/api/v1/moderation/blocklist/unknown', headers: ADMIN, status: 404, code: 'not_found' },
  ],
  'GET /api/v1/audit': [{ method: 'GET', path: '/api/v1/audit?limit=abc', headers: ADMIN, status: 400, code: 'bad_request' }],
  '/api/v1/webhooks/subscribers..., /api/v1/webhooks/dead-letters': [
    { method: 'POST', path: '/api/v1/webhooks/subscribers', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"url":7}', status: 400, code: 'invalid_body' },
    { method: 'GET', path: '/api/v1/webhooks/subscribers/unknown', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'POST', path: '/api/v1/webhooks/subscribers/unknown/rotate-secret', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'GET', path: '/api/v1/webhooks/subscribers/unknown/deliveries', headers: ADMIN, status: 404, code: 'not_found' },
  ],
  'GET /c/:publisher/:slug': [
    { method: 'GET', path: '/c/acme/unknown', status: 404, code: 'not_found' },
    { method: 'GET', path: '/c/ACME!/x', status: 404, code: 'not_found' },
  ],
  'GET /oembed': [
    { method: 'GET', path: '/oembed', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/oembed?url=not-a-url', status: 400, code: 'bad_request' },
    { method: 'GET', path: `/oembed?url=${encodeURIComponent('https://evil.example/c/acme/x')}`, status: 404, code: 'not_found' },
    { method: 'GET', path: (base) => `/oembed?url=${encodeURIComponent(`${base}/c/${TEST_CHANNEL}`)}&format=xml`, status: 501, code: 'not_implemented' },
    { method: 'GET', path: (base) => `/oembed?url=${encodeURIComponent(`${base}/c/${TEST_CHANNEL}`)}&maxwidth=abc`, status: 400, code: 'bad_request' },
  ],
  'GET /api/v1/streams': [
    { method: 'GET', path: '/api/v1/streams?bogus=1', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/streams?limit=abc', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/streams?cursor=%25%25', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/streams?status=weird', status: 400, code: 'bad_request' },
    { method: 'POST', path: '/api/v1/streams', status: 405, code: 'method_not_allowed' },
  ],
  'GET /media/:upload_id/...': [
    { method: 'GET', path: `/media/${NO_UPLOAD}/video.mp4`, status: 404, code: 'not_found' },
    { method: 'GET', path: `/media/${NO_UPLOAD}/..%2F..%2Fpackage.json`, status: 404, code: 'not_found' },
  ],
  'GET /element/...': [
    { method: 'GET', path: '/element/nope.js', status: 404, code: 'not_found' },
    { method: 'POST', path: '/element/live-badge.js', status: 405, code: 'method_not_allowed' },
  ],
  'GET /schema/2026-01-1.json': [{ method: 'GET', path: '/schema/1999-01-1.json', status: 404, code: 'not_found' }],
  'GET /.well-known/webfinger': [
    { method: 'GET', path: '/.well-known/webfinger', status: 400, code: 'bad_request' },
    { method: 'GET', path: '/.well-known/webfinger?resource=a&resource=b', status: 400, code: 'bad_request' },
    { method: 'GET', path: `/.well-known/webfinger?resource=${encodeURIComponent('acct:acme.morning-show@elsewhere.example')}`, status: 404, code: 'not_found' },
    { method: 'GET', path: `/.well-known/webfinger?resource=${encodeURIComponent('acct:acme.nobody@127.0.0.1')}`, status: 404, code: 'not_found' },
    { method: 'GET', path: '/.well-known/webfinger?resource=%00%ff', status: 404, code: 'not_found' },
    { method: 'POST', path: '/.well-known/webfinger', status: 405, code: 'method_not_allowed' },
  ],
  'GET /ap/actors/:handle, .../outbox, .../followers': [
    { method: 'GET', path: '/ap/actors/acme.nobody', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/ACME!.x', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/acme.morning-show.extra', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/..%2F..%2Fpackage.json', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/acme.nobody/outbox', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/acme.nobody/followers', status: 404, code: 'not_found' },
    { method: 'DELETE', path: '/ap/actors/acme.morning-show', status: 405, code: 'method_not_allowed' },
    { method: 'POST', path: '/ap/actors/acme.morning-show/outbox', status: 405, code: 'method_not_allowed' },
    { method: 'PUT', path: '/ap/actors/acme.morning-show/followers', status: 405, code: 'method_not_allowed' },
  ],
  'POST /ap/actors/:handle/inbox': [
    { method: 'POST', path: '/ap/actors/acme.morning-show/inbox', headers: ACTIVITY_TYPE, body: '{"type":"Follow"}', status: 401, code: 'unauthorized' },
    { method: 'POST', path: '/ap/actors/acme.morning-show/inbox', headers: { ...ACTIVITY_TYPE, Signature: 'keyId="x"' }, body: '{}', status: 401, code: 'unauthorized' },
    { method: 'POST', path: '/ap/actors/acme.morning-show/inbox', headers: { ...ACTIVITY_TYPE, Signature: 'garbage' }, body: '{}', status: 401, code: 'unauthorized' },
    {
      method: 'POST',
      path: '/ap/actors/acme.morning-show/inbox',
      headers: { ...ACTIVITY_TYPE, Signature: 'keyId="https://a.example/u#k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"', Date: 'yesterday' },
      body: '{}',
      status: 401,
      code: 'unauthorized',
    },
    {
      method: 'POST',
      path: '/ap/actors/acme.morning-show/inbox',
      headers: { ...ACTIVITY_TYPE, Signature: 'keyId="https://a.example/u#k",algorithm="hmac-sha1",headers="(request-target) host date digest",signature="AAAA"' },
      body: '{}',
      status: 401,
      code: 'unauthorized',
    },
    { method: 'POST', path: '/ap/actors/acme.morning-show/inbox', headers: ACTIVITY_TYPE, body: 'x'.repeat(300 * 1024), status: 413, code: 'payload_too_large' },
    { method: 'POST', path: '/ap/actors/acme.nobody/inbox', headers: ACTIVITY_TYPE, body: '{}', status: 404, code: 'not_found' },
    { method: 'GET', path: '/ap/actors/acme.morning-show/inbox', status: 405, code: 'method_not_allowed' },
  ],
  '/api/v1/federation/blocks, .../channels/:publisher/:slug/followers, .../dead-letters': [
    { method: 'POST', path: '/api/v1/federation/blocks', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"kind":"ip","value":"10.0.0.1"}', status: 400, code: 'invalid_body' },
    { method: 'POST', path: '/api/v1/federation/blocks', headers: { ...JSON_TYPE, ...ADMIN }, body: '{"kind":"domain","value":""}', status: 400, code: 'invalid_body' },
    { method: 'DELETE', path: '/api/v1/federation/blocks/unknown', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'DELETE', path: `/api/v1/federation/blocks/domain.${'0'.repeat(32)}`, headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'GET', path: '/api/v1/federation/channels/ACME!/x/followers', headers: ADMIN, status: 400, code: 'invalid_channel' },
    { method: 'GET', path: '/api/v1/federation/channels/acme/unknown/followers', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'GET', path: `/api/v1/federation/channels/${TEST_CHANNEL}/followers?limit=0`, headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'GET', path: `/api/v1/federation/channels/${TEST_CHANNEL}/followers?after=zz`, headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'DELETE', path: `/api/v1/federation/channels/${TEST_CHANNEL}/followers/nope`, headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'GET', path: '/api/v1/federation/dead-letters?limit=abc', headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/federation/dead-letters?limit=201', headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/federation/dead-letters?after=%25%25', headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/federation/dead-letters?bogus=1', headers: ADMIN, status: 400, code: 'bad_request' },
    { method: 'GET', path: '/api/v1/federation/dead-letters/unknown', headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'POST', path: `/api/v1/federation/dead-letters/fed_${'0'.repeat(32)}/retry`, headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'DELETE', path: `/api/v1/federation/dead-letters/fed_${'0'.repeat(32)}`, headers: ADMIN, status: 404, code: 'not_found' },
    { method: 'PUT', path: '/api/v1/federation/dead-letters', headers: ADMIN, status: 405, code: 'method_not_allowed' },
  ],
  'GET /healthz, /readyz, /metrics': [
    { method: 'POST', path: '/healthz', status: 405, code: 'method_not_allowed' },
    { method: 'POST', path: '/readyz', status: 405, code: 'method_not_allowed' },
    { method: 'POST', path: '/metrics', status: 405, code: 'method_not_allowed' },
  ],
};

/** Every route that takes a JSON body: what the body-reading step refuses, the same for all of them. */
const JSON_BODY_ROUTES: ReadonlyArray<{ readonly method: string; readonly path: string; readonly admin: boolean }> = [
  { method: 'PUT', path: '/api/v1/channels/acme/body-checks', admin: true },
  { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/twitch/authorize`, admin: true },
  { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/bluesky`, admin: true },
  { method: 'POST', path: '/api/v1/uploads/token', admin: false },
  { method: 'POST', path: `/api/v1/moderation/${NO_UPLOAD}/decision`, admin: true },
  { method: 'POST', path: '/api/v1/moderation/blocklist', admin: true },
  { method: 'POST', path: '/api/v1/webhooks/subscribers', admin: true },
  { method: 'POST', path: '/api/v1/federation/blocks', admin: true },
];

/** Every route behind a bearer token (admin, or admin or moderator). */
const GUARDED_ROUTES: ReadonlyArray<{ readonly method: string; readonly path: string; readonly moderatorToo: boolean }> = [
  { method: 'PUT', path: '/api/v1/channels/acme/guarded', moderatorToo: false },
  { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/twitch/authorize`, moderatorToo: false },
  { method: 'POST', path: `/api/v1/channels/${TEST_CHANNEL}/links/bluesky`, moderatorToo: false },
  { method: 'GET', path: `/api/v1/channels/${TEST_CHANNEL}/links`, moderatorToo: false },
  { method: 'DELETE', path: `/api/v1/channels/${TEST_CHANNEL}/links/twitch`, moderatorToo: false },
  { method: 'GET', path: '/api/v1/moderation/queue', moderatorToo: true },
  { method: 'POST', path: `/api/v1/moderation/${NO_UPLOAD}/decision`, moderatorToo: true },
  { method: 'GET', path: `/api/v1/moderation/${NO_UPLOAD}/media`, moderatorToo: true },
  { method: 'GET', path: '/api/v1/moderation/blocklist', moderatorToo: false },
  { method: 'POST', path: '/api/v1/moderation/blocklist', moderatorToo: false },
  { method: 'DELETE', path: '/api/v1/moderation/blocklist/unknown', moderatorToo: false },
  { method: 'GET', path: '/api/v1/audit', moderatorToo: false },
  { method: 'GET', path: '/api/v1/webhooks/subscribers', moderatorToo: false },
  { method: 'POST', path: '/api/v1/webhooks/subscribers', moderatorToo: false },
  { method: 'GET', path: '/api/v1/webhooks/subscribers/unknown/deliveries', moderatorToo: false },
  { method: 'GET', path: '/api/v1/webhooks/dead-letters', moderatorToo: false },
  { method: 'GET', path: '/api/v1/federation/blocks', moderatorToo: false },
  { method: 'POST', path: '/api/v1/federation/blocks', moderatorToo: false },
  { method: 'DELETE', path: '/api/v1/federation/blocks/unknown', moderatorToo: false },
  { method: 'GET', path: `/api/v1/federation/channels/${TEST_CHANNEL}/followers`, moderatorToo: false },
  { method: 'DELETE', path: `/api/v1/federation/channels/${TEST_CHANNEL}/followers/unknown`, moderatorToo: false },
  { method: 'GET', path: '/api/v1/federation/dead-letters', moderatorToo: false },
  { method: 'GET', path: '/api/v1/federation/dead-letters/unknown', moderatorToo: false },
  { method: 'POST', path: '/api/v1/federation/dead-letters/unknown/retry', moderatorToo: false },
  { method: 'DELETE', path: '/api/v1/federation/dead-letters/unknown', moderatorToo: false },
];

/** Reads an error answer and checks its shape: JSON, `{ error: { code, message } }` and nothing else, a message in words. */
async function errorOf(response: Response, label: string): Promise<{ code: string; message: string }> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, `${label}: an error is JSON`);
  const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
  assert.deepEqual(Object.keys(body), ['error'], `${label}: only "error" at the top`);
  assert.deepEqual(Object.keys(body.error ?? {}).sort(), ['code', 'message'], `${label}: error has code and message`);
  assert.equal(typeof body.error!.code, 'string', label);
  assert.match(body.error!.code as string, /^[a-z][a-z_]*$/, `${label}: a snake_case code`);
  assert.equal(typeof body.error!.message, 'string', label);
  assert.ok((body.error!.message as string).length > 0, `${label}: a message`);
  return body.error as { code: string; message: string };
}

describeEachBus('public API errors: the status and { error: { code, message } } of every route', (bus) => {
  let server: TestServer;
  let helix: FakeHelix;
  let google: FakeGoogleOAuth;
  let youtube: FakeYouTubeDataApi;
  let hub: FakeWebSubHub;

  before(async () => {
    helix = await startFakeHelix();
    google = await startFakeGoogleOAuth({ user: { channelId: 'UCerrorserrorserrorserr01' } });
    youtube = await startFakeYouTubeDataApi({ apiKey: YOUTUBE_API_KEY, resolveUserToken: (token) => google.tokenInfo(token) });
    hub = await startFakeWebSubHub();
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      env: {
        MODERATOR_TOKENS: MODERATOR_TOKEN,
        TWITCH_CLIENT_ID: helix.clientId,
        TWITCH_CLIENT_SECRET: helix.clientSecret,
        TWITCH_API_BASE_URL: helix.url,
        TWITCH_AUTH_BASE_URL: helix.url,
        YOUTUBE_API_KEY,
        YOUTUBE_WEBSUB_HUB_URL: hub.subscribeUrl,
        YOUTUBE_DATA_API_BASE_URL: youtube.baseUrl,
        GOOGLE_CLIENT_ID: google.clientId,
        GOOGLE_CLIENT_SECRET: google.clientSecret,
        GOOGLE_AUTH_BASE_URL: google.url,
        GOOGLE_TOKEN_BASE_URL: google.url,
        TOKEN_ENCRYPTION_KEYS: tokenKeyRing(),
        LINK_RETURN_TO_ORIGINS: PUBLISHER_ORIGIN,
        BLUESKY_JETSTREAM_URL: 'off',
      },
    });
  });
  after(async () => {
    await server?.close();
    await Promise.all([helix?.close(), google?.close(), youtube?.close(), hub?.close()]);
  });

  for (const [route, cases] of Object.entries(ROUTE_ERRORS)) {
    it(`${route}: wrong requests get their status and error code`, async () => {
      for (const { method, path, headers, body, status, code } of cases) {
        const url = typeof path === 'string' ? path : path(server.url);
        const label = `${method} ${url}`;
        const response = await server.request(url, { method, headers, body });
        assert.equal(response.status, status, `${label}: status`);
        assert.equal((await errorOf(response, label)).code, code, `${label}: code`);
        // RFC 9110 15.5.6: a 405 names the methods the resource has.
        if (status === 405) assert.match(response.headers.get('allow') ?? '', /^[A-Z]+(, [A-Z]+)*$/, `${label}: Allow`);
      }
    });
  }

  it('a method no route knows is 501 not_implemented, JSON, not an internal error', async () => {
    const response = await server.request('/api/v1/streams', { method: 'PROPFIND' });
    assert.equal(response.status, 501);
    assert.equal((await errorOf(response, 'PROPFIND /api/v1/streams')).code, 'not_implemented');
  });

  it('every JSON body: invalid JSON is 400 invalid_json, the wrong shape 400 invalid_body, another type 415, over the limit 413', async () => {
    const oversize = JSON.stringify({ title: 'x'.repeat(70 * 1024) });
    const cases: ReadonlyArray<[string, Record<string, string>, string, number, string]> = [
      ['invalid JSON', JSON_TYPE, '{"channel": {', 400, 'invalid_json'],
      ['an array', JSON_TYPE, '[]', 400, 'invalid_body'],
      ['a string', JSON_TYPE, '"yes"', 400, 'invalid_body'],
      ['text/plain', { 'Content-Type': 'text/plain' }, '{}', 415, 'unsupported_media_type'],
      ['over 64 KiB', JSON_TYPE, oversize, 413, 'payload_too_large'],
    ];
    for (const { method, path, admin } of JSON_BODY_ROUTES) {
      for (const [what, headers, body, status, code] of cases) {
        const label = `${method} ${path} with ${what}`;
        const response = await server.request(path, { method, admin, headers, body });
        assert.equal(response.status, status, `${label}: status`);
        assert.equal((await errorOf(response, label)).code, code, `${label}: code`);
      }
    }
  });

  it('POST /webhooks/twitch: a body over 1 MiB is 413 before any signature is checked', async () => {
    const response = await server.request('/webhooks/twitch', { method: 'POST', headers: JSON_TYPE, body: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(response.status, 413);
    assert.equal((await errorOf(response, 'twitch oversize')).code, 'payload_too_large');
  });

  it('every guarded route: no bearer, a wrong one or another scheme is 401 unauthorized with WWW-Authenticate: Bearer', async () => {
    const wrong = [undefined, `Bearer ${TEST_ADMIN_TOKEN}x`, `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`, `Basic ${TEST_ADMIN_TOKEN}`, 'Bearer ', TEST_ADMIN_TOKEN];
    for (const { method, path } of GUARDED_ROUTES) {
      for (const authorization of wrong) {
        const label = `${method} ${path} with ${authorization === undefined ? 'no Authorization' : JSON.stringify(authorization)}`;
        const headers: Record<string, string> = { ...JSON_TYPE, ...(authorization === undefined ? {} : { Authorization: authorization }) };
        const response = await server.request(path, { method, headers, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
        assert.equal(response.status, 401, `${label}: status`);
        assert.equal((await errorOf(response, label)).code, 'unauthorized', `${label}: code`);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer\b/, `${label}: WWW-Authenticate`);
      }
    }
  });

  it('the moderator token opens the review routes only; the scheme is case-insensitive (RFC 7235)', async () => {
    for (const { method, path, moderatorToo } of GUARDED_ROUTES.filter((route) => route.method === 'GET')) {
      const moderator = await server.request(path, { headers: { Authorization: `Bearer ${MODERATOR_TOKEN}` } });
      const label = `GET ${path} as moderator`;
      if (moderatorToo) {
        assert.notEqual(moderator.status, 401, label);
        await moderator.body?.cancel();
      } else {
        assert.equal(moderator.status, 401, label);
        assert.equal((await errorOf(moderator, label)).code, 'unauthorized', label);
      }
      for (const scheme of ['bearer', 'BEARER']) {
        const response = await server.request(path, { method, headers: { Authorization: `${scheme} ${TEST_ADMIN_TOKEN}` } });
        assert.notEqual(response.status, 401, `GET ${path} as admin with scheme ${scheme}`);
        await response.body?.cancel();
      }
    }
  });
});
