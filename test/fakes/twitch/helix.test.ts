import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeHelix, type FakeHelix } from './helix.js';

/** The fake itself, spoken to with raw HTTP: Twitch's status codes and error shapes. */
describe('fake Helix', () => {
  let twitch: FakeHelix;
  let token: string;
  const helix = (path: string, init: RequestInit & { token?: string; clientId?: string } = {}) => {
    const { token: bearer = token, clientId = twitch.clientId, ...rest } = init;
    return fetch(`${twitch.url}/helix/eventsub/subscriptions${path}`, {
      ...rest,
      headers: { 'Client-Id': clientId, Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', ...(rest.headers as Record<string, string> | undefined) },
    });
  };

  before(async () => {
    twitch = await startFakeHelix();
    const response = await fetch(`${twitch.url}/oauth2/token?client_id=${twitch.clientId}&client_secret=${twitch.clientSecret}&grant_type=client_credentials`, { method: 'POST' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { access_token: string; expires_in: number; token_type: string };
    assert.equal(body.token_type, 'bearer');
    assert.ok(body.expires_in > 0);
    token = body.access_token;
  });
  after(() => twitch.close());

  it('refuses a wrong grant type at the token endpoint', async () => {
    const response = await fetch(`${twitch.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: twitch.clientId, client_secret: twitch.clientSecret, grant_type: 'password' }),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { status: 400, message: 'unsupported grant type' });
  });

  it('answers 401 in the Helix error shape without a valid token or with another client id', async () => {
    for (const init of [{ token: 'forged' }, { clientId: 'other-client' }]) {
      const response = await helix('', init);
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: string; status: number; message: string };
      assert.equal(body.error, 'Unauthorized');
      assert.equal(body.status, 401);
    }
  });

  it('answers 400 to hostile create bodies', async () => {
    const good = { type: 'stream.online', version: '1', condition: { broadcaster_user_id: '1' }, transport: { method: 'webhook', callback: 'http://127.0.0.1:9/cb', secret: 'secret-of-length' } };
    for (const body of [
      '{',
      '[]',
      JSON.stringify({ ...good, type: undefined }),
      JSON.stringify({ ...good, version: '9' }),
      JSON.stringify({ ...good, condition: { broadcaster_user_id: 'not-a-number' } }),
      JSON.stringify({ ...good, transport: { ...good.transport, method: 'websocket' } }),
      JSON.stringify({ ...good, transport: { ...good.transport, callback: 'javascript:alert(1)' } }),
      JSON.stringify({ ...good, transport: { ...good.transport, secret: 'x'.repeat(101) } }),
    ]) {
      const response = await helix('', { method: 'POST', body });
      assert.equal(response.status, 400, body);
      assert.equal(((await response.json()) as { status: number }).status, 400);
    }
    assert.equal(twitch.subscriptions().length, 0);
  });

  it('answers 400 to two filters, a forged cursor and a delete without id; 404 to an unknown id', async () => {
    assert.equal((await helix('?status=enabled&type=stream.online')).status, 400);
    assert.equal((await helix('?after=not-a-cursor')).status, 400);
    assert.equal((await helix('', { method: 'DELETE' })).status, 400);
    assert.equal((await helix('?id=nope', { method: 'DELETE' })).status, 404);
  });

  it('carries Ratelimit headers and answers 429 when told to', async () => {
    const ok = await helix('');
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('Ratelimit-Reset') ?? '', /^\d+$/);
    twitch.rateLimitNext(1, 3_000);
    const limited = await helix('');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('Ratelimit-Reset')) * 1000 >= Date.now());
    assert.equal((await helix('')).status, 200);
  });
});
