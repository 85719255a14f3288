import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { evidenceImageType } from './moderation-routes.js';

const MODERATOR_TOKEN = 'moderator-token-evidence-0123456789';
const asModerator = { Authorization: `Bearer ${MODERATOR_TOKEN}` };
const asAdmin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const json = { 'Content-Type': 'application/json' };
/** Not a real picture: the route serves bytes by name, the type from the extension, and never sniffs. */
const FRAME_BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);

describe('moderation: evidence images and approval with faces blurred', () => {
  let server: TestServer;
  let quarantine: FilesystemObjectStore;

  before(async () => {
    server = await startTestServer({ env: { MODERATOR_TOKENS: MODERATOR_TOKEN, MODERATION_POLICY: 'review', WORKERS: 'moderation', UPLOAD_RATE_LIMIT_PER_MINUTE: '100', STATUS_RATE_LIMIT_PER_MINUTE: '10000' } });
    quarantine = new FilesystemObjectStore(server.quarantineDir);
  });
  after(() => server.close());

  async function uploadInReview(title: string): Promise<string> {
    const data = await readFile((await mediaFixtures()).validFaststartMp4);
    const response = await server.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size: data.length, type: 'video/mp4', source: 'file', title }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const grant = (await response.json()) as { upload_url: string; token: string; upload_id: string };
    await uploadThroughTus(grant, data);
    await eventually(
      async () => ((await (await server.request(`/api/v1/uploads/${grant.upload_id}`, { headers: asAdmin })).json()) as { status: string }).status === 'in_review',
      `upload ${grant.upload_id} in review`,
      60_000,
      { intervalMs: 250 },
    );
    return grant.upload_id;
  }

  it("streams an upload's own evidence frames to moderators only, never cached, and nothing outside its evidence prefix", async () => {
    const [uploadId, otherId] = await Promise.all([uploadInReview('with evidence'), uploadInReview('another')]);
    await quarantine.put(`evidence/${uploadId}/frame-0003.jpg`, FRAME_BYTES);
    await quarantine.put(`evidence/${otherId}/other-frame.jpg`, FRAME_BYTES);
    await quarantine.put(`evidence/${uploadId}/notes.html`, Buffer.from('<script>alert(1)</script>'));
    const base = `/api/v1/moderation/${uploadId}/evidence`;

    const served = await server.request(`${base}/frame-0003.jpg`, { headers: asModerator });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');
    assert.equal(served.headers.get('cache-control'), 'private, no-store');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), FRAME_BYTES);
    assert.equal((await server.request(`${base}/frame-0003.jpg`, { headers: asAdmin })).status, 200, 'the admin too');

    const anonymous = await server.request(`${base}/frame-0003.jpg`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    const refused = [
      `${base}/other-frame.jpg`, // another upload's frame, named from this one
      `${base}/notes.html`, // not an image
      `${base}/..%2F${otherId}%2Fother-frame.jpg`,
      `${base}/..%2F..%2F${uploadId}`,
      `${base}/%2e%2e%2f%2e%2e%2f${uploadId}.jpg`,
      `${base}/.hidden.jpg`,
      `${base}/frame-0003.jpg%00.png`,
      `${base}/missing.png`,
      `/api/v1/moderation/not-an-id/evidence/frame-0003.jpg`,
      `/api/v1/moderation/01ARZ3NDEKTSV4RRFFQ69G5FAV/evidence/frame-0003.jpg`,
    ];
    for (const path of refused) {
      const response = await server.request(path, { headers: asModerator });
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/, path);
      await response.body?.cancel();
    }
    // Through `/api/v1/moderation/:id/evidence/a/b`: no route has two segments there.
    const nested = await server.request(`${base}/${otherId}/other-frame.jpg`, { headers: asModerator });
    assert.equal(nested.status, 404);
    await nested.body?.cancel();
  });

  it('approve_blurred approves and records publish_options.blur_faces on the record and in the audit', async () => {
    const uploadId = await uploadInReview('faces to blur');
    const response = await server.request(`/api/v1/moderation/${uploadId}/decision`, {
      method: 'POST',
      headers: { ...json, ...asModerator },
      body: JSON.stringify({ decision: 'approve_blurred' }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { upload_id: uploadId, status: 'approved', publish_options: { blur_faces: true } });
    const record = (await (await server.request(`/api/v1/uploads/${uploadId}`, { headers: asAdmin })).json()) as Record<string, unknown>;
    assert.deepEqual(record['publish_options'], { blur_faces: true });
    const { records } = (await (await server.request('/api/v1/audit?limit=200', { headers: asAdmin })).json()) as {
      records: Array<{ action: string; target: string; details?: Record<string, unknown> }>;
    };
    const approval = records.find((entry) => entry.target === uploadId && entry.action === 'upload.approved');
    assert.deepEqual(approval?.details?.['publish_options'], { blur_faces: true });

    const again = await server.request(`/api/v1/moderation/${uploadId}/decision`, {
      method: 'POST',
      headers: { ...json, ...asModerator },
      body: JSON.stringify({ decision: 'approve_blurred' }),
    });
    assert.equal(again.status, 409, 'a second decision never applies');
    const unknown = await server.request(`/api/v1/moderation/${uploadId}/decision`, {
      method: 'POST',
      headers: { ...json, ...asModerator },
      body: JSON.stringify({ decision: 'approve', blur_faces: 'yes' }),
    });
    assert.equal(unknown.status, 400);
  });

  it('evidence names: one segment, an image extension', () => {
    assert.equal(evidenceImageType('frame-0003.jpg'), 'image/jpeg');
    assert.equal(evidenceImageType('frame.webp'), 'image/webp');
    for (const name of ['../x.jpg', 'a/b.jpg', '.x.jpg', 'x.jpg.html', 'x', 'x.svg', 'x..jpg', `${'a'.repeat(200)}.jpg`, 'x .jpg', 'x\u0000.jpg']) {
      assert.equal(evidenceImageType(name), undefined, name);
    }
  });
});
