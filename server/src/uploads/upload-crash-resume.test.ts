/**
 * `kill -9` of the real server (`node --import tsx server/src/main.ts`) in the middle of a tus
 * PATCH: started again on the same quarantine directory and NATS, the client resumes from
 * the offset the server reports and the stored file is byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as tus from 'tus-js-client';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Spawns main.ts and resolves once it prints its URL. */
async function startMain(env: Record<string, string>): Promise<ChildProcess> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main.ts did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('live-upload is running at')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited (${code ?? signal}):\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

describe('an upload survives kill -9 of the server', () => {
  let nats: NatsServerHandle;
  let quarantineDir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    nats = await startNatsServer();
    quarantineDir = await mkdtemp(join(tmpdir(), 'live-upload-crash-'));
  });
  after(async () => {
    if (child) await killHard(child);
    await nats.stop();
    await rm(quarantineDir, { recursive: true, force: true });
  });

  it('resumes after SIGKILL mid-PATCH; the stored file is byte-identical and the record reaches checking', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      NATS_URL: nats.url,
      QUARANTINE_DIR: quarantineDir,
      ADMIN_TOKEN,
      TWITCH_EVENTSUB_SECRET: 'crash-test-eventsub-secret-0123',
      UPLOAD_TOKEN_SECRET: 'crash-test-upload-token-secret-0123456789',
      DEMO: '0',
      LOG_LEVEL: 'warn',
    };
    child = await startMain(env);
    const channel = await fetch(`${base}/api/v1/channels/acme/crash`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ uploads: 'open', providers: {} }),
    });
    assert.equal(channel.status, 201);

    const data = randomBytes(4 * 1024 * 1024);
    const grantResponse = await fetch(`${base}/api/v1/uploads/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'acme/crash', filename: 'crash.webm', size: data.length, type: 'video/webm', source: 'recording' }),
    });
    assert.equal(grantResponse.status, 201);
    const grant = (await grantResponse.json()) as { upload_url: string; token: string; upload_id: string };
    const auth = { Authorization: `Bearer ${grant.token}`, 'Tus-Resumable': '1.0.0' };
    const created = await fetch(grant.upload_url, { method: 'POST', headers: { ...auth, 'Upload-Length': String(data.length) } });
    assert.equal(created.status, 201);
    const uploadUrl = new URL(created.headers.get('location') ?? '', grant.upload_url).href;

    // One PATCH for everything, but only the first megabyte is sent before the server dies.
    const patch = httpRequest(uploadUrl, {
      method: 'PATCH',
      headers: { ...auth, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(data.length) },
    });
    const patchSettled = new Promise<void>((resolve) => {
      patch.once('error', () => resolve());
      patch.once('response', () => resolve());
    });
    patch.write(data.subarray(0, 1024 * 1024));
    const stored = join(quarantineDir, grant.upload_id);
    for (let attempt = 0; attempt < 200 && (await stat(stored)).size === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.ok((await stat(stored)).size > 0, 'some bytes reached the quarantine before the kill');
    await killHard(child);
    child = undefined;
    await patchSettled;

    child = await startMain(env);
    const resumed = await new Promise<string>((resolve, reject) => {
      const upload: tus.Upload = new tus.Upload(data, {
        endpoint: grant.upload_url,
        uploadUrl,
        headers: { Authorization: `Bearer ${grant.token}` },
        chunkSize: 1024 * 1024,
        uploadSize: data.length,
        retryDelays: null,
        storeFingerprintForResuming: false,
        onSuccess: () => resolve(upload.url ?? ''),
        onError: reject,
      });
      upload.start();
    });
    assert.equal(resumed, uploadUrl);
    assert.equal(sha256(await readFile(stored)), sha256(data));
    const record = (await (await fetch(`${base}/api/v1/uploads/${grant.upload_id}`)).json()) as { status: string };
    // The moderation worker may already have checked the random bytes (and rejected them).
    assert.ok(['checking', 'rejected'].includes(record.status), record.status);
  });
});
