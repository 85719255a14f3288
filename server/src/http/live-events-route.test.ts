import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { liveMetadataSchema } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { openSse, type SseClient } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

describeEachBus('GET /api/v1/live/events', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { SSE_MAX_CHANNELS: '3', SSE_HEARTBEAT_MS: '1000' } });
    const other = await server.request('/api/v1/channels/acme/other', {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Other', providers: {} }),
    });
    assert.equal(other.status, 201);
  });
  after(() => server.close());

  it('sends a snapshot per channel first, then status changes, with CORS open', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}&channel=acme/other`);
    try {
      assert.equal(sse.response.status, 200);
      assert.match(sse.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(sse.response.headers.get('access-control-allow-origin'), '*');
      const first = await sse.next((event) => event.event === 'snapshot' && JSON.parse(event.data).channel === TEST_CHANNEL);
      await sse.next((event) => event.event === 'snapshot' && JSON.parse(event.data).channel === 'acme/other');
      assert.equal(liveMetadataSchema.parse(JSON.parse(first.data)).status, 'offline');
      await server.goLive('Snapshot then status');
      const live = await sse.next((event) => event.event === 'status' && JSON.parse(event.data).status === 'live');
      assert.match(live.id ?? '', /acme\/morning-show=\d+/);
      assert.match(live.id ?? '', /acme\/other=\d+/);
    } finally {
      sse.close();
    }
  });

  it('resumes from Last-Event-ID with exactly the missed changes', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    const snapshot = await sse.next((event) => event.event === 'snapshot');
    sse.close();
    const seenSeq = JSON.parse(snapshot.data).seq as number;
    await server.updateTitle('Missed one');
    // Wait until the change happened (a fresh connection's snapshot shows it), then resume.
    const probe = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    await probe.next((event) => JSON.parse(event.data).title === 'Missed one');
    probe.close();

    // Under load an earlier test's coalesced update may land after our snapshot too: every
    // change after it must come, in order, without gaps or a snapshot, up to ours.
    const missedSince = (sse: SseClient) =>
      sse.next((event) => JSON.parse(event.data).title === 'Missed one').then(() => sse.events.map((event) => ({ event: event.event, ...(JSON.parse(event.data) as { seq: number; title: string }) })));
    const resumed = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, { 'Last-Event-ID': snapshot.id ?? '' });
    try {
      const missed = await missedSince(resumed);
      assert.deepEqual(missed.map((event) => event.event), missed.map(() => 'status'), 'changes, not a snapshot');
      assert.deepEqual(missed.map((event) => event.seq), missed.map((_, index) => seenSeq + 1 + index), 'from the next seq, without gaps');
      assert.equal(missed.at(-1)?.title, 'Missed one');
    } finally {
      resumed.close();
    }
    // The same via the query parameter, which a fresh EventSource can set.
    const viaQuery = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}&last_event_id=${encodeURIComponent(snapshot.id ?? '')}`);
    try {
      const missed = await missedSince(viaQuery);
      assert.equal(missed[0]?.seq, seenSeq + 1);
      assert.equal(missed.at(-1)?.title, 'Missed one');
    } finally {
      viaQuery.close();
    }
  });

  it('sends a fresh snapshot for a garbage or future Last-Event-ID', async () => {
    for (const lastEventId of ['garbage', 'acme/morning-show=999999', `${'a'.repeat(10_000)}`, 'acme/morning-show=-1,<script>']) {
      const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, { 'Last-Event-ID': lastEventId });
      try {
        assert.equal((await sse.next(() => true)).event, 'snapshot');
      } finally {
        sse.close();
      }
    }
  });

  it('sends heartbeat comments', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      await sse.next(() => true);
      const deadline = Date.now() + 3000;
      while (sse.comments.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(sse.comments.length > 0, 'no heartbeat within 3 s (configured: 1 s)');
    } finally {
      sse.close();
    }
  });

  it('refuses too many, malformed, unknown or no channels with a JSON 4xx', async () => {
    const cases: Array<[string, number, string]> = [
      ['channel=a/b&channel=c/d&channel=e/f&channel=g/h', 400, 'too_many_channels'],
      ['channel=../../etc/passwd', 400, 'invalid_channel'],
      ['channel=Acme/Show', 400, 'invalid_channel'],
      ['channel=acme', 400, 'invalid_channel'],
      ['', 400, 'bad_request'],
    ];
    for (const [query, status, code] of cases) {
      const response = await fetch(`${server.url}/api/v1/live/events?${query}`);
      assert.equal(response.status, status, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, query);
    }
  });

  it('sends an offline snapshot for a channel that does not exist yet, without failing the others', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=nobody/here&channel=${TEST_CHANNEL}`);
    try {
      assert.equal(sse.response.status, 200);
      const unknown = await sse.next((event) => JSON.parse(event.data).channel === 'nobody/here');
      assert.equal(unknown.event, 'snapshot');
      const placeholder = liveMetadataSchema.parse(JSON.parse(unknown.data));
      assert.equal(placeholder.status, 'offline');
      assert.equal(placeholder.seq, 0);
      await sse.next((event) => JSON.parse(event.data).channel === TEST_CHANNEL);
    } finally {
      sse.close();
    }
  });

  it('answers with the request id, CORS for any page, and a preflight', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, { 'X-Request-Id': 'viewer-request-1' });
    try {
      assert.equal(sse.response.headers.get('x-request-id'), 'viewer-request-1');
      assert.equal(sse.response.headers.get('x-content-type-options'), 'nosniff');
      assert.match(sse.response.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
      await sse.next(() => true);
    } finally {
      sse.close();
    }
    const refused = await fetch(`${server.url}/api/v1/live/events`, { headers: { 'X-Request-Id': 'viewer-request-2', Origin: 'https://viewer.example' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('x-request-id'), 'viewer-request-2');
    assert.equal(refused.headers.get('access-control-allow-origin'), '*');
    await refused.arrayBuffer();
    const preflight = await fetch(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://viewer.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Last-Event-ID/);
  });

  it('counts connected clients in /metrics', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      await sse.next(() => true);
      const metrics = await (await server.request('/metrics')).text();
      assert.match(metrics, /live_upload_sse_clients [1-9]/);
      assert.match(metrics, /live_upload_http_requests_total\{method="GET",route="\/api\/v1\/live\/events",status="200"\} [1-9]/);
      assert.match(metrics, /live_upload_webhook_results_total\{provider="twitch",outcome="accepted"\} \d+/);
      assert.match(metrics, /live_upload_bus_publish_seconds_bucket/);
    } finally {
      sse.close();
    }
  });
});
