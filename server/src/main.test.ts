import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startMain } from '../../test/support/main-process.js';

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
});
