import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { redeliver } from '../../../test/fakes/twitch/eventsub.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { openSse } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

/** Polls a condition that has no event of its own (readiness), bounded. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('bus outage (NATS JetStream)', () => {
  let nats: NatsServerHandle;
  let server: TestServer;

  before(async () => {
    nats = await startNatsServer();
    server = await startTestServer({ natsUrl: nats.url, graceMs: 300 });
  });
  after(async () => {
    await server?.close();
    await nats?.stop();
  });

  it('answers 503 while NATS is down, accepts the provider retry once it is back, and loses nothing', async () => {
    // Accepted before the outage: must survive it.
    const titled = server.twitch.channelUpdate({ title: 'Accepted before the crash' });
    assert.equal((await server.send(titled)).status, 204);

    await nats.kill();
    await eventually('readiness reports the bus down', async () => (await server.request('/readyz')).status === 503);

    const online = server.twitch.streamOnline();
    const refused = await server.send(online);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'bus_unavailable');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);

    await nats.restart();
    await eventually('readiness reports the bus back', async () => (await server.request('/readyz')).status === 200);

    // Twitch retries the same message (same id, Message-Retry incremented).
    const retried = await server.send(redeliver(online));
    assert.equal(retried.status, 204);

    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      const live = await sse.next((event) => {
        const record = JSON.parse(event.data) as LiveMetadata;
        return record.status === 'live' && record.title === 'Accepted before the crash';
      }, { timeoutMs: 15_000 });
      assert.ok(live);
    } finally {
      sse.close();
    }

    // A second retry of the same message is a duplicate: accepted, changes nothing.
    const seqBefore = ((await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json()) as LiveMetadata).seq;
    assert.equal((await server.send(redeliver(redeliver(online)))).status, 204);
    assert.equal((await server.send(server.twitch.channelUpdate({ title: 'Marker' }))).status, 204);
    const marker = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      const record = JSON.parse((await marker.next((event) => JSON.parse(event.data).title === 'Marker')).data) as LiveMetadata;
      assert.equal(record.seq, seqBefore + 1, 'the duplicate retry must not have emitted anything');
    } finally {
      marker.close();
    }
  });
});
