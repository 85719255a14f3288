import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { BUCKETS } from '../bus/index.js';
import { builtInModerationRules, type ModerationRules } from '../moderation/index.js';

const MODERATOR_TOKEN = 'moderator-token-0123456789abcdef';
const asAdmin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const asModerator = { Authorization: `Bearer ${MODERATOR_TOKEN}` };
const json = { 'Content-Type': 'application/json' };
const CHANNEL_RULES = `/api/v1/moderation/rules/${TEST_CHANNEL}`;

interface RulesAnswer {
  scope: string;
  version: number;
  rules: ModerationRules;
  updated_by: string | null;
  updated_at: string | null;
}

interface ErrorAnswer {
  error: { code: string; message: string };
}

interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

function withNudityReview(review: number): ModerationRules {
  const rules = builtInModerationRules('review');
  return { ...rules, nudity: { ...rules.nudity, bands: { review, block: 0.95 } } };
}

async function put(server: TestServer, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return server.request(path, { method: 'PUT', headers: { ...json, ...asAdmin, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function auditRecords(server: TestServer): Promise<AuditEntry[]> {
  const response = await server.request('/api/v1/audit?limit=200', { headers: asAdmin });
  assert.equal(response.status, 200);
  return ((await response.json()) as { records: AuditEntry[] }).records;
}

describeEachBus('moderation rules API', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { MODERATOR_TOKENS: MODERATOR_TOKEN, MODERATION_POLICY: 'review', WORKERS: 'none' } });
  });
  afterEach(async () => {
    const bucket = await server.running.bus.kv(BUCKETS.moderationRules);
    for (const key of await bucket.keys()) await bucket.delete(key);
  });
  after(() => server.close());

  it('reads the built-in default at version 0, writes it with If-None-Match: *, then by If-Match; a stale write is a 412 naming the current ETag', async () => {
    const initial = await server.request('/api/v1/moderation/rules', { headers: asModerator });
    assert.equal(initial.status, 200);
    assert.equal(initial.headers.get('etag'), '"0"');
    assert.equal(initial.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await initial.json(), { scope: 'default', version: 0, rules: builtInModerationRules('review'), updated_by: null, updated_at: null });

    const created = await put(server, '/api/v1/moderation/rules', withNudityReview(0.3), { 'If-None-Match': '*' });
    assert.equal(created.status, 201, await created.clone().text());
    const first = (await created.json()) as RulesAnswer;
    assert.ok(first.version > 0);
    assert.equal(created.headers.get('etag'), `"${first.version}"`);
    assert.equal(first.updated_by, 'admin');

    const updated = await put(server, '/api/v1/moderation/rules', withNudityReview(0.2), { 'If-Match': `"${first.version}"` });
    assert.equal(updated.status, 200, await updated.clone().text());
    const second = (await updated.json()) as RulesAnswer;
    assert.ok(second.version > first.version);

    // A second admin who read version `first` and writes after the change: refused, told the version to read.
    const preconditions: Array<Record<string, string>> = [{ 'If-Match': `"${first.version}"` }, { 'If-None-Match': '*' }];
    for (const precondition of preconditions) {
      const stale = await put(server, '/api/v1/moderation/rules', withNudityReview(0.9), precondition);
      assert.equal(stale.status, 412);
      assert.equal(stale.headers.get('etag'), `"${second.version}"`);
      assert.equal(((await stale.json()) as ErrorAnswer).error.code, 'precondition_failed');
    }
    const now = (await (await server.request('/api/v1/moderation/rules', { headers: asAdmin })).json()) as RulesAnswer;
    assert.deepEqual(now.rules, withNudityReview(0.2), 'the stale writes changed nothing');

    const changes = (await auditRecords(server)).filter((record) => record.action === 'moderation_rules.changed');
    assert.equal(changes.length, 2);
    const [latest, earliest] = changes;
    assert.deepEqual(
      { actor: earliest!.actor, target: earliest!.target, old: earliest!.details?.['old_version'], new: earliest!.details?.['new_version'] },
      { actor: 'admin', target: 'default', old: 0, new: first.version },
    );
    assert.deepEqual(earliest!.details?.['changes'], [
      { path: 'nudity.bands.review', from: 0.5, to: 0.3 },
      { path: 'nudity.bands.block', from: 0.9, to: 0.95 },
    ]);
    assert.deepEqual(latest!.details?.['changes'], [{ path: 'nudity.bands.review', from: 0.3, to: 0.2 }]);
    assert.deepEqual(latest!.details?.['rules'], withNudityReview(0.2), 'the audit keeps the document written');
  });

  it("a channel's own rules: 404 until written, then its own version; DELETE by version hands it back to the default; each audited", async () => {
    const none = await server.request(CHANNEL_RULES, { headers: asModerator });
    assert.equal(none.status, 404);
    assert.match(((await none.json()) as ErrorAnswer).error.message, /no rules of its own: its jobs run with the default rules \(version 0\)/);

    const created = await put(server, CHANNEL_RULES, { ...builtInModerationRules('auto'), faces: { enabled: true, allow: true, min_confidence: 0.7 } }, { 'If-None-Match': '*' });
    assert.equal(created.status, 201, await created.clone().text());
    const own = (await created.json()) as RulesAnswer;
    assert.equal(own.scope, TEST_CHANNEL);
    const read = await server.request(CHANNEL_RULES, { headers: asModerator });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('etag'), `"${own.version}"`);
    const created_audit = (await auditRecords(server)).find((record) => record.action === 'moderation_rules.changed' && record.target === TEST_CHANNEL);
    assert.deepEqual(created_audit?.details?.['replaced'], { scope: 'default', version: 0 }, 'a new channel document names what its channel ran with before');

    const withoutVersion = await server.request(CHANNEL_RULES, { method: 'DELETE', headers: asAdmin });
    assert.equal(withoutVersion.status, 400);
    const stale = await server.request(CHANNEL_RULES, { method: 'DELETE', headers: { ...asAdmin, 'If-Match': `"${own.version + 1}"` } });
    assert.equal(stale.status, 412);
    const deleted = await server.request(CHANNEL_RULES, { method: 'DELETE', headers: { ...asAdmin, 'If-Match': `"${own.version}"` } });
    assert.equal(deleted.status, 204);
    assert.equal((await server.request(CHANNEL_RULES, { headers: asModerator })).status, 404);
    assert.equal((await server.request(CHANNEL_RULES, { method: 'DELETE', headers: { ...asAdmin, 'If-Match': `"${own.version}"` } })).status, 404);
    const removal = (await auditRecords(server)).find((record) => record.action === 'moderation_rules.deleted');
    assert.equal(removal?.target, TEST_CHANNEL);
    assert.equal(removal?.details?.['old_version'], own.version);
    assert.deepEqual(removal?.details?.['changes'], [
      { path: 'approval', from: 'auto', to: 'review' },
      { path: 'faces.allow', from: true, to: false },
      { path: 'faces.min_confidence', from: 0.7, to: 0.6 },
    ]);
  });

  it('refuses hostile and malformed input with a JSON error naming the field, and writes nothing', async () => {
    const rules = builtInModerationRules('review');
    const auditedBefore = (await auditRecords(server)).filter((record) => record.action.startsWith('moderation_rules.')).length;
    const refusals: Array<[string, RequestInit & { path?: string }, number, RegExp]> = [
      ['no token', { method: 'PUT', headers: { ...json, 'If-None-Match': '*' }, body: JSON.stringify(rules) }, 401, /bearer token/],
      ['a moderator writing', { method: 'PUT', headers: { ...json, ...asModerator, 'If-None-Match': '*' }, body: JSON.stringify(rules) }, 401, /bearer token/],
      ['no precondition', { method: 'PUT', headers: { ...json, ...asAdmin }, body: JSON.stringify(rules) }, 400, /^If-Match: required/],
      ['If-Match: *', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-Match': '*' }, body: JSON.stringify(rules) }, 400, /^If-Match: must be/],
      ['a weak or odd ETag', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-Match': 'W/"1", "2"' }, body: JSON.stringify(rules) }, 400, /^If-Match: must be/],
      ['not JSON', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: '{"approval": ' }, 400, /not valid UTF-8 JSON/],
      ['another media type', { method: 'PUT', headers: { 'Content-Type': 'text/plain', ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify(rules) }, 415, /application\/json/],
      ['a score above 1', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, nudity: { enabled: true, bands: { review: 2, block: 1 } } }) }, 400, /^nudity\.bands\.review: /],
      ['review above block', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, audio_fingerprint: { ...rules.audio_fingerprint, bands: { review: 0.9, block: 0.5 } } }) }, 400, /^audio_fingerprint\.bands\.review: review must not be above block/],
      ['an unknown setting', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, sampling: { ...rules.sampling, every_frame: true } }) }, 400, /^sampling: .*every_frame/],
      ['a prototype key', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: `{"__proto__": {"approval": "auto"}, ${JSON.stringify(rules).slice(1)}` }, 400, /__proto__/],
      ['a missing section', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, faces: undefined }) }, 400, /^faces: /],
      ['a string for a number', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, sampling: { ...rules.sampling, max_frames: '24' } }) }, 400, /^sampling\.max_frames: /],
      ['a fractional frame count', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, sampling: { ...rules.sampling, max_frames: 2.5 } }) }, 400, /^sampling\.max_frames: /],
      ['an array', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: '[]' }, 400, /^body: /],
      ['a huge body', { method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify({ ...rules, pad: 'x'.repeat(70 * 1024) }) }, 413, /./],
      ['a channel in capitals', { path: '/api/v1/moderation/rules/Acme/show', method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify(rules) }, 400, /publisher and slug/],
      ['an encoded traversal', { path: '/api/v1/moderation/rules/acme/..%2F..%2Fdefault', method: 'PUT', headers: { ...json, ...asAdmin, 'If-None-Match': '*' }, body: JSON.stringify(rules) }, 400, /publisher and slug/],
      ['a dotted channel', { path: '/api/v1/moderation/rules/acme/morning.show', method: 'GET', headers: asAdmin }, 400, /publisher and slug/],
    ];
    for (const [name, { path, ...init }, status, message] of refusals) {
      const response = await server.request(path ?? '/api/v1/moderation/rules', init);
      assert.equal(response.status, status, `${name}: ${await response.clone().text()}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/, name);
      assert.match(((await response.json()) as ErrorAnswer).error.message, message, name);
    }
    assert.deepEqual(await (await server.running.bus.kv(BUCKETS.moderationRules)).keys(), [], 'nothing was stored');
    assert.equal((await auditRecords(server)).filter((record) => record.action.startsWith('moderation_rules.')).length, auditedBefore, 'nothing was audited');
  });
});

/**
 * Rules changed between two uploads, without a restart: on NATS the change goes through an
 * API-only replica while another replica runs the checks (sharing the quarantine directory, as
 * a fleet shares its bucket); on the memory bus, one server.
 */
describeEachBus('moderation rules applied to the next job', (bus) => {
  let checker: TestServer;
  let api: TestServer;
  let sharedDir: string;
  before(async () => {
    sharedDir = await mkdtemp(join(tmpdir(), 'live-upload-rules-'));
    const env = { MODERATION_POLICY: 'review', QUARANTINE_DIR: join(sharedDir, 'quarantine'), MEDIA_DIR: join(sharedDir, 'media'), UPLOAD_RATE_LIMIT_PER_MINUTE: '100', STATUS_RATE_LIMIT_PER_MINUTE: '10000' };
    checker = await startTestServer({ natsUrl: bus.natsUrl(), env: { ...env, WORKERS: 'moderation,transcode' } });
    api = bus.kind === 'nats' ? await startTestServer({ natsUrl: bus.natsUrl(), env: { ...env, WORKERS: 'none' } }) : checker;
  });
  after(async () => {
    if (api !== checker) await api.close();
    await checker.close();
    await rm(sharedDir, { recursive: true, force: true });
  });

  async function upload(title: string): Promise<string> {
    const data = await readFile((await mediaFixtures()).validFaststartMp4);
    const response = await api.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size: data.length, type: 'video/mp4', source: 'file', title }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const grant = (await response.json()) as { upload_url: string; token: string; upload_id: string };
    await uploadThroughTus(grant, data);
    return grant.upload_id;
  }

  /** The upload as a moderator reads it through the API replica, once its checks decided. */
  async function decided(uploadId: string): Promise<{ status: string; moderation?: { policy_version: number; policy_scope: string } }> {
    return eventually(
      async () => {
        const response = await api.request(`/api/v1/uploads/${uploadId}`, { headers: asAdmin });
        assert.equal(response.status, 200, await response.clone().text());
        const record = (await response.json()) as { status: string; moderation?: { policy_version: number; policy_scope: string } };
        return ['uploading', 'checking'].includes(record.status) ? undefined : record;
      },
      `upload ${uploadId} decided`,
      60_000,
      { intervalMs: 250 },
    );
  }

  it('the first upload keeps the version it was checked with; the one after the change runs with the new rules', async () => {
    const first = await upload('before the change');
    const before = await decided(first);
    assert.equal(before.status, 'in_review', 'MODERATION_POLICY=review: a human approves');
    assert.deepEqual(before.moderation, { policy_version: 0, policy_scope: 'default' });

    // The channel's own rules, written through the API replica: approval without a human.
    const written = await put(api, CHANNEL_RULES, builtInModerationRules('auto'), { 'If-None-Match': '*' });
    assert.equal(written.status, 201, await written.clone().text());
    const { version } = (await written.json()) as RulesAnswer;

    const second = await upload('after the change');
    const after = await decided(second);
    assert.ok(['approved', 'published'].includes(after.status), `auto approval applied: ${after.status}`);
    assert.deepEqual(after.moderation, { policy_version: version, policy_scope: TEST_CHANNEL });
    // The first decision stays as it was made.
    assert.deepEqual((await decided(first)).moderation, { policy_version: 0, policy_scope: 'default' });

    const queue = (await (await api.request('/api/v1/moderation/queue', { headers: asAdmin })).json()) as {
      uploads: Array<{ upload_id: string; moderation: unknown }>;
    };
    assert.deepEqual(queue.uploads.find((item) => item.upload_id === first)?.moderation, { policy_version: 0, policy_scope: 'default' });
    const decisions = (await auditRecords(api)).filter((record) => record.target === second && record.action === 'upload.approved');
    assert.deepEqual(decisions.map((record) => [record.details?.['policy_version'], record.details?.['policy_scope']]), [[version, TEST_CHANNEL]]);
  });
});
