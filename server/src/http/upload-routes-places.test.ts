import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { requestFrom, type RawHttpResponse } from '../../../test/support/raw-http.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';

const CHANNEL_MAX_PENDING = 4;
const CLIENT_MAX_PENDING = 2;
const START_WINDOW_MS = 1_500;
const TUS = { 'Tus-Resumable': '1.0.0' };
/** Other clients of a server on 127.0.0.1, as it sees them (Linux routes all of 127/8 to loopback). */
const CLIENT_A = '127.0.0.1';
const CLIENT_B = '127.0.0.2';
const CLIENT_C = '127.0.0.3';

interface Grant {
  upload_url: string;
  token: string;
  upload_id: string;
}

describeEachBus('upload places: per client as well as per channel, and given up by grants that never start', (bus) => {
  let server: TestServer;
  const env = {
    UPLOAD_RATE_LIMIT_PER_MINUTE: '1000',
    UPLOAD_CHANNEL_MAX_PENDING: String(CHANNEL_MAX_PENDING),
    UPLOAD_CLIENT_MAX_PENDING: String(CLIENT_MAX_PENDING),
    UPLOAD_START_WINDOW_MS: String(START_WINDOW_MS),
  };

  before(async () => {
    // Completed uploads stay `checking` (holding their places): API-only replicas, no worker moves them on.
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { ...env, WORKERS: 'none' } });
  });
  after(() => server.close());

  const openChannel = async (channel: string) => {
    const response = await server.request(`/api/v1/channels/${channel}`, { method: 'PUT', admin: true, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.ok(response.ok, await response.text());
  };
  const askGrant = (channel: string, from: string, base = server.url): Promise<RawHttpResponse> =>
    requestFrom(`${base}/api/v1/uploads/token`, {
      method: 'POST',
      localAddress: from,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel, filename: 'clip.mp4', size: 64, type: 'video/mp4', source: 'file' }),
    });
  const grant = async (channel: string, from: string, base = server.url): Promise<Grant> => {
    const response = await askGrant(channel, from, base);
    assert.equal(response.status, 201, response.body);
    return JSON.parse(response.body) as Grant;
  };
  /** tus creation-with-upload of the whole 64 bytes, from `from`. */
  const upload = (granted: Grant, from: string, bytes = 64) =>
    requestFrom(granted.upload_url, {
      method: 'POST',
      localAddress: from,
      headers: { ...TUS, Authorization: `Bearer ${granted.token}`, 'Upload-Length': '64', 'Content-Type': 'application/offset+octet-stream' },
      body: Buffer.alloc(bytes, 7),
    });
  const refusal = (response: RawHttpResponse) => {
    assert.equal(response.status, 429, response.body);
    assert.match(String(response.headers['content-type']), /application\/json/);
    return { retryAfterS: Number(response.headers['retry-after']), ...(JSON.parse(response.body) as { error: { code: string; message: string } }).error };
  };

  it('refuses one client past its share of a channel while another client still gets a grant and uploads', async () => {
    const channel = 'acme/shared';
    await openChannel(channel);
    for (let i = 0; i < CLIENT_MAX_PENDING; i++) await grant(channel, CLIENT_A);
    const refused = refusal(await askGrant(channel, CLIENT_A));
    assert.equal(refused.code, 'rate_limited');
    assert.match(refused.message, new RegExp(`this client has ${CLIENT_MAX_PENDING} uploads on their way in ${channel}`));
    assert.ok(refused.retryAfterS >= 1 && refused.retryAfterS <= Math.ceil(START_WINDOW_MS / 1000), `Retry-After ${refused.retryAfterS}: when the first of its idle grants frees`);

    const other = await grant(channel, CLIENT_B);
    const created = await upload(other, CLIENT_B);
    assert.equal(created.status, 201, created.body);
    assert.equal(created.headers['upload-offset'], '64');
    const status = (await (await server.request(`/api/v1/uploads/${other.upload_id}`)).json()) as { status: string };
    assert.equal(status.status, 'checking');
  });

  it('gives up the place of a grant that stores no byte within the start window; Retry-After says when, and that grant can no longer start', async () => {
    const channel = 'acme/squatted';
    await openChannel(channel);
    const idle = [await grant(channel, CLIENT_A), await grant(channel, CLIENT_A), await grant(channel, CLIENT_B)];
    const firstGrantAt = Date.now();
    const started = await grant(channel, CLIENT_B);
    assert.equal((await upload(started, CLIENT_B, 10)).status, 201, 'its first bytes are stored');

    const refused = refusal(await askGrant(channel, CLIENT_C));
    assert.match(refused.message, new RegExp(`channel: ${channel} has ${CHANNEL_MAX_PENDING} uploads on their way; the next place frees in`));
    assert.ok(refused.retryAfterS >= 1 && refused.retryAfterS <= Math.ceil(START_WINDOW_MS / 1000), `Retry-After ${refused.retryAfterS}`);

    // The wait is the start window itself (a clock, not an event): look again until a place is given.
    let admitted: RawHttpResponse;
    for (;;) {
      admitted = await askGrant(channel, CLIENT_C);
      if (admitted.status !== 429) break;
      assert.ok(Date.now() - firstGrantAt < START_WINDOW_MS + 5_000, 'a place must free once the start window has passed');
      await pause(50);
    }
    assert.equal(admitted.status, 201, admitted.body);
    assert.ok(Date.now() - firstGrantAt >= START_WINDOW_MS - 1_000, 'not before the window');

    const late = await upload(idle[0]!, CLIENT_A);
    assert.equal(late.status, 410, late.body);
    assert.match(late.body, /place was given up/);
    const renewal = await requestFrom(`${server.url}/api/v1/uploads/token`, {
      method: 'POST',
      localAddress: CLIENT_A,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ upload_id: idle[0]!.upload_id, channel, token: idle[0]!.token }),
    });
    assert.equal(renewal.status, 409, renewal.body);
    const rest = await upload(started, CLIENT_B);
    assert.notEqual(rest.status, 410, 'an upload that started keeps going past the window');
  });

  it('shares the counts between two server processes on one bus', { skip: bus.kind === 'memory' && 'one process on the memory bus' }, async () => {
    const channel = 'acme/fleet';
    await openChannel(channel);
    const second = await startTestServer({ natsUrl: bus.natsUrl(), env: { ...env, WORKERS: 'none' }, withChannel: false });
    try {
      await grant(channel, CLIENT_A, server.url);
      await grant(channel, CLIENT_A, second.url);
      assert.match(refusal(await askGrant(channel, CLIENT_A, server.url)).message, /this client has/);
      assert.match(refusal(await askGrant(channel, CLIENT_A, second.url)).message, /this client has/);
      await grant(channel, CLIENT_B, second.url);
      await grant(channel, CLIENT_C, server.url);
      assert.match(refusal(await askGrant(channel, '127.0.0.4', second.url)).message, new RegExp(`channel: ${channel} has ${CHANNEL_MAX_PENDING}`));
    } finally {
      await second.close();
    }
  });
});
