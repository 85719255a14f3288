/**
 * `kill -9` of the real server (`node --import tsx server/src/main.ts` on NATS) while an upload
 * is being moderated, and while an approved upload is being transcoded. Started again on the
 * same NATS, quarantine and media directories, the job is redelivered and applied once: one
 * approval, one publish, one published directory, the media served.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { STAGING_DIR_NAME } from '../../server/src/publishing/index.js';
import { mediaFixtures } from '../fixtures/media-fixtures.js';
import { eventually } from '../support/eventually.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { uploadThroughTus } from '../support/tus-upload.js';

const ADMIN_TOKEN = 'pipeline-crash-admin-token-0123456789';

interface UploadStatus {
  readonly status: string;
  readonly media?: { readonly mp4: string };
}

describe('the upload pipeline survives kill -9 of the server (NATS)', () => {
  let nats: NatsServerHandle;
  let quarantineDir: string;
  let mediaDir: string;
  let main: MainProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    nats = await startNatsServer();
    quarantineDir = await mkdtemp(join(tmpdir(), 'live-upload-crash-quarantine-'));
    mediaDir = await mkdtemp(join(tmpdir(), 'live-upload-crash-media-'));
    env = {
      NATS_URL: nats.url,
      QUARANTINE_DIR: quarantineDir,
      MEDIA_DIR: mediaDir,
      ADMIN_TOKEN,
      TWITCH_EVENTSUB_SECRET: 'pipeline-crash-eventsub-secret',
      UPLOAD_TOKEN_SECRET: 'pipeline-crash-upload-token-secret-0123456789',
      MODERATION_POLICY: 'auto',
      // The tests poll the upload status; the per-client limit is not what they are about.
      STATUS_RATE_LIMIT_PER_MINUTE: '100000',
      DEMO: '0',
      LOG_LEVEL: 'warn',
    };
    main = await startMain(env);
    const channel = await api('/api/v1/channels/acme/crash', { method: 'PUT', body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.equal(channel.status, 201);
  });
  afterEach(async () => {
    // Each test leaves a running server behind for the next one; a failed one may not.
    if (!main) main = await startMain(env);
  });
  after(async () => {
    await main?.stop();
    await nats?.stop();
    await rm(quarantineDir, { recursive: true, force: true });
    await rm(mediaDir, { recursive: true, force: true });
  });

  function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${main!.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
    });
  }

  /** Grant + the whole fixture clip through tus; resolves with the upload id once the last PATCH is answered. */
  async function uploadClip(title: string): Promise<string> {
    const data = await readFile((await mediaFixtures()).validMp4);
    const response = await api('/api/v1/uploads/token', {
      method: 'POST',
      body: JSON.stringify({ channel: 'acme/crash', filename: 'crash.mp4', size: data.length, type: 'video/mp4', source: 'file', title }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const grant = (await response.json()) as { upload_url: string; token: string; upload_id: string };
    await uploadThroughTus(grant, data, main!.url);
    return grant.upload_id;
  }

  async function statusOf(uploadId: string): Promise<UploadStatus> {
    return (await (await api(`/api/v1/uploads/${uploadId}`)).json()) as UploadStatus;
  }

  async function restartAndAwaitPublished(uploadId: string): Promise<UploadStatus> {
    main = await startMain(env);
    return eventually(
      async () => {
        const record = await statusOf(uploadId);
        assert.notEqual(record.status, 'rejected', 'a redelivered job must not be counted as a failure');
        return record.status === 'published' ? record : undefined;
      },
      `upload ${uploadId} to be published after the restart`,
      60_000,
      { intervalMs: 250 },
    );
  }

  async function assertAppliedOnce(uploadId: string, published: UploadStatus): Promise<void> {
    const video = await fetch(`${main!.url}${published.media!.mp4}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal(video.status, 206);
    await video.body?.cancel();
    const auditResponse = await api('/api/v1/audit?limit=200');
    assert.equal(auditResponse.status, 200);
    const audit = (await auditResponse.json()) as { records: Array<{ action: string; target: string }> };
    const actions = audit.records.filter((record) => record.target === uploadId).map((record) => record.action);
    for (const action of ['upload.approved', 'upload.published']) {
      assert.equal(actions.filter((name) => name === action).length, 1, `${action} once: ${actions.join(',')}`);
    }
    assert.ok((await readdir(mediaDir)).includes(uploadId), 'published into its own directory');
  }

  it('redelivers a moderation job cut off by the crash and applies it once', async (t) => {
    const uploadId = await uploadClip('Crash while checking');
    // The last PATCH was answered: the moderation job is on the bus and the worker is at it.
    const atCrash = (await statusOf(uploadId)).status;
    await main!.kill();
    t.diagnostic(`status when killed: ${atCrash}`);
    main = undefined;
    const published = await restartAndAwaitPublished(uploadId);
    assert.ok(['uploading', 'checking', 'approved', 'published'].includes(atCrash), atCrash);
    await assertAppliedOnce(uploadId, published);
  });

  it('redelivers a promotion job cut off mid-transcode and publishes exactly once', async () => {
    const uploadId = await uploadClip('Crash while transcoding');
    await eventually(
      async () => {
        const staged = await readdir(join(mediaDir, STAGING_DIR_NAME)).catch(() => []);
        return staged.some((name) => name.startsWith(uploadId));
      },
      'the transcode to start',
      60_000,
    );
    await main!.kill();
    main = undefined;
    const published = await restartAndAwaitPublished(uploadId);
    await assertAppliedOnce(uploadId, published);
  });
});
