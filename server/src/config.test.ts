import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults for a fresh machine: in-memory bus, demo on, generated secrets', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.natsUrl, undefined);
    assert.equal(config.offlineGraceMs, 30_000);
    assert.equal(config.demo, true);
    assert.equal(config.generated.adminToken, true);
    assert.match(config.twitchEventSubSecret, /^[\x21-\x7e]{10,100}$/);
    assert.equal(config.publicUrl, 'http://127.0.0.1:8080');
  });

  it('names the bad variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ TWITCH_EVENTSUB_SECRET: 'short' }, 'TWITCH_EVENTSUB_SECRET'],
      [{ TWITCH_EVENTSUB_SECRET: 'x'.repeat(101) }, 'TWITCH_EVENTSUB_SECRET'],
      [{ TWITCH_EVENTSUB_SECRET: 'has spaces in it' }, 'TWITCH_EVENTSUB_SECRET'],
      [{ NATS_URL: 'http://localhost:4222' }, 'NATS_URL'],
      [{ OFFLINE_GRACE_MS: '-1' }, 'OFFLINE_GRACE_MS'],
      [{ PUBLIC_URL: 'javascript:alert(1)' }, 'PUBLIC_URL'],
      [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    ];
    for (const [environment, variable] of cases) {
      assert.throws(() => loadConfig(environment), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, variable);
        assert.match(error.message, new RegExp(variable));
        return true;
      });
    }
  });

  it('requires the secret and the admin token in production, and turns the demo off', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /TWITCH_EVENTSUB_SECRET/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret' }), /ADMIN_TOKEN/);
    const config = loadConfig({
      NODE_ENV: 'production',
      TWITCH_EVENTSUB_SECRET: 's3cret-s3cret',
      ADMIN_TOKEN: 'a'.repeat(32),
    });
    assert.equal(config.demo, false);
    assert.equal(config.generated.adminToken, false);
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), DEMO: '1' }),
      /DEMO/,
    );
  });

  it('treats empty variables as unset', () => {
    assert.equal(loadConfig({ NATS_URL: '', PORT: ' ' }).natsUrl, undefined);
  });
});
