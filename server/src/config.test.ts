import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

const TEST_KEY_RING = `k2:${Buffer.alloc(32, 2).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64url')}`;

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
    assert.equal(config.origin.maxSessions, availableParallelism(), 'one WHIP session per CPU');
    assert.equal(loadConfig({ ORIGIN_MAX_SESSIONS: '9' }).origin.maxSessions, 9);
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
      [{ UPLOAD_TOKEN_SECRET: 'too-short' }, 'UPLOAD_TOKEN_SECRET'],
      [{ UPLOAD_MAX_BYTES: '0' }, 'UPLOAD_MAX_BYTES'],
      [{ UPLOAD_MAX_BYTES: 'lots' }, 'UPLOAD_MAX_BYTES'],
      [{ UPLOAD_ALLOWED_TYPES: 'video' }, 'UPLOAD_ALLOWED_TYPES'],
      [{ UPLOAD_ALLOWED_TYPES: ' , ' }, 'UPLOAD_ALLOWED_TYPES'],
      [{ UPLOAD_RATE_LIMIT_PER_MINUTE: '0' }, 'UPLOAD_RATE_LIMIT_PER_MINUTE'],
      [{ UPLOAD_CHANNEL_MAX_PENDING: '0' }, 'UPLOAD_CHANNEL_MAX_PENDING'],
      [{ UPLOAD_CHANNEL_MAX_PENDING: 'many' }, 'UPLOAD_CHANNEL_MAX_PENDING'],
      [{ QUARANTINE_DIR: '/' }, 'QUARANTINE_DIR'],
      [{ QUARANTINE_DIR: 'demo/dist/quarantine' }, 'QUARANTINE_DIR'],
      [{ QUARANTINE_DIR: 'element/dist' }, 'QUARANTINE_DIR'],
      [{ MODERATION_POLICY: 'yolo' }, 'MODERATION_POLICY'],
      [{ MODERATOR_TOKENS: 'short' }, 'MODERATOR_TOKENS'],
      [{ MODERATOR_TOKENS: 'moderator-token-0123456789,has spaces in the token' }, 'MODERATOR_TOKENS'],
      [{ MODERATION_CHANNEL_MAX_IN_FLIGHT: '0' }, 'MODERATION_CHANNEL_MAX_IN_FLIGHT'],
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
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32) }),
      /UPLOAD_TOKEN_SECRET/,
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), UPLOAD_TOKEN_SECRET: 'u'.repeat(32) }),
      /TOKEN_ENCRYPTION_KEYS/,
    );
    const secrets = { TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), UPLOAD_TOKEN_SECRET: 'u'.repeat(32), TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING };
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ...secrets }), /NATS_URL.*ALLOW_EPHEMERAL_BUS=1/);
    const config = loadConfig({ NODE_ENV: 'production', ...secrets, NATS_URL: 'nats://nats:4222' });
    assert.equal(config.demo, false);
    assert.equal(loadConfig({ NODE_ENV: 'production', ...secrets, ALLOW_EPHEMERAL_BUS: '1' }).allowEphemeralBus, true, 'the operator said so');
    assert.equal(config.generated.adminToken, false);
    assert.equal(config.generated.uploadTokenSecret, false);
    assert.equal(config.uploadTokenSecret, 'u'.repeat(32));
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ...secrets, NATS_URL: 'nats://nats:4222', DEMO: '1' }), /DEMO/);
  });

  it('starts a local nats-server by default outside production, never beside NATS_URL, and only when told to in production', () => {
    const secrets = { NODE_ENV: 'production', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), UPLOAD_TOKEN_SECRET: 'u'.repeat(32), TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING };
    assert.deepEqual(loadConfig({}, '/srv/app').embeddedNats, { mode: 'auto', storeDir: '/srv/app/.data/nats' });
    assert.equal(loadConfig({ NATS_URL: 'nats://nats:4222', EMBEDDED_NATS: 'on' }).embeddedNats.mode, 'off');
    assert.equal(loadConfig({ EMBEDDED_NATS: 'off' }).embeddedNats.mode, 'off');
    assert.equal(loadConfig({ EMBEDDED_NATS_DIR: 'var/nats' }, '/srv/app').embeddedNats.storeDir, '/srv/app/var/nats');
    assert.equal(loadConfig({ ...secrets, EMBEDDED_NATS: 'on' }).embeddedNats.mode, 'on', 'a durable local store is enough in production');
    assert.throws(() => loadConfig({ EMBEDDED_NATS: 'sometimes' }), /EMBEDDED_NATS/);
  });

  it('keeps one replica of the bus by default; BUS_REPLICAS takes 1 to 5, and more than 1 only with NATS_URL', () => {
    assert.equal(loadConfig({}).busReplicas, 1);
    assert.equal(loadConfig({ NATS_URL: 'nats://nats:4222', BUS_REPLICAS: '3' }).busReplicas, 3);
    assert.equal(loadConfig({ NATS_URL: 'nats://nats:4222', BUS_REPLICAS: ' 5 ' }).busReplicas, 5);
    assert.equal(loadConfig({ BUS_REPLICAS: '1' }).busReplicas, 1, 'one copy is what a single process keeps anyway');
    for (const hostile of ['0', '6', '-1', '2.5', 'three', '1e3', '0x3', '3;rm -rf /', 'NaN', 'Infinity']) {
      assert.throws(() => loadConfig({ NATS_URL: 'nats://nats:4222', BUS_REPLICAS: hostile }), (error: unknown) => error instanceof ConfigError && error.variable === 'BUS_REPLICAS', hostile);
    }
    assert.throws(() => loadConfig({ BUS_REPLICAS: '3' }), /BUS_REPLICAS: is 3 but NATS_URL is not set: .*keep 1 copy/);
    assert.throws(() => loadConfig({ BUS_REPLICAS: '3', EMBEDDED_NATS: 'on' }), /BUS_REPLICAS/, 'the embedded nats-server is a single node');
  });

  it('trusts no proxy by default; TRUST_PROXY_HOPS takes 0 to 10', () => {
    assert.equal(loadConfig({}).trustProxyHops, 0);
    assert.equal(loadConfig({ TRUST_PROXY_HOPS: '1' }).trustProxyHops, 1);
    for (const hostile of ['-1', '11', '1.5', 'yes', '1e3']) {
      assert.throws(() => loadConfig({ TRUST_PROXY_HOPS: hostile }), (error: unknown) => error instanceof ConfigError && error.variable === 'TRUST_PROXY_HOPS', hostile);
    }
  });

  it('serves /metrics openly only outside production; a token or its own port otherwise', () => {
    const secrets = { NODE_ENV: 'production', NATS_URL: 'nats://nats:4222', TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), UPLOAD_TOKEN_SECRET: 'u'.repeat(32), TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING };
    assert.equal(loadConfig({}).metrics.mainPort, 'open');
    assert.equal(loadConfig(secrets).metrics.mainPort, 'off');
    assert.equal(loadConfig({ ...secrets, METRICS_TOKEN: 'm'.repeat(16) }).metrics.mainPort, 'token');
    const ownPort = loadConfig({ ...secrets, METRICS_PORT: '9464', HOST: '0.0.0.0' });
    assert.deepEqual(ownPort.metrics, { token: undefined, port: 9464, host: '0.0.0.0', mainPort: 'off' });
    assert.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN/);
    assert.throws(() => loadConfig({ METRICS_PORT: '99999' }), /METRICS_PORT/);
    assert.throws(() => loadConfig({ ALLOW_EPHEMERAL_BUS: 'maybe' }), /ALLOW_EPHEMERAL_BUS/);
  });

  it('has upload defaults: generated token secret, quarantine under .data, 500 MB, common video types', () => {
    const config = loadConfig({}, '/srv/live-upload');
    assert.equal(config.generated.uploadTokenSecret, true);
    assert.ok(config.uploadTokenSecret.length >= 32);
    assert.notEqual(loadConfig({}).uploadTokenSecret, config.uploadTokenSecret, 'generated per process');
    assert.equal(config.quarantineDir, '/srv/live-upload/.data/quarantine');
    assert.equal(config.uploadMaxBytes, 500 * 1024 * 1024);
    assert.deepEqual(config.uploadAllowedTypes, ['video/mp4', 'video/webm', 'video/quicktime']);
    assert.ok(config.uploadRateLimitPerMinute >= 1);
    assert.equal(config.uploadChannelMaxPending, 20);
    assert.equal(config.uploadClientMaxPending, 5);
    assert.equal(config.uploadStartWindowMs, 120_000);
  });

  it('reads the upload settings', () => {
    const config = loadConfig(
      { QUARANTINE_DIR: 'var/q', UPLOAD_MAX_BYTES: '1024', UPLOAD_ALLOWED_TYPES: 'Video/MP4, video/webm', UPLOAD_RATE_LIMIT_PER_MINUTE: '3', UPLOAD_CHANNEL_MAX_PENDING: '5' },
      '/srv/app',
    );
    assert.equal(config.quarantineDir, '/srv/app/var/q');
    assert.equal(loadConfig({ QUARANTINE_DIR: '/var/lib/live-upload/../quarantine' }).quarantineDir, '/var/lib/quarantine');
    assert.equal(config.uploadMaxBytes, 1024);
    assert.deepEqual(config.uploadAllowedTypes, ['video/mp4', 'video/webm']);
    assert.equal(config.uploadRateLimitPerMinute, 3);
    assert.equal(config.uploadChannelMaxPending, 5);
  });

  it("reads the clip length and the publisher recordings' own limits (8 GiB, 12 h by default), naming a bad one", () => {
    const defaults = loadConfig({});
    assert.equal(defaults.uploadMaxDurationS, 600);
    assert.equal(defaults.vodUploadMaxBytes, 8 * 1024 ** 3);
    assert.equal(defaults.vodUploadMaxDurationS, 12 * 3600);
    const config = loadConfig({ UPLOAD_MAX_DURATION_S: '30', VOD_UPLOAD_MAX_BYTES: '2000000000', VOD_UPLOAD_MAX_DURATION_S: '7200' });
    assert.deepEqual([config.uploadMaxDurationS, config.vodUploadMaxBytes, config.vodUploadMaxDurationS], [30, 2_000_000_000, 7200]);
    for (const [name, value] of [
      ['UPLOAD_MAX_DURATION_S', '0'],
      ['VOD_UPLOAD_MAX_BYTES', 'lots'],
      ['VOD_UPLOAD_MAX_DURATION_S', '-5'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(name),
        name,
      );
    }
  });

  it('reads the moderation settings: review policy and no moderators by default', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.moderationPolicy, 'review');
    assert.deepEqual(defaults.moderatorTokens, []);
    assert.equal(defaults.moderationChannelMaxInFlight, 2);
    const config = loadConfig({ MODERATION_POLICY: 'auto', MODERATOR_TOKENS: ' moderator-a-0123456789 ,moderator-b-0123456789,', MODERATION_CHANNEL_MAX_IN_FLIGHT: '4' });
    assert.equal(config.moderationPolicy, 'auto');
    assert.deepEqual(config.moderatorTokens, ['moderator-a-0123456789', 'moderator-b-0123456789']);
    assert.equal(config.moderationChannelMaxInFlight, 4);
  });

  it('runs every work-queue worker by default; WORKERS picks some, or none for an API-only replica', () => {
    assert.deepEqual([...loadConfig({}).workers], ['moderation', 'transcode', 'vod-capture', 'vod', 'origin', 'audience']);
    assert.deepEqual([...loadConfig({ WORKERS: 'transcode' }).workers], ['transcode']);
    assert.deepEqual([...loadConfig({ WORKERS: ' Moderation , transcode ' }).workers], ['moderation', 'transcode']);
    assert.deepEqual([...loadConfig({ WORKERS: 'none' }).workers], []);
    for (const bad of ['webhooks', 'none,moderation', 'moderation;transcode', ',']) {
      assert.throws(() => loadConfig({ WORKERS: bad }), (error: unknown) => error instanceof ConfigError && error.variable === 'WORKERS', bad);
    }
  });

  it('reads the publishing settings: media under .data, one transcode at a time, 72 h quarantine, 10 min sweeps', () => {
    const defaults = loadConfig({}, '/srv/app');
    assert.equal(defaults.mediaDir, '/srv/app/.data/media');
    assert.equal(defaults.transcodeConcurrency, 1);
    assert.equal(defaults.quarantineTtlMs, 72 * 60 * 60 * 1000);
    assert.equal(defaults.lifecycleSweepMs, 10 * 60 * 1000);
    const config = loadConfig({ MEDIA_DIR: 'public-media', TRANSCODE_CONCURRENCY: '2', QUARANTINE_TTL_MS: '3600000', LIFECYCLE_SWEEP_MS: '5000' }, '/srv/app');
    assert.equal(config.mediaDir, '/srv/app/public-media');
    assert.equal(config.transcodeConcurrency, 2);
    assert.equal(config.quarantineTtlMs, 3_600_000);
    assert.equal(config.lifecycleSweepMs, 5000);
    const cases: Array<[Record<string, string>, string]> = [
      [{ MEDIA_DIR: '/' }, 'MEDIA_DIR'],
      [{ MEDIA_DIR: '.data/quarantine' }, 'MEDIA_DIR'],
      [{ MEDIA_DIR: '.data/quarantine/media' }, 'MEDIA_DIR'],
      [{ MEDIA_DIR: 'store', QUARANTINE_DIR: 'store/quarantine' }, 'MEDIA_DIR'],
      [{ TRANSCODE_CONCURRENCY: '0' }, 'TRANSCODE_CONCURRENCY'],
      [{ QUARANTINE_TTL_MS: 'soon' }, 'QUARANTINE_TTL_MS'],
      [{ LIFECYCLE_SWEEP_MS: '10' }, 'LIFECYCLE_SWEEP_MS'],
    ];
    for (const [environment, variable] of cases) {
      assert.throws(() => loadConfig(environment, '/srv/app'), (error: unknown) => error instanceof ConfigError && error.variable === variable, variable);
    }
  });

  it('treats empty variables as unset', () => {
    assert.equal(loadConfig({ NATS_URL: '', PORT: ' ' }).natsUrl, undefined);
  });
  it('has outbound webhook defaults: https only in production, no private hosts, spec retry schedule', () => {
    const config = loadConfig({});
    assert.equal(config.outbound.requireHttps, false);
    assert.deepEqual(config.outbound.allowPrivateHosts, []);
    assert.equal(config.outbound.retryScheduleMs, undefined, 'the outbound module default applies');
    assert.equal(config.outbound.timeoutMs, 15_000);
    assert.equal(config.outbound.connectTimeoutMs, 5_000);
    const secrets = { TWITCH_EVENTSUB_SECRET: 's3cret-s3cret', ADMIN_TOKEN: 'a'.repeat(32), UPLOAD_TOKEN_SECRET: 'u'.repeat(32), TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING };
    assert.equal(loadConfig({ NODE_ENV: 'production', ...secrets, NATS_URL: 'nats://nats:4222' }).outbound.requireHttps, true);
    const tuned = loadConfig({ OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1, Hooks.Internal ,[::1]', OUTBOUND_RETRY_SCHEDULE_MS: '100, 200', OUTBOUND_TIMEOUT_MS: '1000', OUTBOUND_CONNECT_TIMEOUT_MS: '5000' });
    assert.deepEqual(tuned.outbound.allowPrivateHosts, ['127.0.0.1', 'hooks.internal', '[::1]']);
    assert.deepEqual(tuned.outbound.retryScheduleMs, [100, 200]);
    assert.equal(tuned.outbound.connectTimeoutMs, 1000, 'never longer than the whole delivery');
    for (const [environment, variable] of [
      [{ OUTBOUND_ALLOW_PRIVATE_HOSTS: 'http://evil/' }, 'OUTBOUND_ALLOW_PRIVATE_HOSTS'],
      [{ OUTBOUND_ALLOW_PRIVATE_HOSTS: 'a b' }, 'OUTBOUND_ALLOW_PRIVATE_HOSTS'],
      [{ OUTBOUND_RETRY_SCHEDULE_MS: '1,two' }, 'OUTBOUND_RETRY_SCHEDULE_MS'],
      [{ OUTBOUND_RETRY_SCHEDULE_MS: '-5' }, 'OUTBOUND_RETRY_SCHEDULE_MS'],
      [{ OUTBOUND_RETRY_SCHEDULE_MS: '999999999,999999999' }, 'OUTBOUND_RETRY_SCHEDULE_MS'],
      [{ OUTBOUND_TIMEOUT_MS: '0' }, 'OUTBOUND_TIMEOUT_MS'],
      [{ OUTBOUND_CONNECT_TIMEOUT_MS: 'soon' }, 'OUTBOUND_CONNECT_TIMEOUT_MS'],
      [{ OUTBOUND_MAX_IN_FLIGHT_PER_SUBSCRIBER: '0' }, 'OUTBOUND_MAX_IN_FLIGHT_PER_SUBSCRIBER'],
      [{ OUTBOUND_CONCURRENCY: '5000' }, 'OUTBOUND_CONCURRENCY'],
    ] as Array<[Record<string, string>, string]>) {
      assert.throws(() => loadConfig(environment), (error: unknown) => error instanceof ConfigError && error.variable === variable, variable);
    }
  });

  it('reads the linking key ring, return origins, OAuth clients and Bluesky settings, naming the bad variable', () => {
    const defaults = loadConfig({ PUBLIC_URL: 'https://live.example/' });
    assert.equal(defaults.generated.tokenEncryptionKeys, true);
    assert.equal(defaults.linking.keys.length, 1);
    assert.deepEqual(defaults.linking.returnToOrigins, ['https://live.example']);
    assert.equal(defaults.linking.google, undefined);
    assert.deepEqual(defaults.bluesky, { serviceUrl: 'https://bsky.social', jetstreamUrl: 'wss://jetstream2.us-east.bsky.network', statusDurationMinutes: undefined });

    const configured = loadConfig({
      TOKEN_ENCRYPTION_KEYS: TEST_KEY_RING,
      LINK_RETURN_TO_ORIGINS: 'https://admin.example, http://localhost:3000',
      GOOGLE_CLIENT_ID: 'client-id-0123456789.apps.googleusercontent.com',
      GOOGLE_CLIENT_SECRET: 'google-secret-0123',
      BLUESKY_JETSTREAM_URL: 'off',
      BLUESKY_STATUS_DURATION_MINUTES: '90',
    });
    assert.deepEqual(configured.linking.keys.map((key) => key.id), ['k2', 'k1'], 'the first key seals');
    assert.equal(configured.generated.tokenEncryptionKeys, false);
    assert.deepEqual(configured.linking.returnToOrigins, ['https://admin.example', 'http://localhost:3000']);
    assert.equal(configured.linking.google?.authBaseUrl, 'https://accounts.google.com');
    assert.equal(configured.bluesky.jetstreamUrl, undefined, 'off in this process');
    assert.equal(configured.bluesky.statusDurationMinutes, 90);

    for (const [environment, variable] of [
      [{ TOKEN_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, 'TOKEN_ENCRYPTION_KEYS'],
      [{ TOKEN_ENCRYPTION_KEYS: 'no-separator' }, 'TOKEN_ENCRYPTION_KEYS'],
      [{ TOKEN_ENCRYPTION_KEYS: `a:${Buffer.alloc(32).toString('base64')},a:${Buffer.alloc(32).toString('base64')}` }, 'TOKEN_ENCRYPTION_KEYS'],
      [{ LINK_RETURN_TO_ORIGINS: 'https://ok.example/path' }, 'LINK_RETURN_TO_ORIGINS'],
      [{ LINK_RETURN_TO_ORIGINS: 'javascript:alert(1)' }, 'LINK_RETURN_TO_ORIGINS'],
      [{ GOOGLE_CLIENT_ID: 'client-id-0123456789' }, 'GOOGLE_CLIENT_SECRET'],
      [{ BLUESKY_JETSTREAM_URL: 'http://jetstream.example' }, 'BLUESKY_JETSTREAM_URL'],
      [{ BLUESKY_STATUS_DURATION_MINUTES: '241' }, 'BLUESKY_STATUS_DURATION_MINUTES'],
    ] as const) {
      assert.throws(() => loadConfig(environment), (error: unknown) => error instanceof ConfigError && error.variable === variable, JSON.stringify(environment));
    }
  });

  it('keeps quarantine and media on the file system without STORAGE_URL, and reads two S3 buckets with it', () => {
    assert.deepEqual(loadConfig({}, '/srv/app').storage, { kind: 'filesystem', quarantineDir: '/srv/app/.data/quarantine', mediaDir: '/srv/app/.data/media' });
    const buckets = { STORAGE_QUARANTINE_BUCKET: 'live-quarantine', STORAGE_MEDIA_BUCKET: 'live-media' };
    assert.deepEqual(loadConfig({ STORAGE_URL: 'http://minio.internal:9000', ...buckets }).storage, {
      kind: 's3',
      endpoint: 'http://minio.internal:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      quarantineBucket: 'live-quarantine',
      mediaBucket: 'live-media',
    });
    assert.deepEqual(loadConfig({ STORAGE_URL: 'https://s3.example.net/', STORAGE_REGION: 'eu-central-1', STORAGE_PATH_STYLE: '0', ...buckets }).storage, {
      kind: 's3',
      endpoint: 'https://s3.example.net',
      region: 'eu-central-1',
      forcePathStyle: false,
      quarantineBucket: 'live-quarantine',
      mediaBucket: 'live-media',
    });
    assert.deepEqual(loadConfig({ STORAGE_URL: 's3://', STORAGE_REGION: 'eu-west-3', ...buckets }).storage, {
      kind: 's3',
      region: 'eu-west-3',
      forcePathStyle: false,
      quarantineBucket: 'live-quarantine',
      mediaBucket: 'live-media',
    });
  });

  it('refuses storage settings that are hostile, incomplete or would serve the quarantine, naming the variable', () => {
    const buckets = { STORAGE_QUARANTINE_BUCKET: 'live-quarantine', STORAGE_MEDIA_BUCKET: 'live-media' };
    const cases: Array<[Record<string, string>, string, RegExp?]> = [
      [{ STORAGE_URL: 'http://AKIAEXAMPLE:secret@minio:9000', ...buckets }, 'STORAGE_URL', /must not hold credentials/],
      [{ STORAGE_URL: 'https://user@s3.example.net', ...buckets }, 'STORAGE_URL', /must not hold credentials/],
      [{ STORAGE_URL: 'ftp://minio:9000', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 'file:///var/lib/media', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 's3://live-media', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 'minio:9000', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 'http://minio:9000/live-media', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 'http://minio:9000/?region=eu', ...buckets }, 'STORAGE_URL'],
      [{ STORAGE_URL: 'http://minio:9000' }, 'STORAGE_QUARANTINE_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', STORAGE_QUARANTINE_BUCKET: 'live-quarantine' }, 'STORAGE_MEDIA_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', STORAGE_QUARANTINE_BUCKET: 'same-bucket', STORAGE_MEDIA_BUCKET: 'same-bucket' }, 'STORAGE_MEDIA_BUCKET', /must differ/],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_MEDIA_BUCKET: 'Media_Bucket' }, 'STORAGE_MEDIA_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_MEDIA_BUCKET: '../quarantine' }, 'STORAGE_MEDIA_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_MEDIA_BUCKET: 'ab' }, 'STORAGE_MEDIA_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_QUARANTINE_BUCKET: 'a..b' }, 'STORAGE_QUARANTINE_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_QUARANTINE_BUCKET: '192.168.0.1' }, 'STORAGE_QUARANTINE_BUCKET'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_REGION: 'EU Central' }, 'STORAGE_REGION'],
      [{ STORAGE_URL: 'http://minio:9000', ...buckets, STORAGE_PATH_STYLE: 'maybe' }, 'STORAGE_PATH_STYLE'],
      [{ STORAGE_MEDIA_BUCKET: 'live-media' }, 'STORAGE_MEDIA_BUCKET', /only applies with STORAGE_URL/],
      [{ STORAGE_REGION: 'eu-west-1' }, 'STORAGE_REGION'],
    ];
    for (const [environment, variable, message] of cases) {
      assert.throws(
        () => loadConfig(environment),
        (error: unknown) => error instanceof ConfigError && error.variable === variable && (!message || message.test(error.message)),
        JSON.stringify(environment),
      );
    }
    // The refusal never echoes the secret it found.
    assert.throws(() => loadConfig({ STORAGE_URL: 'http://AKIAEXAMPLE:supersecret@minio:9000', ...buckets }), (error: unknown) => error instanceof Error && !error.message.includes('supersecret'));
  });
});
