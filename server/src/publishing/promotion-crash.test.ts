/**
 * `kill -9` of the real server (`node --import tsx server/src/main.ts` on NATS) in the middle
 * of the transcode of an approved upload: started again on the same NATS, quarantine and media
 * directories, the promotion job is redelivered and applied once: one published directory, one
 * audit record of each kind, and the media served.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tus from 'tus-js-client';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { startMain, type MainProcess } from '../../../test/support/main-process.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { STAGING_DIR_NAME } from './promotion-worker.js';

const ADMIN_TOKEN = 'promotion-crash-admin-token-0123456789';

/** Polls a condition with no event to wait on (another process's disk, its HTTP API), bounded. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

describe('promotion survives kill -9 of the server mid-transcode (NATS)', () => {
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
      TWITCH_EVENTSUB_SECRET: 'promotion-crash-eventsub-secret',
      UPLOAD_TOKEN_SECRET: 'promotion-crash-upload-token-secret-0123456789',
      MODERATION_POLICY: 'auto',
      // The test polls the upload status; the per-client limit is not what it is about.
      STATUS_RATE_LIMIT_PER_MINUTE: '100000',
      DEMO: '0',
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    await main?.kill();
    await nats?.stop();
    await rm(quarantineDir, { recursive: true, force: true });
    await rm(mediaDir, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${main!.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
    });

  it('redelivers the job after the crash and publishes exactly once', async () => {
    main = await startMain(env);
    const channel = await api('/api/v1/channels/acme/crash', { method: 'PUT', body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.equal(channel.status, 201);

    const data = await readFile((await mediaFixtures()).validMp4);
    const grantResponse = await api('/api/v1/uploads/token', {
      method: 'POST',
      body: JSON.stringify({ channel: 'acme/crash', filename: 'crash.mp4', size: data.length, type: 'video/mp4', source: 'file', title: 'Crash test' }),
    });
    assert.equal(grantResponse.status, 201, await grantResponse.clone().text());
    const grant = (await grantResponse.json()) as { upload_url: string; token: string; upload_id: string };
    await new Promise<void>((resolve, reject) => {
      new tus.Upload(data, {
        endpoint: new URL(grant.upload_url, main!.url).href,
        headers: { Authorization: `Bearer ${grant.token}` },
        uploadSize: data.length,
        retryDelays: null,
        storeFingerprintForResuming: false,
        onSuccess: () => resolve(),
        onError: reject,
      }).start();
    });

    // Auto policy: the checks pass, the job is promoted, the transcode starts in staging.
    await eventually('the transcode to start', async () => {
      const staged = await readdir(join(mediaDir, STAGING_DIR_NAME)).catch(() => []);
      return staged.some((name) => name.startsWith(grant.upload_id)) ? true : undefined;
    });
    await main.kill();

    main = await startMain(env);
    const published = await eventually('the upload to be published after the restart', async () => {
      const response = await api(`/api/v1/uploads/${grant.upload_id}`);
      const record = (await response.json()) as { status: string; media?: { mp4: string; hls: string; poster: string } };
      assert.notEqual(record.status, 'rejected', 'a redelivered transcode must not be counted as a failure');
      return record.status === 'published' ? record : undefined;
    }, 60_000, 250);

    const video = await fetch(`${main.url}${published.media!.mp4}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal(video.status, 206);
    await video.body?.cancel();

    const audit = (await (await api('/api/v1/audit?limit=200')).json()) as { records: Array<{ action: string; target: string }> };
    const forUpload = audit.records.filter((record) => record.target === grant.upload_id).map((record) => record.action);
    assert.equal(forUpload.filter((action) => action === 'upload.approved').length, 1, forUpload.join(','));
    assert.equal(forUpload.filter((action) => action === 'upload.published').length, 1, forUpload.join(','));

    const entries = await readdir(mediaDir);
    assert.deepEqual(entries.filter((name) => name !== STAGING_DIR_NAME), [grant.upload_id], 'one published directory');
    await main.stop();
    main = undefined;
  });
});
