import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { OAuthGrantError, OAuthUnavailableError } from './oauth-client.js';
import { codeChallengeS256, createCodeVerifier } from './pkce.js';
import { TwitchOAuth } from './twitch-oauth.js';

const REDIRECT = 'https://live.example/oauth/twitch/callback';

describe('Twitch OAuth against the id.twitch.tv fake', () => {
  let twitch: FakeHelix;
  let oauth: TwitchOAuth;

  before(async () => {
    twitch = await startFakeHelix({ oauthUser: { user_id: '4242', login: 'StreamerOne' } });
    oauth = new TwitchOAuth({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret });
  });
  after(() => twitch.close());

  const codeFor = async (verifier: string, redirectUri = REDIRECT) => {
    const url = oauth.authorizeUrl({ state: 'st', codeChallenge: codeChallengeS256(verifier), redirectUri });
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 302);
    const back = new URL(response.headers.get('location')!);
    assert.equal(back.searchParams.get('state'), 'st');
    return back.searchParams.get('code')!;
  };

  it('exchanges a code once, identifies the user, refreshes with rotation and revokes', async () => {
    const verifier = createCodeVerifier();
    const code = await codeFor(verifier);
    const tokens = await oauth.exchangeCode(code, verifier, REDIRECT);
    assert.ok(tokens.refreshToken);
    assert.ok((tokens.expiresInSeconds ?? 0) > 0);
    assert.deepEqual(await oauth.identify(tokens.accessToken), { accountId: '4242', displayName: 'streamerone' });
    await assert.rejects(oauth.exchangeCode(code, verifier, REDIRECT), (error) => error instanceof OAuthGrantError && /Invalid authorization code/.test(error.message));

    const refreshed = await oauth.refresh(tokens.refreshToken!);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
    await assert.rejects(oauth.refresh(tokens.refreshToken!), (error) => error instanceof OAuthGrantError && error.status === 400 && /Invalid refresh token/.test(error.message));

    await oauth.revoke(refreshed.accessToken);
    await assert.rejects(oauth.identify(refreshed.accessToken), OAuthGrantError);
    await assert.rejects(oauth.refresh(refreshed.refreshToken!), OAuthGrantError, 'revoking ends the grant');
    await assert.rejects(oauth.revoke(refreshed.accessToken), OAuthGrantError);
  });

  it('refuses a code for another redirect_uri or with the wrong PKCE verifier', async () => {
    const verifier = createCodeVerifier();
    await assert.rejects(oauth.exchangeCode(await codeFor(verifier, 'https://evil.example/cb'), verifier, REDIRECT), /redirect_uri/);
    await assert.rejects(oauth.exchangeCode(await codeFor(verifier), createCodeVerifier(), REDIRECT), OAuthGrantError);
  });

  it('treats an expired access token as refused and wrong client credentials or an unreachable host as unavailable', async () => {
    const verifier = createCodeVerifier();
    const tokens = await oauth.exchangeCode(await codeFor(verifier), verifier, REDIRECT);
    twitch.expireUserTokens();
    await assert.rejects(oauth.identify(tokens.accessToken), (error) => error instanceof OAuthGrantError && error.status === 401);
    const wrongSecret = new TwitchOAuth({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: 'not-the-secret-0123' });
    await assert.rejects(wrongSecret.refresh(tokens.refreshToken!), OAuthUnavailableError);
    const nowhere = new TwitchOAuth({ authBaseUrl: 'http://127.0.0.1:1', clientId: twitch.clientId, clientSecret: twitch.clientSecret });
    await assert.rejects(nowhere.refresh('x'), OAuthUnavailableError);
  });

  it('refuses a token the fake says belongs to another client', async () => {
    const other = await startFakeHelix({ clientId: 'otherclient0123456789abcdef' });
    try {
      const otherOAuth = new TwitchOAuth({ authBaseUrl: other.url, clientId: other.clientId, clientSecret: other.clientSecret });
      const verifier = createCodeVerifier();
      const response = await fetch(otherOAuth.authorizeUrl({ state: 's', codeChallenge: codeChallengeS256(verifier), redirectUri: REDIRECT }), { redirect: 'manual' });
      const tokens = await otherOAuth.exchangeCode(new URL(response.headers.get('location')!).searchParams.get('code')!, verifier, REDIRECT);
      // Our client asks the other app's validate endpoint: client_id differs.
      const ours = new TwitchOAuth({ authBaseUrl: other.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret });
      await assert.rejects(ours.identify(tokens.accessToken), /issued to another client/);
    } finally {
      await other.close();
    }
  });
});
