import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FFMPEG_CORE_DIRS } from '../../element/src/live-upload/ffmpeg-core-dirs.js';
import { freePort } from '../../server/src/free-port.js';
import { createEventSubSender, deliver, resign } from '../fakes/twitch/eventsub.js';
import { mediaFixtures } from '../fixtures/media-fixtures.js';
import { eventually } from '../support/eventually.js';
import { tokenKeyRing } from '../support/provider-fakes.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { uploadThroughTus, type TusGrant } from '../support/tus-upload.js';
import { readRuntimeContract } from './dockerfile-runtime.js';
import { podman, removeQuietly, run } from './podman.js';

/**
 * The image of the root Dockerfile, built and run the way an operator runs it: read-only root
 * file system, a tmpfs /tmp, a data volume, production configuration from the environment, a
 * real nats-server. It answers /healthz, accepts a signed Twitch webhook into a channel's live
 * state, takes an upload into its quarantine and checks it with its ffmpeg, runs as a non-root user, has a working HEALTHCHECK, and exits 0 on `podman stop`
 * (SIGTERM) within main.ts's deadline. Container, volume and image are removed on every path.
 *
 * Building needs podman, buildah, runc and mmdebstrap (installed with apt when root on Debian)
 * and a Debian base image (built once with mmdebstrap and cached; minutes the first time). Where
 * that is impossible, the test says why in one line and checks the image's entry-point contract
 * as a process instead: the Dockerfile's command and environment, a non-root user, state only in
 * the data directory. `CONTAINER_TEST=process` chooses that path on purpose.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const APP_DIR = join(root, 'dist/container/app');
const BASE_IMAGE = 'localhost/live-upload-base:trixie';

/** main.ts exits by itself 10 s after a signal at the latest; podman stop waits a little longer before SIGKILL. */
const EXIT_DEADLINE_MS = 10_000;
const STOP_GRACE_SECONDS = 15;

const TWITCH_SECRET = 'container-test-twitch-secret';
const ADMIN_TOKEN = 'container-test-admin-token-0123456789';
const BROADCASTER = { id: '424242', login: 'container_smoke', name: 'Container_Smoke' };

/** Production secrets and the bus, as an operator passes them at run time (never in the image). */
function runtimeEnvironment(natsUrl: string, port: number): Record<string, string> {
  return {
    PORT: String(port),
    NATS_URL: natsUrl,
    TWITCH_EVENTSUB_SECRET: TWITCH_SECRET,
    ADMIN_TOKEN,
    UPLOAD_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    TOKEN_ENCRYPTION_KEYS: tokenKeyRing(),
    // No outside connections from a test: no Bluesky firehose.
    BLUESKY_JETSTREAM_URL: 'off',
    LOG_LEVEL: 'warn',
  };
}

/** Whether this machine can build and run the image, and if not, why (one line). */
async function containerSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.env['CONTAINER_TEST'] === 'process') return { ok: false, reason: 'CONTAINER_TEST=process asks for the process contract' };
  const tools = await run('bash', ['scripts/container/ensure-container-tools.sh'], { progress: true });
  if (tools.code !== 0) return { ok: false, reason: tools.stderr.trim().split('\n').at(-1) ?? 'the container tools are missing' };
  const base = await run('bash', ['scripts/container/build-base-image.sh'], { progress: true, timeoutMs: 20 * 60_000 });
  if (base.code !== 0) return { ok: false, reason: `the Debian base image could not be made: ${base.stderr.trim().split('\n').at(-1) ?? `exit ${base.code}`}` };
  return { ok: true };
}

/** Lays out /app (compiled server, production dependencies, browser bundles) as the image build copies it. */
async function prepareApp(): Promise<void> {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/container/prepare-app.ts', APP_DIR], { progress: true, timeoutMs: 5 * 60_000 });
  assert.equal(result.code, 0, `prepare-app failed: ${result.stderr}`);
}

/** What must hold of any running instance of the image: health, and a signed webhook reaching a channel's live state. */
function itServes(url: () => string): void {
  it('answers /healthz, and /readyz on the durable bus', async () => {
    const health = await fetch(`${url()}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${url()}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', bus: 'nats', durable: true });
  });

  it('serves the browser bundles and the FFmpeg.wasm cores built into it', async () => {
    for (const [path, type] of [
      ['/element/live-badge.js', 'text/javascript'],
      ['/element/live-upload.js', 'text/javascript'],
      ['/element/ffmpeg/ffmpeg-worker.js', 'text/javascript'],
      // The cores' versioned directories the element loads them from (not the old names' redirects).
      [`/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.wasm`, 'application/wasm'],
      [`/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.worker.js`, 'text/javascript'],
    ] as const) {
      const response = await fetch(`${url()}${path}`, { method: 'HEAD', redirect: 'manual' });
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
    }
  });

  it('accepts a signed Twitch webhook into the channel it is linked to, and refuses a forged one', async () => {
    const created = await fetch(`${url()}/api/v1/channels/container/smoke`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Container smoke', providers: { twitch: { user_id: BROADCASTER.id, login: BROADCASTER.login } } }),
    });
    assert.equal(created.status, 201, await created.text());
    const twitch = createEventSubSender({ secret: TWITCH_SECRET, callback: `${url()}/webhooks/twitch`, broadcaster: BROADCASTER });

    const forged = await deliver(`${url()}/webhooks/twitch`, resign(twitch.streamOnline(), 'not-the-configured-secret'));
    assert.equal(forged.status, 403, await forged.text());
    const accepted = await deliver(`${url()}/webhooks/twitch`, twitch.streamOnline());
    assert.equal(accepted.status, 204, await accepted.text());

    const status = await eventually(
      async () => {
        const response = await fetch(`${url()}/api/v1/channels/container/smoke/status`);
        const summary = (await response.json()) as { status?: string };
        return summary.status === 'live' && summary;
      },
      'the channel to be live after the webhook',
      15_000,
      { intervalMs: 200 },
    );
    assert.equal(status.status, 'live');
  });

  it('takes an upload into its quarantine and checks it with its own ffprobe and ffmpeg', async () => {
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
    const channel = await fetch(`${url()}/api/v1/channels/container/uploads`, { method: 'PUT', headers: admin, body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.equal(channel.status, 201, await channel.text());
    const data = await readFile((await mediaFixtures()).validMp4);
    const granted = await fetch(`${url()}/api/v1/uploads/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'container/uploads', filename: 'clip.mp4', size: data.length, type: 'video/mp4', source: 'file', title: 'Container clip' }),
    });
    assert.equal(granted.status, 201, await granted.clone().text());
    const grant = (await granted.json()) as TusGrant & { upload_id: string };
    await uploadThroughTus(grant, data, url());
    // The review policy: every check passed (ffprobe and ffmpeg ran on the quarantined file), now a moderator decides.
    const record = await eventually(
      async () => {
        const upload = (await (await fetch(`${url()}/api/v1/uploads/${grant.upload_id}`, { headers: admin })).json()) as { status: string; checks?: unknown };
        assert.notEqual(upload.status, 'rejected', `the checks rejected the upload: ${JSON.stringify(upload.checks)}`);
        return upload.status === 'in_review' && upload;
      },
      'the upload to pass its checks',
      30_000,
      { intervalMs: 250 },
    );
    assert.equal(record.status, 'in_review');
  });
}

const support = await containerSupport();
if (!support.ok) process.stderr.write(`container image test: not building the image (${support.reason}); checking the entry-point contract as a process instead\n`);

describe('the container image (podman, read-only root, a data volume)', { skip: !support.ok && 'no container engine here: see the process contract below' }, () => {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const image = `localhost/live-upload-test:${suffix}`;
  const container = `live-upload-test-${suffix}`;
  const volume = `live-upload-test-data-${suffix}`;
  let nats: NatsServerHandle | undefined;
  let url = '';

  before(
    async () => {
      await prepareApp();
      const started = performance.now();
      await podman(['build', '--quiet', '--format', 'docker', '--build-arg', `BASE=${BASE_IMAGE}`, '--build-arg', 'APP=app-prebuilt', '--tag', image, '.'], { timeoutMs: 5 * 60_000 });
      process.stderr.write(`container image test: image built in ${Math.round(performance.now() - started)} ms (${await podman(['image', 'inspect', '--format', '{{.Size}}', image]).then((bytes) => `${Math.round(Number(bytes) / 1e6)} MB`)})\n`);
      nats = await startNatsServer();
      const port = await freePort();
      await podman(['volume', 'create', volume]);
      const env = Object.entries(runtimeEnvironment(nats.url, port)).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
      // Host networking: the container reaches the test's nats-server on 127.0.0.1, and we reach it on PORT.
      await podman(['run', '--detach', '--name', container, '--network', 'host', '--read-only', '--tmpfs', '/tmp:rw,size=64m,mode=1777', '--volume', `${volume}:/data`, ...env, image]);
      url = `http://127.0.0.1:${port}`;
      await eventually(
        async () => {
          const state = await podman(['inspect', '--format', '{{.State.Status}}', container]);
          if (state === 'exited') throw new Error(`the container exited at start:\n${(await run('podman', ['logs', container])).stderr}`);
          return await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
        },
        'the container to answer /healthz',
        30_000,
        { intervalMs: 100 },
      );
    },
    { timeout: 25 * 60_000 },
  );

  after(
    async () => {
      await removeQuietly('container', container);
      await removeQuietly('volume', volume);
      await removeQuietly('image', image);
      await nats?.stop();
    },
    { timeout: 60_000 },
  );

  itServes(() => url);

  it('runs as a non-root user, with a HEALTHCHECK that passes and SIGTERM as its stop signal', async () => {
    assert.notEqual(await podman(['exec', container, 'id', '-u']), '0');
    const [inspected] = JSON.parse(await podman(['image', 'inspect', image])) as [{ Config: { User?: string; StopSignal?: string }; Healthcheck?: { Test?: string[] } }];
    assert.ok(inspected.Config.User && !/^(0|root)(:|$)/.test(inspected.Config.User), `image user ${inspected.Config.User}`);
    assert.equal(inspected.Config.StopSignal, 'SIGTERM');
    // A docker-format image keeps HEALTHCHECK (the OCI format has no field for it).
    assert.deepEqual(inspected.Healthcheck?.Test, ['CMD', 'node', '/app/deploy/healthcheck.mjs']);
    // No systemd here to run it on a timer: run it once by hand.
    await podman(['healthcheck', 'run', container]);
    assert.equal(await podman(['inspect', '--format', '{{.State.Health.Status}}', container]), 'healthy');
  });

  it('keeps its state in the data volume only: the root file system stays read-only', async () => {
    assert.ok((await podman(['exec', container, 'ls', '/data'])).split('\n').includes('quarantine'), 'the quarantine is in the data volume');
    assert.notEqual(await podman(['exec', container, 'ls', '/data/quarantine']), '', 'the upload is in the quarantine');
    const write = await run('podman', ['exec', container, 'sh', '-c', 'echo x > /app/written']);
    assert.notEqual(write.code, 0, 'a write to /app must fail');
  });

  it('exits 0 on podman stop (SIGTERM) within its deadline', async () => {
    const started = performance.now();
    await podman(['stop', '--time', String(STOP_GRACE_SECONDS), container], { timeoutMs: (STOP_GRACE_SECONDS + 10) * 1000 });
    const elapsedMs = performance.now() - started;
    const exitCode = await podman(['inspect', '--format', '{{.State.ExitCode}}', container]);
    assert.equal(exitCode, '0', `exit code ${exitCode}; logs:\n${(await run('podman', ['logs', container])).stdout.slice(-4000)}`);
    assert.ok(elapsedMs < EXIT_DEADLINE_MS, `stopped after ${Math.round(elapsedMs)} ms`);
  });
});

describe('the image entry-point contract, as a process', { skip: support.ok && 'the image itself is tested above' }, () => {
  let nats: NatsServerHandle | undefined;
  let dataDir = '';
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';
  let url = '';
  /** The image's user when we are root (the process then drops to it), else whoever runs the tests. */
  const uid = process.getuid?.() === 0 ? 10001 : undefined;

  before(
    async () => {
      await prepareApp();
      const contract = await readRuntimeContract();
      nats = await startNatsServer();
      dataDir = await mkdtemp(join(tmpdir(), 'live-upload-container-data-'));
      if (uid !== undefined) await chown(dataDir, uid, uid);
      const port = await freePort();
      // The image's own environment, with its data volume at our temporary directory.
      const imageEnv = Object.fromEntries(Object.entries(contract.env).map(([name, value]) => [name, value.replace(/^\/data(?=\/|$)/, dataDir)]));
      const [command, ...args] = contract.command;
      assert.equal(command, 'node', 'the image runs node');
      child = spawn(process.execPath, args, {
        cwd: APP_DIR,
        env: { PATH: process.env['PATH'], ...imageEnv, HOME: tmpdir(), ...runtimeEnvironment(nats.url, port) },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(uid === undefined ? {} : { uid, gid: uid }),
      });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      url = `http://127.0.0.1:${port}`;
      await eventually(
        async () => {
          if (child!.exitCode !== null) throw new Error(`the entry point exited at start:\n${output}`);
          return await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
        },
        'the entry point to answer /healthz',
        30_000,
        { intervalMs: 100 },
      );
    },
    { timeout: 10 * 60_000 },
  );

  after(
    async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await nats?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  itServes(() => url);

  it('keeps its state in the data directory, not in its working directory', async () => {
    assert.ok((await readdir(dataDir)).includes('quarantine'), 'the quarantine is in the data directory');
    assert.notEqual((await readdir(join(dataDir, 'quarantine'))).length, 0, 'the upload is in the quarantine');
    assert.ok(!(await readdir(APP_DIR)).includes('.data'), 'nothing written under the app directory');
  });

  it('exits 0 on SIGTERM within its deadline', async () => {
    const started = performance.now();
    const exited = once(child!, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child!.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, output.slice(-4000));
    assert.ok(performance.now() - started < EXIT_DEADLINE_MS);
  });
});
