import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { uploadResumable } from '../../../test/support/tus-upload.js';
import { ulid } from 'ulid';
import { STREAMS, SUBJECTS, decodeJson, encodeJson } from '../bus/index.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_CHANNEL, TEST_UPLOAD_TOKEN_SECRET, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { UploadGrants, uploadCompletedJobSchema, type UploadCompletedJob } from '../uploads/index.js';

const json = { 'Content-Type': 'application/json' };
const TUS = { 'Tus-Resumable': '1.0.0' };

interface Grant {
  upload_url: string;
  token: string;
  expires_at: string;
  max_size: number;
  upload_id: string;
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const tusUpload = uploadResumable;

describeEachBus('upload routes and the tus endpoint', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      // These tests read the raw `uploads.completed` jobs (and expect `checking`): an API-only replica, no moderation worker takes them.
      env: { UPLOAD_MAX_BYTES: String(8 * 1024 * 1024), UPLOAD_RATE_LIMIT_PER_MINUTE: '40', UPLOAD_CHANNEL_MAX_PENDING: '1000', WORKERS: 'none' },
    });
  });
  after(() => server.close());

  const requestGrant = (body: Record<string, unknown>) =>
    server.request('/api/v1/uploads/token', { method: 'POST', headers: json, body: JSON.stringify(body) });
  const fileRequest = (size: number, extra: Record<string, unknown> = {}) => ({
    channel: TEST_CHANNEL,
    filename: 'my clip.mp4',
    size,
    type: 'video/mp4',
    source: 'file',
    ...extra,
  });
  const grantFor = async (size: number, extra: Record<string, unknown> = {}): Promise<Grant> => {
    const response = await requestGrant(fileRequest(size, extra));
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()) as Grant;
  };
  const status = async (uploadId: string, admin = false) => {
    const response = await server.request(`/api/v1/uploads/${uploadId}`, { admin });
    assert.equal(response.status, 200);
    return (await response.json()) as { status: string; checks: unknown[]; filename?: string };
  };
  const createUpload = (token: string | undefined, length: number, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': String(length), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    });

  it('grants an upload: 201 with a short-lived token scoped to a new upload id', async () => {
    const before = Date.now();
    const grant = await grantFor(1234, { title: 'Best moment', type: 'video/webm;codecs=vp9,opus' });
    assert.equal(grant.upload_url, `${server.url}/uploads`);
    assert.match(grant.upload_id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(grant.max_size, 1234);
    const expiresAt = Date.parse(grant.expires_at);
    assert.ok(expiresAt > before && expiresAt <= Date.now() + 15 * 60 * 1000, grant.expires_at);
    const claims = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }).verify(grant.token);
    assert.deepEqual(
      { uploadId: claims.uploadId, channel: claims.channel, maxSize: claims.maxSize, type: claims.type, source: claims.source },
      { uploadId: grant.upload_id, channel: TEST_CHANNEL, maxSize: 1234, type: 'video/webm', source: 'file' },
    );
    const record = await status(grant.upload_id);
    assert.equal(record.status, 'uploading');
    assert.deepEqual(record.checks, []);
    assert.equal(record.filename, undefined, 'upload details are for moderators');
    assert.equal((await status(grant.upload_id, true)).filename, 'my clip.mp4');
  });

  it('refuses uploads to a channel whose policy is off (403) and to an unknown channel (404)', async () => {
    const put = (uploads?: string) =>
      server.request('/api/v1/channels/acme/closed', { method: 'PUT', admin: true, headers: json, body: JSON.stringify({ providers: {}, ...(uploads ? { uploads } : {}) }) });
    const created = await put();
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { uploads: string }).uploads, 'off', 'new channels default to off');
    let response = await requestGrant(fileRequest(10, { channel: 'acme/closed' }));
    assert.equal(response.status, 403);
    assert.equal((await errorOf(response)).code, 'forbidden');
    assert.equal((await put('open')).status, 200);
    assert.equal((await requestGrant(fileRequest(10, { channel: 'acme/closed' }))).status, 201);
    assert.equal((await put()).status, 200);
    assert.equal((await requestGrant(fileRequest(10, { channel: 'acme/closed' }))).status, 201, 'omitting uploads keeps the policy');
    assert.equal((await put('off')).status, 200);
    assert.equal((await requestGrant(fileRequest(10, { channel: 'acme/closed' }))).status, 403);
    response = await requestGrant(fileRequest(10, { channel: 'nobody/here' }));
    assert.equal(response.status, 404);
  });

  it('names the field when size, type or the body is wrong, and refuses a zero-byte grant', async () => {
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [fileRequest(8 * 1024 * 1024 + 1), 413, /^size: .*8388608/],
      [fileRequest(100, { type: 'text/html' }), 415, /^type: text\/html .*video\/mp4/],
      [fileRequest(0), 400, /^size: .*empty/],
      [fileRequest(-5), 400, /^size/],
      [fileRequest(1.5), 400, /^size/],
      [fileRequest(10, { filename: '../../etc/passwd' }), 400, /^filename/],
      [fileRequest(10, { filename: 'a\u0000b.mp4' }), 400, /^filename/],
      [fileRequest(10, { filename: 'evil\u202Egpj.mp4' }), 400, /^filename/],
      [fileRequest(10, { channel: '../etc' }), 400, /^channel/],
      [fileRequest(10, { source: 'camera' }), 400, /^source/],
      [fileRequest(10, { source: 'clip' }), 400, /^clip/],
      [fileRequest(10, { clip: { canonical_id: `stream:acme:morning-show:${ulid()}`, from_s: 1, to_s: 2 } }), 400, /^clip/],
      [fileRequest(10, { source: 'clip', clip: { canonical_id: `stream:other:show:${ulid()}`, from_s: 1, to_s: 2 } }), 400, /^clip\.canonical_id/],
      [fileRequest(10, { source: 'clip', clip: { canonical_id: `stream:acme:morning-show:${ulid()}`, from_s: 5, to_s: 2 } }), 400, /^clip\.to_s/],
      [fileRequest(10, { upload_id: 'MINE' }), 400, /upload_id|unrecognized/i],
    ];
    for (const [body, expectedStatus, message] of cases) {
      const response = await requestGrant(body);
      assert.equal(response.status, expectedStatus, JSON.stringify(body));
      assert.match((await errorOf(response)).message, message, JSON.stringify(body));
    }
    const clip = await requestGrant(fileRequest(10, { source: 'clip', clip: { canonical_id: `stream:acme:morning-show:${ulid()}`, from_s: 1.5, to_s: 12 } }));
    assert.equal(clip.status, 201);
  });

  it('uploads over tus, marks the record checking, and enqueues exactly one moderation job', async () => {
    const data = randomBytes(300 * 1024);
    const grant = await grantFor(data.length);
    const { url, finished } = await tusUpload(grant, data, { chunkSize: 128 * 1024 });
    assert.ok(finished);
    assert.equal(url, `${server.url}/uploads/${grant.upload_id}`);
    assert.equal(sha256(await readFile(join(server.quarantineDir, grant.upload_id))), sha256(data));
    assert.equal((await status(grant.upload_id)).status, 'checking');

    // A repeated completion is the same message: dropped as a duplicate.
    const { bus: serverBus } = server.running;
    const again = await serverBus.publish(SUBJECTS.uploadsCompleted, encodeJson({ upload_id: grant.upload_id }), { msgId: grant.upload_id });
    assert.equal(again.duplicate, true);
    // A zero-byte PATCH at the end cannot complete it twice.
    const patch = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, Authorization: `Bearer ${grant.token}`, 'Upload-Offset': String(data.length), 'Content-Type': 'application/offset+octet-stream' },
    });
    assert.equal(patch.status, 409);

    // Count the jobs: everything up to a sentinel published now.
    const sentinel = ulid();
    const jobs: UploadCompletedJob[] = [];
    let sawSentinel!: () => void;
    const done = new Promise<void>((resolve) => (sawSentinel = resolve));
    const consumer = await serverBus.consume({ stream: STREAMS.uploads.name, durable: 'test-moderation', filterSubject: SUBJECTS.uploadsCompleted }, (message) => {
      const job = decodeJson(message.data, uploadCompletedJobSchema);
      if (job.upload_id === sentinel) sawSentinel();
      else jobs.push(job);
    });
    await serverBus.publish(
      SUBJECTS.uploadsCompleted,
      encodeJson({ upload_id: sentinel, channel: TEST_CHANNEL, type: 'video/mp4', size: 1, source: 'file', completed_at: new Date().toISOString() }),
      { msgId: sentinel },
    );
    await done;
    await consumer.stop();
    const ours = jobs.filter((job) => job.upload_id === grant.upload_id);
    assert.equal(ours.length, 1);
    assert.deepEqual({ ...ours[0], completed_at: undefined }, { upload_id: grant.upload_id, channel: TEST_CHANNEL, type: 'video/mp4', size: data.length, source: 'file', completed_at: undefined });
  });

  it('refuses tus requests without a token (401), with a forged one (403) or an expired one (401)', async () => {
    const grant = await grantFor(100);
    assert.equal((await createUpload(undefined, 100)).status, 401);
    assert.equal((await createUpload('not-a-jwt', 100)).status, 403);
    const forged = await new UploadGrants({ secret: 'someone-else-secret-0123456789abcdef' }).sign({
      uploadId: grant.upload_id,
      channel: TEST_CHANNEL,
      maxSize: 100,
      type: 'video/mp4',
      source: 'file',
    });
    assert.equal((await createUpload(forged.token, 100)).status, 403);
    const [header, , signature] = grant.token.split('.');
    const widened = Buffer.from(JSON.stringify({ sub: grant.upload_id, channel: TEST_CHANNEL, max_size: 1e9, type: 'video/mp4', source: 'file' })).toString('base64url');
    assert.equal((await createUpload(`${header}.${widened}.${signature}`, 100)).status, 403, 'altered claims');
    const expired = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET, now: () => Date.now() - 20 * 60 * 1000 }).sign({
      uploadId: grant.upload_id,
      channel: TEST_CHANNEL,
      maxSize: 100,
      type: 'video/mp4',
      source: 'file',
    });
    assert.equal((await createUpload(expired.token, 100)).status, 401);
    assert.deepEqual(await readdir(server.quarantineDir).then((names) => names.filter((name) => name.startsWith(grant.upload_id))), [], 'nothing was created');
  });

  it('answers a cross-origin CORS preflight without credentials, so pages on other origins can upload', async () => {
    for (const path of ['/uploads', `/uploads/${ulid()}`]) {
      const response = await server.request(path, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://viewer-site.example',
          'Access-Control-Request-Method': path === '/uploads' ? 'POST' : 'PATCH',
          'Access-Control-Request-Headers': 'authorization,tus-resumable,upload-length,upload-metadata,upload-offset,content-type',
        },
      });
      assert.equal(response.status, 204, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('access-control-allow-methods') ?? '', /PATCH/);
      const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const header of ['authorization', 'tus-resumable', 'upload-length', 'upload-offset']) assert.ok(allowed.includes(header), `${path}: ${header}`);
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /Location/);
    }
  });

  it('refuses a token for another upload (403), an Upload-Length above the grant (413), a zero length, and GET', async () => {
    const mine = await grantFor(64);
    const other = await grantFor(64);
    assert.equal((await createUpload(mine.token, 65)).status, 413);
    assert.equal((await createUpload(mine.token, 0)).status, 400);
    const created = await createUpload(mine.token, 64);
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `/uploads/${mine.upload_id}`);
    assert.equal((await createUpload(mine.token, 64)).status, 409, 'an upload is created once');
    const url = `${server.url}/uploads/${mine.upload_id}`;
    for (const method of ['HEAD', 'PATCH', 'DELETE']) {
      const response = await fetch(url, {
        method,
        headers: { ...TUS, Authorization: `Bearer ${other.token}`, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      });
      assert.equal(response.status, 403, method);
    }
    const head = await fetch(url, { method: 'HEAD', headers: { ...TUS, Authorization: `Bearer ${mine.token}` } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), '0');
    const get = await fetch(url, { headers: { Authorization: `Bearer ${mine.token}` } });
    assert.equal(get.status, 405, 'the quarantine is never served');
    const overflow = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, Authorization: `Bearer ${mine.token}`, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: randomBytes(65),
    });
    assert.equal(overflow.status, 413);
    assert.equal((await status(mine.upload_id)).status, 'uploading');
    const terminated = await fetch(url, { method: 'DELETE', headers: { ...TUS, Authorization: `Bearer ${mine.token}` } });
    assert.equal(terminated.status, 204);
  });

  it('never uses client metadata as a name: traversal and control characters stay out of the quarantine', async () => {
    const data = randomBytes(2048);
    const grant = await grantFor(data.length);
    const response = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        Authorization: `Bearer ${grant.token}`,
        'Upload-Length': String(data.length),
        'Upload-Metadata': `filename ${base64('../../etc/passwd')},filetype ${base64('text/html')},evil ${base64('a\u0000b\r\nc/../..')}`,
        'Content-Type': 'application/offset+octet-stream',
      },
      body: data,
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('upload-offset'), String(data.length));
    const names = await readdir(server.quarantineDir);
    for (const name of names) assert.match(name, /^[0-9A-HJKMNP-TV-Z]{26}(\.json)?$/, name);
    assert.ok(names.includes(grant.upload_id));
    const info = await readFile(join(server.quarantineDir, `${grant.upload_id}.json`), 'utf8');
    assert.doesNotMatch(info, /passwd|text\/html|evil/);
    assert.equal(sha256(await readFile(join(server.quarantineDir, grant.upload_id))), sha256(data));
    assert.equal((await status(grant.upload_id)).status, 'checking');
  });

  it('resumes an interrupted upload with a new client and stores identical bytes', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    const grant = await grantFor(data.length);
    const first = await tusUpload(grant, data, { chunkSize: 256 * 1024, stopAfterBytes: 256 * 1024 });
    assert.equal(first.finished, false);
    const head = await fetch(first.url, { method: 'HEAD', headers: { ...TUS, Authorization: `Bearer ${grant.token}` } });
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset < data.length, `offset ${offset}`);
    const second = await tusUpload(grant, data, { chunkSize: 256 * 1024, uploadUrl: first.url });
    assert.ok(second.finished);
    assert.equal(second.url, first.url);
    assert.equal(sha256(await readFile(join(server.quarantineDir, grant.upload_id))), sha256(data));
    assert.equal((await status(grant.upload_id)).status, 'checking');
  });

  it('answers 404 for an unknown or malformed upload id', async () => {
    assert.equal((await server.request(`/api/v1/uploads/${ulid()}`)).status, 404);
    assert.equal((await server.request('/api/v1/uploads/..%2F..%2Fetc%2Fpasswd')).status, 404);
  });

  it('rate-limits grant requests per client (429 with Retry-After)', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 45 && !limited; i++) {
      const response = await requestGrant(fileRequest(10));
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, 'the token endpoint must rate-limit a client');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await errorOf(limited)).code, 'rate_limited');
  });
});
