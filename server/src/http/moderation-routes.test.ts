import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { ulid } from 'ulid';
import { BUCKETS, SUBJECTS, decodeJson, encodeJson } from '../bus/index.js';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadRecordSchema, type UploadCompletedJob, type UploadRecord } from '../uploads/index.js';

const MODERATOR_TOKEN = 'moderator-token-0123456789abcdef';
const MODERATOR_ACTOR = `moderator:${createHash('sha256').update(MODERATOR_TOKEN).digest('hex').slice(0, 6)}`;
const ENV = { MODERATOR_TOKENS: MODERATOR_TOKEN, UPLOAD_RATE_LIMIT_PER_MINUTE: '500', MODERATION_CHANNEL_MAX_IN_FLIGHT: '2' };
const json = { 'Content-Type': 'application/json' };
const asModerator = { Authorization: `Bearer ${MODERATOR_TOKEN}` };
const asAdmin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const WAIT_MS = 40_000;

interface Grant {
  upload_url: string;
  token: string;
  upload_id: string;
}

interface AuditEntry {
  seq: number;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
}

async function grantFor(server: TestServer, size: number, extra: Record<string, unknown> = {}): Promise<Grant> {
  const response = await server.request('/api/v1/uploads/token', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size, type: 'video/mp4', source: 'file', ...extra }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as Grant;
}

/** Grant + the whole file through the real tus endpoint; resolves with the upload id. */
async function uploadFile(server: TestServer, path: string, extra: Record<string, unknown> = {}): Promise<string> {
  const data = await readFile(path);
  const grant = await grantFor(server, data.length, extra);
  await uploadThroughTus(grant, data);
  return grant.upload_id;
}

/** Resolves with the record once it reaches one of `statuses`: waits on the KV watch, not on a timer. */
async function waitForStatus(server: TestServer, uploadId: string, statuses: readonly UploadRecord['status'][]): Promise<UploadRecord> {
  const bucket = await server.running.bus.kv(BUCKETS.uploads);
  let reached!: (record: UploadRecord) => void;
  const done = new Promise<UploadRecord>((resolve) => (reached = resolve));
  const watch = await bucket.watch((event) => {
    if (event.key !== uploadId || !event.value) return;
    const record = decodeJson(event.value, uploadRecordSchema);
    if (statuses.includes(record.status)) reached(record);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const current = await bucket.get(uploadId);
    const record = current && decodeJson(current.value, uploadRecordSchema);
    if (record && statuses.includes(record.status)) return record;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`upload ${uploadId} did not reach ${statuses.join('|')} within ${WAIT_MS} ms`)), WAIT_MS);
    });
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    watch.unsubscribe();
  }
}

async function auditOf(server: TestServer, uploadId: string): Promise<AuditEntry[]> {
  const response = await server.request('/api/v1/audit?limit=200', { headers: asAdmin });
  assert.equal(response.status, 200);
  const { records } = (await response.json()) as { records: AuditEntry[] };
  return records.filter((record) => record.target === uploadId);
}

const failedCheck = (record: UploadRecord) => record.checks.find((check) => check.result === 'fail');

/** Every check a clean clip goes through, in order (`defaultModerationChecks` with the audio references and the vision checks). */
const ALL_CHECKS = ['magic-bytes', 'text', 'media-probe', 'perceptual-hash', 'audio-fingerprint', 'nudity', 'faces'];

describeEachBus('moderation: checks, queue, decisions, blocklist, audit', (bus) => {
  let fixtures: MediaFixtures;

  describe('review policy', () => {
    let server: TestServer;
    before(async () => {
      fixtures = await mediaFixtures();
      server = await startTestServer({ natsUrl: bus.natsUrl(), env: ENV });
    });
    after(() => server.close());

    it('rejects hostile files uploaded through tus, each with a reason; a zero-byte upload is refused at grant time', async () => {
      const empty = await server.request('/api/v1/uploads/token', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'empty.mp4', size: 0, type: 'video/mp4', source: 'file' }),
      });
      assert.equal(empty.status, 400);
      const cases: Array<[string, string, RegExp]> = [
        [fixtures.htmlAsMp4, 'magic-bytes', /not a recognised video/],
        [fixtures.elfAsMp4, 'magic-bytes', /application\/x-elf, not an allowed video type/],
        [fixtures.polyglotMp4, 'magic-bytes', /bytes follow the last MP4 box .*polyglot/],
        [fixtures.hugeDimensionsMp4, 'media-probe', /16384x16 are absurd/],
        [fixtures.truncatedMp4, 'magic-bytes', /^truncated: the mdat box declares \d+ bytes/],
        [fixtures.truncatedWebm, 'media-probe', /truncated/],
      ];
      const ids = await Promise.all(cases.map(([path]) => uploadFile(server, path)));
      for (const [index, [path, check, reason]] of cases.entries()) {
        const record = await waitForStatus(server, ids[index]!, ['rejected', 'in_review', 'approved']);
        assert.equal(record.status, 'rejected', path);
        assert.equal(failedCheck(record)?.name, check, path);
        assert.match(failedCheck(record)?.detail ?? '', reason, path);
        const audit = await auditOf(server, ids[index]!);
        assert.deepEqual(audit.find((entry) => entry.action === 'upload.rejected')?.reason?.startsWith(`${check}: `), true, path);
      }
    });

    it('queues a good clip for review with every check recorded; a moderator previews it with Range and approves it once', async () => {
      const uploadId = await uploadFile(server, fixtures.validFaststartMp4, { title: 'Best moment' });
      const record = await waitForStatus(server, uploadId, ['in_review', 'rejected', 'approved']);
      assert.equal(record.status, 'in_review', JSON.stringify(record.checks));
      assert.deepEqual(
        record.checks.map((check) => [check.name, check.result]),
        ALL_CHECKS.map((name) => [name, 'pass']),
      );

      const queue = await server.request('/api/v1/moderation/queue', { headers: asModerator });
      assert.equal(queue.status, 200);
      const queued = ((await queue.json()) as { uploads: Array<{ upload_id: string; preview_url: string; checks: unknown[] }> }).uploads.find((entry) => entry.upload_id === uploadId);
      assert.ok(queued);
      assert.equal(queued.checks.length, ALL_CHECKS.length);
      assert.equal(queued.preview_url, `${server.url}/api/v1/moderation/${uploadId}/media`);
      assert.equal((await fetch(queued.preview_url, { headers: { Range: 'bytes=0-99' } })).status, 401);
      const preview = await fetch(queued.preview_url, { headers: { ...asModerator, Range: 'bytes=0-99' } });
      assert.equal(preview.status, 206);
      assert.equal(preview.headers.get('content-type'), 'video/mp4');
      assert.equal(preview.headers.get('x-content-type-options'), 'nosniff');
      const whole = await fetch(queued.preview_url, { headers: asModerator });
      assert.equal(whole.status, 200, 'without a Range header the whole file comes back with 200');
      assert.equal(Number(whole.headers.get('content-length')), (await whole.arrayBuffer()).byteLength);
      assert.deepEqual(Buffer.from(await preview.arrayBuffer()), (await readFile(fixtures.validFaststartMp4)).subarray(0, 100));

      const decide = (body: unknown) =>
        server.request(`/api/v1/moderation/${uploadId}/decision`, { method: 'POST', headers: { ...json, ...asModerator }, body: JSON.stringify(body) });
      assert.equal((await decide({ decision: 'reject' })).status, 400, 'a rejection needs a reason');
      const approved = await decide({ decision: 'approve', reason: 'fine' });
      assert.equal(approved.status, 200);
      assert.equal(((await approved.json()) as { status: string }).status, 'approved');
      assert.equal((await decide({ decision: 'reject', reason: 'changed my mind' })).status, 409);

      const audit = await auditOf(server, uploadId);
      assert.deepEqual(audit.filter((entry) => entry.action === 'upload.check').length, ALL_CHECKS.length);
      assert.deepEqual(
        audit.filter((entry) => entry.action !== 'upload.check').map((entry) => [entry.action, entry.actor.replace(/^client:[0-9a-f]{16}$/, 'client:…'), entry.reason]),
        [
          ['upload.approved', MODERATOR_ACTOR, 'fine'],
          ['upload.in_review', 'moderation', 'every check passed; policy review'],
          ['upload.granted', 'client:…', null],
        ],
      );
    });

    it('blocklists a clip by upload id and catches a re-encoded, resized copy; a different clip passes', async () => {
      const original = await uploadFile(server, fixtures.validMp4);
      assert.equal((await waitForStatus(server, original, ['in_review', 'rejected'])).status, 'in_review');
      const added = await server.request('/api/v1/moderation/blocklist', {
        method: 'POST',
        headers: { ...json, ...asAdmin },
        body: JSON.stringify({ upload_id: original, label: 'known bad clip' }),
      });
      assert.equal(added.status, 201, await added.clone().text());
      const entry = (await added.json()) as { id: string; hashes: string[] };
      assert.ok(entry.hashes.length >= 1, 'identical frames share one hash');
      try {
        const [copy, different] = await Promise.all([uploadFile(server, fixtures.reencodedMp4), uploadFile(server, fixtures.differentMp4)]);
        const caught = await waitForStatus(server, copy, ['in_review', 'rejected']);
        assert.equal(caught.status, 'rejected');
        assert.equal(failedCheck(caught)?.name, 'perceptual-hash');
        assert.deepEqual(failedCheck(caught)?.details?.['entries'], [entry.id]);
        assert.equal((await waitForStatus(server, different, ['in_review', 'rejected'])).status, 'in_review');
      } finally {
        assert.equal((await server.request(`/api/v1/moderation/blocklist/${entry.id}`, { method: 'DELETE', headers: asAdmin })).status, 204);
      }
    });

    it('rejects a profane title by the text check, before any tool runs', async () => {
      const uploadId = await uploadFile(server, fixtures.validWebm, { type: 'video/webm', title: 'f*ck this sh1t' });
      const record = await waitForStatus(server, uploadId, ['in_review', 'rejected']);
      assert.equal(record.status, 'rejected');
      assert.deepEqual(record.checks.map((check) => [check.name, check.result, check.detail]), [
        ['magic-bytes', 'pass', undefined],
        ['text', 'fail', 'obscene language in the title'],
      ]);
    });

    it('refuses moderation and audit without a valid token (401); a moderator may review but not read the audit or edit the blocklist', async () => {
      const someone = ulid();
      const attempts: Array<[string, RequestInit]> = [
        ['/api/v1/moderation/queue', {}],
        [`/api/v1/moderation/${someone}/media`, {}],
        [`/api/v1/moderation/${someone}/decision`, { method: 'POST', headers: json, body: JSON.stringify({ decision: 'approve' }) }],
        ['/api/v1/moderation/blocklist', {}],
        ['/api/v1/moderation/blocklist', { method: 'POST', headers: json, body: JSON.stringify({ hashes: ['0123456789abcdef'] }) }],
        ['/api/v1/audit', {}],
      ];
      for (const [path, init] of attempts) {
        for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${MODERATOR_TOKEN}`]) {
          const headers = new Headers(init.headers);
          if (authorization) headers.set('Authorization', authorization);
          const response = await server.request(path, { ...init, headers });
          assert.equal(response.status, 401, `${init.method ?? 'GET'} ${path} ${authorization ?? 'no auth'}`);
        }
      }
      assert.equal((await server.request('/api/v1/moderation/queue', { headers: asModerator })).status, 200);
      assert.equal((await server.request(`/api/v1/moderation/${someone}/decision`, { method: 'POST', headers: { ...json, ...asModerator }, body: JSON.stringify({ decision: 'approve' }) })).status, 404);
      assert.equal((await server.request('/api/v1/audit', { headers: asModerator })).status, 401);
      assert.equal((await server.request('/api/v1/moderation/blocklist', { headers: asModerator })).status, 401);
      const page = await server.request('/api/v1/audit?limit=2', { headers: asAdmin });
      const { records, next_before } = (await page.json()) as { records: AuditEntry[]; next_before: number };
      assert.equal(records.length, 2);
      assert.ok(records[0]!.seq > records[1]!.seq, 'newest first');
      assert.equal(next_before, records[1]!.seq);
      const older = (await (await server.request(`/api/v1/audit?limit=2&before=${next_before}`, { headers: asAdmin })).json()) as { records: AuditEntry[] };
      assert.ok(older.records.every((record) => record.seq < next_before));
      assert.equal((await server.request('/api/v1/audit?limit=0', { headers: asAdmin })).status, 400);
    });
  });

  describe('auto policy', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ natsUrl: bus.natsUrl(), env: { ...ENV, MODERATION_POLICY: 'auto' } });
    });
    after(() => server.close());

    it('approves a clean clip, and applies a job redelivered after a crash only once', async () => {
      const uploadId = await uploadFile(server, fixtures.validWebm, { type: 'video/webm' });
      const record = await waitForStatus(server, uploadId, ['approved', 'published', 'rejected', 'in_review']);
      assert.ok(['approved', 'published'].includes(record.status), JSON.stringify(record.checks));
      assert.equal(record.checks.length, ALL_CHECKS.length);
      assert.ok(record.checks.every((check) => check.result === 'pass'));

      // The job comes again (a worker died after deciding, before its ack), then a sentinel: a
      // grant whose file is in quarantine but whose record is still `uploading` (the process died
      // between the job and the `checking` mark). The worker treats it as checking.
      const job = (id: string, size: number): UploadCompletedJob => ({ upload_id: id, channel: TEST_CHANNEL, type: 'video/webm', size, source: 'file', completed_at: new Date().toISOString() });
      const bytes = await readFile(fixtures.validWebm);
      await server.running.bus.publish(SUBJECTS.uploadsCompleted, encodeJson(job(uploadId, bytes.length)), { msgId: `redelivered:${uploadId}` });
      const sentinel = await grantFor(server, bytes.length, { type: 'video/webm' });
      await copyFile(fixtures.validWebm, join(server.quarantineDir, sentinel.upload_id));
      await server.running.bus.publish(SUBJECTS.uploadsCompleted, encodeJson(job(sentinel.upload_id, bytes.length)), { msgId: sentinel.upload_id });
      assert.ok(['approved', 'published'].includes((await waitForStatus(server, sentinel.upload_id, ['approved', 'published', 'rejected', 'in_review'])).status));

      const audit = await auditOf(server, uploadId);
      assert.equal(audit.filter((entry) => entry.action === 'upload.approved').length, 1);
      assert.equal(audit.filter((entry) => entry.action === 'upload.check').length, ALL_CHECKS.length, 'the redelivered job ran no checks');
      assert.deepEqual(audit.find((entry) => entry.action === 'upload.approved')?.actor, 'moderation');
    });
  });
});
