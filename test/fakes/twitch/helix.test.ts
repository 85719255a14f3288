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

  it('lists videos as Get Videos does: auth checked, one selector, type filter, first and a cursor', async () => {
    twitch.addVideo({ user_id: '8001', id: '801', stream_id: '61', created_at: '2026-04-01T00:00:00Z' });
    twitch.addVideo({ user_id: '8001', id: '802', stream_id: '62', created_at: '2026-04-02T00:00:00Z' });
    twitch.addVideo({ user_id: '8001', id: '803', stream_id: null, created_at: '2026-04-03T00:00:00Z', type: 'highlight' });
    const videos = (query: string, init: { token?: string; clientId?: string } = {}) =>
      fetch(`${twitch.url}/helix/videos?${query}`, { headers: { 'Client-Id': init.clientId ?? twitch.clientId, Authorization: `Bearer ${init.token ?? token}` } });
    assert.equal((await videos('user_id=8001', { token: 'forged' })).status, 401);
    assert.equal((await videos('user_id=8001', { clientId: 'other-client' })).status, 401);
    assert.equal((await videos('')).status, 400);
    assert.equal((await videos('user_id=8001&id=801')).status, 400);
    assert.equal((await videos('user_id=8001&first=101')).status, 400);
    assert.equal((await videos('user_id=8001&type=live')).status, 400);
    const first = await videos('user_id=8001&type=archive&first=1');
    const firstPage = (await first.json()) as { data: { id: string; stream_id: string | null; duration: string }[]; pagination: { cursor?: string } };
    assert.deepEqual(firstPage.data.map((video) => video.id), ['802']);
    assert.ok(firstPage.pagination.cursor);
    const second = (await (await videos(`user_id=8001&type=archive&first=1&after=${firstPage.pagination.cursor}`)).json()) as typeof firstPage;
    assert.deepEqual(second.data.map((video) => [video.id, video.stream_id]), [['801', '61']]);
    assert.deepEqual(second.pagination, {});
    const all = (await (await videos('user_id=8001')).json()) as typeof firstPage;
    assert.deepEqual(all.data.map((video) => video.id), ['803', '802', '801']);
  });
});
