import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../test/support/eventually.js';
import { startMain } from '../../test/support/main-process.js';
import { startNatsServer } from '../../test/support/nats-server.js';
import { findNatsServer } from './embedded-nats.js';

const ADMIN_TOKEN = 'embedded-admin-token-0123456789';

/** Processes whose command line names `storeDir` (Linux). */
async function processesUsing(storeDir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').includes(storeDir)) found.push(Number(entry));
  }
  return found;
}

const PRODUCTION = {
  NODE_ENV: 'production',
  TWITCH_EVENTSUB_SECRET: 'production-eventsub-secret-0123',
  ADMIN_TOKEN: 'production-admin-token-0123456789',
  UPLOAD_TOKEN_SECRET: 'production-upload-token-secret-0123456789',
  TOKEN_ENCRYPTION_KEYS: `prod-1:${Buffer.alloc(32, 9).toString('base64')}`,
  LOG_LEVEL: 'warn',
};

describe('main.ts: the bus it runs on, and what it says at start', () => {
  it('refuses to start in production without NATS_URL, naming the variable and the opt-in', async () => {
    await assert.rejects(startMain(PRODUCTION), (error: Error) => {
      assert.match(error.message, /exited before it was ready \(code 78/);
      assert.match(error.message, /NATS_URL: is required when NODE_ENV=production/);
      assert.match(error.message, /ALLOW_EPHEMERAL_BUS=1/);
      return true;
    });
  });

  it('a setting the running system refutes (BUS_REPLICAS=3 on one nats-server) stops the start with one line and exit 78, like a bad variable', async (t) => {
    const nats = await startNatsServer();
    t.after(() => nats.stop());
    await assert.rejects(startMain({ NATS_URL: nats.url, BUS_REPLICAS: '3', DEMO: '0' }), (error: Error) => {
      assert.match(error.message, /exited before it was ready \(code 78/);
      assert.match(error.message, /live-upload: invalid environment variable BUS_REPLICAS: is 3 but/);
      assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
      return true;
    });
  });

  it('runs production on the in-memory bus only when told to, warns at start, and /readyz does not claim durability', async (t) => {
    const main = await startMain({ ...PRODUCTION, ALLOW_EPHEMERAL_BUS: '1' });
    t.after(() => main.kill());
    assert.match(main.output(), /WARNING: PRODUCTION ON THE IN-MEMORY BUS/);
    assert.match(main.output(), /"level":40.*PRODUCTION ON THE IN-MEMORY BUS/, 'in the log as well');
    const ready = await fetch(`${main.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { durable: boolean }).durable, false);
    const metrics = await fetch(`${main.url}/metrics`);
    assert.equal(metrics.status, 404, 'production without METRICS_TOKEN or METRICS_PORT shows no metrics');
    assert.match(main.output(), /\/metrics is off: in production set METRICS_TOKEN/);
  });

  it('names the moderation page and the in-memory bus in the start banner of the demo', async (t) => {
    const main = await startMain({ LOG_LEVEL: 'warn' });
    t.after(() => main.kill());
    assert.match(main.output(), new RegExp(`moderation page: ${main.url.replace(/[.]/g, '\\.')}/moderation`));
    assert.match(main.output(), /admin token for this process: \S+/);
    assert.match(main.output(), /bus: in memory: .* lost when this process stops/);
  });

  it('keeps channels across a restart in a local nats-server with a file store; a second process on that store falls back to memory', { skip: (!findNatsServer() || process.platform !== 'linux') && 'needs nats-server and /proc' }, async (t) => {
    const storeDir = await mkdtemp(join(tmpdir(), 'live-upload-embedded-nats-'));
    t.after(() => rm(storeDir, { recursive: true, force: true }));
    const env = { EMBEDDED_NATS: 'auto', EMBEDDED_NATS_DIR: storeDir, DEMO: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN };
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

    const first = await startMain(env);
    t.after(() => first.kill());
    assert.match(first.output(), /bus: NATS JetStream, a local nats-server this process started .*state is kept across restarts/, first.output());
    assert.equal(((await (await fetch(`${first.url}/readyz`)).json()) as { durable: boolean }).durable, true);
    const put = await fetch(`${first.url}/api/v1/channels/acme/kept`, { method: 'PUT', headers: admin, body: JSON.stringify({ title: 'Kept across restarts', providers: {} }) });
    assert.equal(put.status, 201);

    const second = await startMain(env);
    t.after(() => second.kill());
    assert.match(second.output(), /bus: in memory, because .* is in use by live-upload process \d+/, 'one process owns a store');
    assert.equal((await second.stop()).code, 0);

    assert.equal((await first.stop()).code, 0);
    assert.deepEqual(await processesUsing(storeDir), [], `its nats-server stopped with it; output:\n${first.output()}`);

    const again = await startMain(env);
    t.after(() => again.kill());
    const channel = await fetch(`${again.url}/api/v1/channels/acme/kept`);
    assert.equal(channel.status, 200);
    assert.equal(((await channel.json()) as { title: string }).title, 'Kept across restarts');
    assert.equal((await again.stop()).code, 0);
  });
  it('a demo run stopped while LIVE does not come back LIVE with nothing behind it: the simulated streamer ends that broadcast', { skip: !findNatsServer() && 'needs nats-server' }, async (t) => {
    const storeDir = await mkdtemp(join(tmpdir(), 'live-upload-embedded-nats-'));
    t.after(() => rm(storeDir, { recursive: true, force: true }));
    const env = { EMBEDDED_NATS: 'auto', EMBEDDED_NATS_DIR: storeDir, LOG_LEVEL: 'warn', ADMIN_TOKEN, OFFLINE_GRACE_MS: '500' };
    const status = async (url: string) => ((await (await fetch(`${url}/api/v1/channels/acme/morning-show/status`)).json()) as { status: string }).status;

    const first = await startMain(env);
    t.after(() => first.kill());
    const live = await fetch(`${first.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'online' }) });
    assert.equal(live.status, 202);
    await eventually(async () => (await status(first.url)) === 'live', 'the demo channel LIVE');
    assert.equal((await first.stop()).code, 0);

    const again = await startMain(env);
    t.after(() => again.kill());
    const streamer = (await (await fetch(`${again.url}/demo/api/streamer`)).json()) as Record<string, unknown>;
    assert.equal(streamer['streaming'], false, `the panel does not claim a stream: ${JSON.stringify(streamer)}`);
    assert.equal(typeof streamer['offline_in_ms'], 'number', `the panel counts the grace window down: ${JSON.stringify(streamer)}`);
    await eventually(async () => (await status(again.url)) === 'offline', 'the previous broadcast ended after the grace window');
    assert.equal((await again.stop()).code, 0);
  });
});
