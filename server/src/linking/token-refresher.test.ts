import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startFakeGoogleOAuth, type FakeGoogleOAuth } from '../../../test/fakes/google/oauth.js';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { AuditLog, auditRecordSchema } from '../audit/index.js';
import { BUCKETS, STREAMS, createMemoryBus, createNatsBus, decodeJson, decodeText, type Bus } from '../bus/index.js';
import { GoogleOAuth } from './google-oauth.js';
import { LinkedAccountStore } from './linked-account-store.js';
import { codeChallengeS256 } from './pkce.js';
import { TokenRefresher } from './token-refresher.js';
import { TokenVault } from './token-vault.js';
import { TwitchOAuth } from './twitch-oauth.js';

const REDIRECT = 'http://127.0.0.1:9/oauth/twitch/callback';
const GOOGLE_REDIRECT = 'http://127.0.0.1:9/oauth/youtube/callback';

describeEachBus('token refresher', (under) => {
  let bus: Bus;
  let twitch: FakeHelix;
  let google: FakeGoogleOAuth;
  let twitchOAuth: TwitchOAuth;
  let googleOAuth: GoogleOAuth;
  let store: LinkedAccountStore;
  let refresher: TokenRefresher;

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'token-refresher-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    twitch = await startFakeHelix({ userTokenLifetimeSeconds: 60 });
    google = await startFakeGoogleOAuth();
    twitchOAuth = new TwitchOAuth({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret });
    googleOAuth = new GoogleOAuth({ authBaseUrl: google.url, tokenBaseUrl: google.url, dataApiBaseUrl: 'http://127.0.0.1:9', clientId: google.clientId, clientSecret: google.clientSecret });
    store = await LinkedAccountStore.open(bus, TokenVault.fromKeyRing(`k1:${randomBytes(32).toString('base64')}`));
    refresher = new TokenRefresher({ store, oauth: { twitch: twitchOAuth, youtube: googleOAuth }, audit: new AuditLog(bus), marginMs: 5 * 60 * 1000, intervalMs: 3_600_000 });
  });
  after(async () => {
    await refresher.stop();
    await Promise.all([twitch.close(), google.close()]);
    await bus.close();
  });

  /** A real grant from the fake: consent, code, exchange. */
  const twitchGrant = async (userId: string) => {
    twitch.authorizeAs({ user_id: userId, login: `user${userId}` });
    const authorize = new URL(twitchOAuth.authorizeUrl({ state: 's', codeChallenge: 'c', redirectUri: REDIRECT }));
    authorize.searchParams.delete('code_challenge_method');
    const code = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const tokens = await twitchOAuth.exchangeCode(code, 'unused', REDIRECT);
    await store.save({
      provider: 'twitch',
      accountId: userId,
      displayName: `user${userId}`,
      channel: `acme/c${userId}`,
      scopes: [],
      secrets: { access_token: tokens.accessToken, refresh_token: tokens.refreshToken },
      expiresAtMs: Date.now() + tokens.expiresInSeconds! * 1000,
    });
    return tokens;
  };
  const auditRecords = async () => (await bus.readLatest(STREAMS.audit.name, { limit: 100 })).map((message) => decodeJson(message.data, auditRecordSchema));

  it('refreshes a token close to expiry; Twitch rotates the refresh token', async () => {
    const first = await twitchGrant('101');
    const sweep = await refresher.refreshDue();
    assert.equal(sweep.refreshed, 1);
    const secrets = await store.withSecrets('twitch', '101', (opened) => opened);
    assert.notEqual(secrets?.access_token, first.accessToken);
    assert.notEqual(secrets?.refresh_token, first.refreshToken, 'the rotated refresh token was stored');
    assert.ok(twitch.userTokens().refresh.includes(secrets!.refresh_token!));
    assert.deepEqual(await twitchOAuth.identify(secrets!.access_token!), { accountId: '101', displayName: 'user101' });
    const view = await store.get('twitch', '101');
    assert.ok(Date.parse(view!.expires_at!) > Date.now() + 50_000);
  });

  it('marks a link needs_reauth and audits it when the provider refuses the refresh token', async () => {
    await twitchGrant('102');
    twitch.invalidateRefreshTokens();
    const sweep = await refresher.refreshDue();
    assert.equal(sweep.needsReauth, 2, 'both Twitch links hold refresh tokens the fake no longer knows');
    const view = await store.get('twitch', '102');
    assert.equal(view?.status, 'needs_reauth');
    assert.equal(view?.status_reason, 'refresh_refused');
    const record = (await auditRecords()).find((entry) => entry.details?.['account_id'] === '102');
    assert.equal(record?.actor, 'token-refresher');
    assert.equal(record?.reason, 'refresh_refused');
    assert.equal(record?.target, 'acme/c102');
    assert.match(String(record?.details?.['message']), /Invalid refresh token/);
    assert.equal((await refresher.refreshDue()).needsReauth, 0, 'a link that needs reauth is left alone');
  });

  it('retries a transient failure later and keeps the link active (Google, PKCE-bound code)', async () => {
    const code = new URL(
      (await fetch(googleOAuth.authorizeUrl({ state: 's', codeChallenge: 'x'.repeat(43), redirectUri: GOOGLE_REDIRECT }), { redirect: 'manual' })).headers.get('location')!,
    ).searchParams.get('code')!;
    // The fake checks PKCE: exchange with the wrong verifier is invalid_grant.
    await assert.rejects(googleOAuth.exchangeCode(code, 'wrong-verifier', GOOGLE_REDIRECT), /invalid_grant/);
    const verifier = 'v'.repeat(43);
    const good = new URL((await fetch(googleOAuth.authorizeUrl({ state: 's', codeChallenge: codeChallengeS256(verifier), redirectUri: GOOGLE_REDIRECT }), { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const tokens = await googleOAuth.exchangeCode(good, verifier, GOOGLE_REDIRECT);
    assert.ok(tokens.refreshToken, 'offline access gives a refresh token');
    await store.save({
      provider: 'youtube',
      accountId: 'UC_x5XG1OV2P6uZZ5FSM9Ttw',
      displayName: 'tube',
      channel: 'acme/tube',
      scopes: tokens.scopes,
      secrets: { access_token: tokens.accessToken, refresh_token: tokens.refreshToken },
      expiresAtMs: Date.now() + 60_000,
    });
    google.respondNextToken(503, { error: 'backend_error' });
    const failed = await refresher.refreshDue();
    assert.equal(failed.retryLater, 1);
    assert.equal((await store.get('youtube', 'UC_x5XG1OV2P6uZZ5FSM9Ttw'))?.status, 'active');
    const retried = await refresher.refreshDue();
    assert.equal(retried.refreshed, 1, 'the lease was released, so the next sweep refreshes');
    const secrets = await store.withSecrets('youtube', 'UC_x5XG1OV2P6uZZ5FSM9Ttw', (opened) => opened);
    assert.equal(secrets?.refresh_token, tokens.refreshToken, 'Google keeps the refresh token');
    assert.equal(google.tokenInfo(secrets!.access_token!)?.channelId, 'UC_x5XG1OV2P6uZZ5FSM9Ttw');
  });

  it('marks a link whose sealed refresh token was tampered with as needs_reauth', async () => {
    await twitchGrant('103');
    const bucket = await bus.kv(BUCKETS.linkedAccounts);
    const entry = (await bucket.get('twitch.103'))!;
    const record = JSON.parse(decodeText(entry.value)) as { refresh_token: string };
    const parts = record.refresh_token.split('.');
    parts[2] = Buffer.from(randomBytes(12)).toString('base64url');
    await bucket.put(entry.key, new TextEncoder().encode(JSON.stringify({ ...record, refresh_token: parts.join('.') })));
    const sweep = await refresher.refreshDue();
    assert.equal(sweep.needsReauth, 1);
    assert.equal((await store.get('twitch', '103'))?.status_reason, 'credentials_unreadable');
  });
});
