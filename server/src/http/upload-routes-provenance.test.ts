import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

const json = { 'Content-Type': 'application/json' };
const iso = (ms: number) => new Date(ms).toISOString();

describeEachBus('upload provenance', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      env: { UPLOAD_RATE_LIMIT_PER_MINUTE: '500', UPLOAD_CHANNEL_MAX_PENDING: '1000', WORKERS: 'none' },
    });
  });
  after(() => server.close());

  const startedAtMs = Date.now() - 10 * 60 * 1000;
  const stream = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedAtMs);
  const requestGrant = (extra: Record<string, unknown>) =>
    server.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size: 100, type: 'video/mp4', source: 'clip', ...extra }),
    });
  const clip = { canonical_id: stream, from_s: 60, to_s: 70 };
  const status = async (uploadId: string, admin = false) => {
    const response = await server.request(`/api/v1/uploads/${uploadId}`, { admin });
    assert.equal(response.status, 200);
    return (await response.json()) as { provenance: unknown };
  };

  it('stores provenance in UTC and shows it in the upload status', async () => {
    const from = startedAtMs + 60_000;
    const provenance = {
      canonical_id: stream,
      // An offset is normalized to UTC milliseconds.
      from: new Date(from).toISOString().replace('Z', '+00:00'),
      to: iso(from + 10_000),
    };
    const response = await requestGrant({ clip, provenance });
    assert.equal(response.status, 201, await response.clone().text());
    const { upload_id } = (await response.json()) as { upload_id: string };
    const expected = { canonical_id: stream, from: iso(from), to: iso(from + 10_000) };
    assert.deepEqual((await status(upload_id)).provenance, expected);
    assert.deepEqual((await status(upload_id, true)).provenance, expected);
  });

  it('takes provenance without a clip range (a recording), and shows null when none was given', async () => {
    const provenance = { canonical_id: stream, from: iso(startedAtMs + 1000), to: iso(startedAtMs + 1000) };
    const recorded = await requestGrant({ source: 'recording', provenance });
    assert.equal(recorded.status, 201, await recorded.clone().text());
    assert.deepEqual((await status(((await recorded.json()) as { upload_id: string }).upload_id)).provenance, provenance);
    const plain = await requestGrant({ clip });
    assert.equal(plain.status, 201);
    assert.equal((await status(((await plain.json()) as { upload_id: string }).upload_id)).provenance, null);
  });

  it('refuses hostile provenance with a 400 that names the field', async () => {
    const from = iso(startedAtMs + 60_000);
    const to = iso(startedAtMs + 70_000);
    const otherChannel = createCanonicalId({ publisher: 'other', slug: 'show' }, startedAtMs);
    const otherBroadcast = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedAtMs - 1000);
    const cases: Array<[unknown, RegExp]> = [
      [{ canonical_id: otherChannel, from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: otherBroadcast, from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: 'stream:acme:morning-show:not-a-ulid', from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: `stream:acme:morning-show:${'0'.repeat(200)}`, from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: 'stream:../../etc:passwd:01HZ0000000000000000000000', from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: 42, from, to }, /^provenance\.canonical_id/],
      [{ canonical_id: stream, from: to, to: from }, /^provenance\.to/],
      [{ canonical_id: stream, from: iso(startedAtMs), to: iso(startedAtMs + 3600_001) }, /^provenance\.to/],
      [{ canonical_id: stream, from: 'yesterday', to }, /^provenance\.from/],
      [{ canonical_id: stream, from: '2026-13-01T00:00:00Z', to }, /^provenance\.from/],
      [{ canonical_id: stream, from: from.replace('Z', ''), to }, /^provenance\.from/],
      [{ canonical_id: stream, from: startedAtMs, to }, /^provenance\.from/],
      [{ canonical_id: stream, from, to: `${to}${' '.repeat(100)}` }, /^provenance\.to/],
      [{ canonical_id: stream, from, to: null }, /^provenance\.to/],
      [{ canonical_id: stream, from }, /^provenance\.to/],
      [{ canonical_id: stream, from, to, clip_url: 'javascript:alert(1)' }, /provenance|unrecognized/i],
      ['stream:acme:morning-show', /^provenance/],
      [[stream, from, to], /^provenance/],
      [null, /^provenance/],
    ];
    for (const [provenance, message] of cases) {
      const response = await requestGrant({ clip, provenance });
      assert.equal(response.status, 400, JSON.stringify(provenance).slice(0, 120));
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_body');
      assert.match(error.message, message, JSON.stringify(provenance).slice(0, 120));
    }
  });

  it('refuses provenance from the future or from before the broadcast started', async () => {
    const now = Date.now();
    let response = await requestGrant({ clip, provenance: { canonical_id: stream, from: iso(now), to: iso(now + 60 * 60 * 1000) } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /^provenance\.to: .*future/);
    response = await requestGrant({ clip, provenance: { canonical_id: stream, from: iso(startedAtMs - 60 * 60 * 1000), to: iso(startedAtMs) } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /^provenance\.from: .*before the broadcast/);
  });
});
