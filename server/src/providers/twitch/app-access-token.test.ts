import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFakeHelix, type FakeHelix } from '../../../../test/fakes/twitch/helix.js';
import { AppAccessToken, TwitchAuthError } from './app-access-token.js';

describe('AppAccessToken (client credentials against the fake Twitch token endpoint)', () => {
  let twitch: FakeHelix;
  before(async () => {
    twitch = await startFakeHelix({ tokenLifetimeSeconds: 1000 });
  });
  after(() => twitch.close());

  const tokenFor = (overrides: Partial<ConstructorParameters<typeof AppAccessToken>[0]> = {}) =>
    new AppAccessToken({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret, ...overrides });

  it('fetches a token once and serves it from the cache, also to concurrent callers', async () => {
    const issuedBefore = twitch.tokensIssued();
    const token = tokenFor();
    const [first, second] = await Promise.all([token.get(), token.get()]);
    assert.equal(first, second);
    assert.equal(await token.get(), first);
    assert.equal(twitch.tokensIssued() - issuedBefore, 1);
  });

  it('fetches a new token shortly before expires_in runs out', async () => {
    let nowMs = 1_000_000;
    const token = tokenFor({ now: () => nowMs, refreshMarginMs: 60_000 });
    const first = await token.get();
    nowMs += 1000 * 1000 - 60_001; // 1000 s lifetime, 60 s margin: still fresh
    assert.equal(await token.get(), first);
    nowMs += 2;
    const second = await token.get();
    assert.notEqual(second, first);
  });

  it('fetches anew after invalidate, but keeps a newer token when an old one is invalidated', async () => {
    const token = tokenFor();
    const first = await token.get();
    token.invalidate(first);
    const second = await token.get();
    assert.notEqual(second, first);
    token.invalidate(first);
    assert.equal(await token.get(), second);
  });

  it('rejects a wrong client id or secret with a typed error that does not carry the secret', async () => {
    await assert.rejects(tokenFor({ clientId: 'someone-else' }).get(), (error: unknown) => error instanceof TwitchAuthError && error.status === 400);
    await assert.rejects(tokenFor({ clientSecret: 'not-the-secret' }).get(), (error: unknown) => {
      assert.ok(error instanceof TwitchAuthError);
      assert.equal(error.status, 403);
      assert.doesNotMatch(error.message, /not-the-secret/);
      return true;
    });
  });

  it('rejects malformed token answers and an unreachable endpoint', async () => {
    const answers = [
      { status: 200, body: '{"access_token":' },
      { status: 200, body: '{"access_token":"x"}' },
      { status: 200, body: '{"access_token":"","expires_in":100}' },
      { status: 200, body: '{"access_token":"abc","expires_in":-5}' },
      { status: 200, body: '[]' },
      { status: 500, body: '<html>oops</html>' },
    ];
    let next = 0;
    const hostile = createServer((_request, response) => {
      const answer = answers[next++]!;
      response.writeHead(answer.status, { 'Content-Type': 'application/json' });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      for (const answer of answers) {
        await assert.rejects(tokenFor({ authBaseUrl: url }).get(), TwitchAuthError, answer.body);
      }
    } finally {
      hostile.closeAllConnections();
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
    await assert.rejects(tokenFor({ authBaseUrl: 'http://127.0.0.1:9' }).get(), (error: unknown) => error instanceof TwitchAuthError && error.status === 0);
  });
});
