import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../../test/support/test-server.js';
import { presentedBearer } from './require-bearer.js';

const MODERATOR_TOKEN = 'moderator-token-0123456789abcdef';
const json = { 'Content-Type': 'application/json' };

it('reads the bearer scheme in any case (RFC 7235) and nothing that is not one', () => {
  for (const header of ['Bearer abc', 'bearer abc', 'BEARER abc', 'bEaReR abc', 'Bearer   abc']) assert.equal(presentedBearer(header), 'abc', header);
  for (const header of ['Basic abc', 'Bearerabc', 'Bearer ', 'Bearer a b', 'Bearer\tabc', ' Bearer abc', 'Bearer abc\u00e9', `Bearer ${'a'.repeat(513)}`, '']) {
    assert.equal(presentedBearer(header), undefined, JSON.stringify(header));
  }
  assert.equal(presentedBearer(undefined), undefined);
});

describeEachBus('bearer tokens in any case of the scheme', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { MODERATOR_TOKENS: MODERATOR_TOKEN } });
  });
  after(() => server.close());

  const as = (scheme: string, token: string) => ({ Authorization: `${scheme} ${token}` });

  it('accepts `bearer` and `BEARER` for the admin API, the audit trail and the moderation queue', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const put = await server.request('/api/v1/channels/acme/cased', { method: 'PUT', headers: { ...json, ...as(scheme, TEST_ADMIN_TOKEN) }, body: JSON.stringify({ providers: {} }) });
      assert.ok(put.status === 200 || put.status === 201, `${scheme}: PUT channel answered ${put.status}`);
      assert.equal((await server.request('/api/v1/audit', { headers: as(scheme, TEST_ADMIN_TOKEN) })).status, 200, `${scheme}: audit`);
      assert.equal((await server.request('/api/v1/moderation/queue', { headers: as(scheme, MODERATOR_TOKEN) })).status, 200, `${scheme}: queue`);
    }
    const refused = await server.request('/api/v1/audit', { headers: { Authorization: `Basic ${TEST_ADMIN_TOKEN}` } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer /);
  });

  it('shows moderators the upload details and takes a grant on tus with a lower-case scheme', async () => {
    const granted = await server.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'cased.mp4', size: 10, type: 'video/mp4', source: 'file' }),
    });
    assert.equal(granted.status, 201);
    const grant = (await granted.json()) as { upload_id: string; token: string; upload_url: string };
    const status = (await (await server.request(`/api/v1/uploads/${grant.upload_id}`, { headers: as('bearer', MODERATOR_TOKEN) })).json()) as { filename?: string };
    assert.equal(status.filename, 'cased.mp4', 'a moderator with `bearer` sees the details');

    const created = await fetch(grant.upload_url, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', ...as('bearer', grant.token) },
    });
    assert.equal(created.status, 201, await created.text());
    const head = await fetch(`${grant.upload_url}/${grant.upload_id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...as('BEARER', grant.token) } });
    assert.equal(head.status, 200);
  });
});
