import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGoogleOAuth, type FakeGoogleOAuth } from '../../../test/fakes/google/oauth.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../../../test/fakes/youtube/data-api.js';
import { GoogleOAuth, YOUTUBE_READONLY_SCOPE } from './google-oauth.js';
import { OAuthGrantError, OAuthUnavailableError } from './oauth-client.js';
import { codeChallengeS256, createCodeVerifier } from './pkce.js';

const REDIRECT = 'https://live.example/oauth/youtube/callback';
const CHANNEL = 'UCgooglegooglegooglego01';

describe('Google OAuth and YouTube identity against the fakes', () => {
  let google: FakeGoogleOAuth;
  let youtube: FakeYouTubeDataApi;
  let oauth: GoogleOAuth;

  before(async () => {
    google = await startFakeGoogleOAuth({ user: { channelId: CHANNEL } });
    youtube = await startFakeYouTubeDataApi({ apiKey: 'api-key-0123456789', resolveUserToken: (token) => google.tokenInfo(token) });
    youtube.addChannel(CHANNEL, 'Google Channel');
    oauth = new GoogleOAuth({ authBaseUrl: google.url, tokenBaseUrl: google.url, dataApiBaseUrl: youtube.baseUrl, clientId: google.clientId, clientSecret: google.clientSecret });
  });
  after(async () => {
    await Promise.all([google.close(), youtube.close()]);
  });

  const grant = async () => {
    const verifier = createCodeVerifier();
    const response = await fetch(oauth.authorizeUrl({ state: 'st', codeChallenge: codeChallengeS256(verifier), redirectUri: REDIRECT }), { redirect: 'manual' });
    const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
    return oauth.exchangeCode(code, verifier, REDIRECT);
  };

  it('exchanges with PKCE, identifies the channel with mine=true, refreshes and revokes', async () => {
    const tokens = await grant();
    assert.deepEqual(tokens.scopes, [YOUTUBE_READONLY_SCOPE]);
    assert.ok(tokens.refreshToken);
    assert.deepEqual(await oauth.identify(tokens.accessToken), { accountId: CHANNEL, displayName: 'Google Channel' });
    const call = youtube.calls.at(-1)!;
    assert.deepEqual(call.params, { part: 'id,snippet', mine: 'true' });
    const refreshed = await oauth.refresh(tokens.refreshToken!);
    assert.equal(refreshed.refreshToken, null);
    await oauth.revoke(tokens.refreshToken!);
    await assert.rejects(oauth.refresh(tokens.refreshToken!), (error) => error instanceof OAuthGrantError && /invalid_grant/.test(error.message));
    await assert.rejects(oauth.identify(refreshed.accessToken), (error) => error instanceof OAuthGrantError && error.status === 401);
    await assert.rejects(oauth.revoke('ya29.unknown'), /Token expired or revoked/);
  });

  it('refuses an account without a channel and treats invalid_client and 5xx as unavailable', async () => {
    google.authorizeAs({ channelId: 'UCnochannelnochannelno01' });
    try {
      const tokens = await grant();
      await assert.rejects(oauth.identify(tokens.accessToken), /no YouTube channel/);
    } finally {
      google.authorizeAs({ channelId: CHANNEL });
    }
    const wrongClient = new GoogleOAuth({ authBaseUrl: google.url, tokenBaseUrl: google.url, dataApiBaseUrl: youtube.baseUrl, clientId: google.clientId, clientSecret: 'wrong' });
    await assert.rejects(wrongClient.refresh('1//x'), OAuthUnavailableError);
    google.respondNextToken(500, { error: 'internal_failure' });
    await assert.rejects(oauth.refresh('1//x'), OAuthUnavailableError);
  });

  it('speaks Google error shapes on hostile token requests', async () => {
    const post = (body: Record<string, string>) =>
      fetch(`${google.url}/token`, { method: 'POST', body: new URLSearchParams({ client_id: google.clientId, client_secret: google.clientSecret, ...body }) });
    const unsupported = await post({ grant_type: 'password' });
    assert.equal(unsupported.status, 400);
    assert.equal(((await unsupported.json()) as { error: string }).error, 'unsupported_grant_type');
    const forged = await post({ grant_type: 'authorization_code', code: '4/forged', redirect_uri: REDIRECT });
    assert.deepEqual(await forged.json(), { error: 'invalid_grant', error_description: 'Malformed auth code.' });
    const mine = await fetch(`${youtube.baseUrl}/youtube/v3/channels?part=id&mine=true&key=api-key-0123456789`);
    assert.equal(mine.status, 401, 'mine=true needs a user token');
  });
});
