import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startFakePds, type FakePds } from './pds.js';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const HANDLE = 'streamer.test';
const PASSWORD = 'abcd-efgh-ijkl-mnop';

async function xrpc(pds: FakePds, method: string, init: { body?: unknown; token?: string; query?: string } = {}) {
  const response = await fetch(`${pds.baseUrl}/xrpc/${method}${init.query ? `?${init.query}` : ''}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fake PDS', () => {
  let pds: FakePds;
  before(async () => {
    pds = await startFakePds();
    pds.addAccount({ did: DID, handle: HANDLE, password: PASSWORD });
    pds.addAccount({ did: 'did:plc:otheraccount000000000000', handle: 'other.test', password: 'other-pass' });
  });
  after(async () => {
    await pds.close();
  });

  it('creates a session by handle or DID and answers getSession with the access token', async () => {
    for (const identifier of [HANDLE, DID]) {
      const created = await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier, password: PASSWORD } });
      assert.equal(created.status, 200);
      assert.equal(created.body['did'], DID);
      assert.equal(created.body['handle'], HANDLE);
      assert.equal(created.body['active'], true);
      assert.equal(typeof created.body['accessJwt'], 'string');
      const session = await xrpc(pds, 'com.atproto.server.getSession', { token: String(created.body['accessJwt']) });
      assert.deepEqual([session.status, session.body['did']], [200, DID]);
    }
  });

  it('answers XRPC errors with their documented names and statuses', async () => {
    assert.deepEqual((await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier: HANDLE, password: 'wrong' } })).body['error'], 'AuthenticationRequired');
    assert.equal((await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier: HANDLE } })).status, 400);
    assert.equal((await xrpc(pds, 'com.atproto.server.createSession', { body: '{not json' })).body['error'], 'InvalidRequest');
    const noAuth = await xrpc(pds, 'com.atproto.server.getSession');
    assert.deepEqual([noAuth.status, noAuth.body['error']], [401, 'AuthenticationRequired']);
    const forged = await xrpc(pds, 'com.atproto.server.getSession', { token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig' });
    assert.deepEqual([forged.status, forged.body['error']], [401, 'InvalidToken']);
    const created = await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier: HANDLE, password: PASSWORD } });
    const refreshAsAccess = await xrpc(pds, 'com.atproto.server.getSession', { token: String(created.body['refreshJwt']) });
    assert.deepEqual([refreshAsAccess.status, refreshAsAccess.body['error']], [400, 'InvalidToken']);
  });

  it('expires access tokens on demand and rotates refresh tokens', async () => {
    const created = await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier: HANDLE, password: PASSWORD } });
    pds.expireAccessTokens();
    const expired = await xrpc(pds, 'com.atproto.server.getSession', { token: String(created.body['accessJwt']) });
    assert.deepEqual([expired.status, expired.body['error']], [400, 'ExpiredToken']);
    const refreshed = await xrpc(pds, 'com.atproto.server.refreshSession', { token: String(created.body['refreshJwt']), body: '' });
    assert.equal(refreshed.status, 200);
    assert.equal((await xrpc(pds, 'com.atproto.server.getSession', { token: String(refreshed.body['accessJwt']) })).status, 200);
    const reused = await xrpc(pds, 'com.atproto.server.refreshSession', { token: String(created.body['refreshJwt']), body: '' });
    assert.deepEqual([reused.status, reused.body['error']], [400, 'ExpiredToken']);
  });

  it('keeps records per repo, refuses writes to another repo, and fails the next N requests on demand', async () => {
    const agent = new AtpAgent({ service: pds.baseUrl });
    await agent.login({ identifier: HANDLE, password: PASSWORD });
    const record = { $type: 'app.bsky.actor.status', status: 'app.bsky.actor.status#live', createdAt: new Date().toISOString(), durationMinutes: 60 };
    const put = await agent.com.atproto.repo.putRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self', record });
    assert.equal(put.data.uri, `at://${DID}/app.bsky.actor.status/self`);
    assert.match(put.data.cid, /^bafyrei/);
    const got = await agent.com.atproto.repo.getRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self' });
    assert.deepEqual(got.data.value, record);
    await assert.rejects(
      agent.com.atproto.repo.putRecord({ repo: 'did:plc:otheraccount000000000000', collection: 'app.bsky.actor.status', rkey: 'self', record }),
      (error: { status?: number }) => error.status === 401,
    );
    await assert.rejects(
      agent.com.atproto.repo.putRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'other', record }),
      (error: { status?: number; error?: string }) => error.status === 400 && error.error === 'InvalidRequest',
    );
    pds.failNext(2, 502);
    await assert.rejects(agent.com.atproto.repo.deleteRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self' }));
    await assert.rejects(agent.com.atproto.repo.deleteRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self' }));
    await agent.com.atproto.repo.deleteRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self' });
    assert.equal(pds.record(DID, 'app.bsky.actor.status', 'self'), undefined);
  });

  it('lets @atproto/api refresh an expired access token by itself', async () => {
    const agent = new AtpAgent({ service: pds.baseUrl });
    await agent.login({ identifier: HANDLE, password: PASSWORD });
    pds.expireAccessTokens();
    const before = pds.count('com.atproto.server.refreshSession');
    const record = { $type: 'app.bsky.actor.status', status: 'app.bsky.actor.status#live', createdAt: new Date().toISOString() };
    await agent.com.atproto.repo.putRecord({ repo: DID, collection: 'app.bsky.actor.status', rkey: 'self', record });
    assert.equal(pds.count('com.atproto.server.refreshSession'), before + 1);
    assert.ok(pds.record(DID, 'app.bsky.actor.status', 'self'));
  });
});
