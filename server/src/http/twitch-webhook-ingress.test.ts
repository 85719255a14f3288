import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, it } from 'node:test';
import { liveMetadataSchema, type LiveMetadata } from '@live-upload/schema';
import {
  TWITCH_EVENTSUB_HEADERS,
  createEventSubSender,
  reserializeBody,
  resign,
  truncateSignature,
  twitchTimestamp,
  uppercaseSignature,
  withBody,
  withMessageId,
  withTimestamp,
  withoutHeader,
  bodyBytes,
  headerOf,
  type EventSubWebhookRequest,
} from '../../../test/fakes/twitch/eventsub.js';
import { SUBJECTS } from '../bus/index.js';
import { encodeRawEvent } from '../pipeline/index.js';
import { readEventSubDelivery } from '../providers/twitch/index.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { pipelineEventsHandled } from '../../../test/support/pipeline-progress.js';
import { openSse, type SseClient } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, TEST_SECRET, startTestServer, type TestServer } from '../../../test/support/test-server.js';

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

function record(event: { data: string }): LiveMetadata {
  return liveMetadataSchema.parse(JSON.parse(event.data));
}

describeEachBus('POST /webhooks/twitch', (bus) => {
  let server: TestServer;
  let sse: SseClient;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), graceMs: 400 });
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse.close();
    await server.close();
  });

  /** Sends a hostile request and checks it is refused and changes nothing. */
  async function refused(request: EventSubWebhookRequest, status: number, code: string): Promise<void> {
    const before = sse.events.length;
    const response = await server.send(request);
    assert.equal(response.status, status, `expected ${status} for ${code}`);
    assert.equal((await errorOf(response)).code, code);
    assert.equal(sse.events.length, before, 'a refused request must not change the status');
  }

  it('answers the subscription verification with the raw challenge as text/plain', async () => {
    const challenge = 'pogchamp-kappa-360noscope-vohiyo';
    const response = await server.send(server.twitch.verification('stream.online', '1', { challenge }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await response.text(), challenge);
  });

  it('turns the channel LIVE at once on a signed stream.online, with 204 after the durable publish', async () => {
    const from = sse.events.length;
    const response = await server.send(server.twitch.streamOnline({ streamId: '9001' }));
    assert.equal(response.status, 204);
    const live = record(await sse.next((event) => event.event === 'status', { fromIndex: from }));
    assert.equal(live.status, 'live');
    assert.match(live.canonical_id ?? '', /^stream:acme:morning-show:/);
    assert.equal(live.providers.twitch?.id, '9001');
    assert.equal(live.sources['status']?.provider, 'twitch');
  });

  it('applies a duplicate message id once: 204 again, nothing changes twice', async () => {
    const update = server.twitch.channelUpdate({ title: 'Duplicated title' });
    const from = sse.events.length;
    assert.equal((await server.send(update)).status, 204);
    const first = record(await sse.next((event) => event.event === 'status', { fromIndex: from }));
    assert.equal(first.title, 'Duplicated title');
    assert.equal((await server.send(update)).status, 204);
    // A later, different update proves the pipeline went past the duplicate without emitting for it.
    assert.equal((await server.send(server.twitch.channelUpdate({ title: 'After the duplicate' }))).status, 204);
    const next = record(await sse.next((event) => event.event === 'status' && record(event).title === 'After the duplicate', { fromIndex: from + 1 }));
    assert.equal(next.seq, first.seq + 1);
  });

  it('counts what the pipeline made of each event, and changes nothing for a message id replayed past the dup window', async () => {
    const outcomes = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const sample of (await server.running.metrics.pipelineEvents.get()).values) {
        const outcome = String(sample.labels['outcome']);
        counts[outcome] = (counts[outcome] ?? 0) + sample.value;
      }
      return counts;
    };
    const settle = async (handled: number): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while ((await pipelineEventsHandled(server.running.metrics)) < handled) {
        assert.ok(Date.now() < deadline, 'the pipeline did not take up the events');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const start = await pipelineEventsHandled(server.running.metrics);
    const before = await outcomes();
    const update = server.twitch.channelUpdate({ title: 'Counted once' });
    const follow = server.twitch.notification('channel.follow', '2', {
      user_id: '1', user_login: 'fan', user_name: 'Fan',
      broadcaster_user_id: '4242', broadcaster_user_login: 'acme_live', broadcaster_user_name: 'Acme_Live',
      followed_at: new Date().toISOString(),
    });
    assert.equal((await server.send(update)).status, 204);
    assert.equal((await server.send(follow)).status, 204);
    await settle(start + 2);
    // The same provider message again under another bus msg id: what arrives once the stream's
    // duplicate window is over. The bus cannot drop it now; the channel's seen set (and the
    // event-time ordering behind it, pinned in channel-state.test.ts) must make it a no-op.
    const delivery = readEventSubDelivery({ header: (name) => headerOf(update, name), rawBody: bodyBytes(update), secret: TEST_SECRET, nowMs: Date.now() });
    assert.equal(delivery.kind, 'notification');
    if (delivery.kind !== 'notification') return;
    await server.running.bus.publish(SUBJECTS.liveRaw('twitch'), encodeRawEvent(delivery.event), { msgId: `replayed-later:${delivery.event.message_id}` });
    await settle(start + 3);
    const after = await outcomes();
    const grew = (outcome: string): number => (after[outcome] ?? 0) - (before[outcome] ?? 0);
    // `unchanged`: the state machine met the replay and left the state as it was.
    assert.deepEqual({ applied: grew('applied'), ignored: grew('ignored'), unchanged: grew('unchanged') }, { applied: 1, ignored: 1, unchanged: 1 });
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /live_upload_pipeline_events_total\{provider="twitch",outcome="unchanged"\} [1-9]/);
    // The title may go out at the end of the coalescing window: let it, so that the tests after
    // this one, which check that a refused request emits nothing, do not meet it.
    await sse.next((event) => event.event === 'status' && record(event).title === 'Counted once');
  });

  it('refuses a re-serialized body whose signature was made over other bytes', async () => {
    const original = server.twitch.channelUpdate({ title: 'Original' });
    await refused(reserializeBody(original), 403, 'signature_invalid');
  });

  it('refuses forged, truncated, uppercase and wrong-secret signatures without throwing', async () => {
    const request = server.twitch.channelUpdate({ title: 'Forged' });
    await refused(truncateSignature(request), 403, 'signature_invalid');
    await refused(truncateSignature(request, 0), 403, 'signature_invalid');
    await refused(uppercaseSignature(request), 403, 'signature_invalid');
    await refused(resign(request, 'another-secret-0123456789'), 403, 'signature_invalid');
    await refused(withBody(request, request.body.replace('Forged', 'Forgeq')), 403, 'signature_invalid');
  });

  it('refuses requests missing any Twitch header', async () => {
    for (const header of [
      TWITCH_EVENTSUB_HEADERS.messageId,
      TWITCH_EVENTSUB_HEADERS.messageTimestamp,
      TWITCH_EVENTSUB_HEADERS.messageSignature,
      TWITCH_EVENTSUB_HEADERS.messageType,
    ]) {
      await refused(withoutHeader(server.twitch.channelUpdate({ title: 'x' }), header), 403, 'signature_invalid');
    }
  });

  it('refuses stale (replayed) and far-future timestamps even when correctly signed', async () => {
    const request = server.twitch.channelUpdate({ title: 'Replay' });
    await refused(withTimestamp(request, twitchTimestamp(Date.now() - 11 * 60_000), TEST_SECRET), 403, 'timestamp_stale');
    await refused(withTimestamp(request, twitchTimestamp(Date.now() + 5 * 60_000), TEST_SECRET), 403, 'timestamp_stale');
    await refused(withTimestamp(request, 'yesterday', TEST_SECRET), 403, 'timestamp_stale');
  });

  it('answers 413 for a body over 1 MB and 400 for signed invalid JSON', async () => {
    const huge = withBody(server.twitch.channelUpdate(), `{"pad":"${'x'.repeat(1024 * 1024)}"}`);
    await refused(resign(huge, TEST_SECRET), 413, 'payload_too_large');
    const notJson = resign(withBody(server.twitch.channelUpdate(), '{"subscription": '), TEST_SECRET);
    await refused(notJson, 400, 'invalid_json');
    const wrongShape = resign(withBody(server.twitch.channelUpdate(), '{"subscription": 1, "event": []}'), TEST_SECRET);
    await refused(wrongShape, 400, 'invalid_body');
    const badId = withMessageId(server.twitch.channelUpdate(), 'x'.repeat(300), TEST_SECRET);
    await refused(badId, 403, 'signature_invalid');
  });

  it('answers 413 for a chunked body that passes 1 MB without declaring a length, and stays up', async () => {
    const request = server.twitch.channelUpdate();
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/webhooks/twitch`);
      const outgoing = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...request.headers, 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = (): void => {
        while (sent < 2 * 1024 * 1024 && !outgoing.destroyed) {
          sent += chunk.length;
          if (!outgoing.write(chunk)) return void outgoing.once('drain', pump);
        }
        outgoing.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.equal((await server.send(server.twitch.verification('stream.online', '1', { challenge: 'still-up' }))).status, 200);
  });

  it('survives a client that goes away in the middle of the body', async () => {
    const request = server.twitch.channelUpdate({ title: 'never finished' });
    const url = new URL(`${server.url}/webhooks/twitch`);
    await new Promise<void>((resolve) => {
      const outgoing = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...request.headers, 'content-length': String(request.body.length + 100) } });
      outgoing.on('error', () => resolve());
      outgoing.write(request.body.slice(0, 10), () => setTimeout(() => { outgoing.destroy(); resolve(); }, 50));
    });
    const response = await server.send(server.twitch.verification('stream.online', '1', { challenge: 'after-abort' }));
    assert.equal(await response.text(), 'after-abort');
  });

  it('answers other methods with a JSON 405 naming POST, and OPTIONS with Allow', async () => {
    const get = await fetch(`${server.url}/webhooks/twitch`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await errorOf(get)).code, 'method_not_allowed');
    const options = await fetch(`${server.url}/webhooks/twitch`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'POST');
    assert.equal(options.headers.get('access-control-allow-origin'), null, 'no CORS: pages have no business calling the webhook');
  });

  it('gives every answer a request id (the caller\'s when sane), takes a query string or a trailing slash, and counts requests', async () => {
    const mine = await fetch(`${server.url}/webhooks/twitch`, { method: 'POST', headers: { ...server.twitch.channelUpdate().headers, 'x-request-id': 'twitch-retry-7' }, body: '{}' });
    assert.equal(mine.headers.get('x-request-id'), 'twitch-retry-7');
    const hostileId = await fetch(`${server.url}/webhooks/twitch`, { method: 'POST', headers: { 'x-request-id': `a b <script>${'x'.repeat(80)}` }, body: '{}' });
    assert.equal(hostileId.status, 403);
    assert.match(hostileId.headers.get('x-request-id') ?? '', /^[0-9A-HJKMNP-TV-Z]{26}$/, 'a hostile id is replaced by a ULID');
    for (const path of ['/webhooks/twitch?from=twitch', '/webhooks/twitch/']) {
      const request = server.twitch.verification('stream.online', '1', { challenge: `via ${path}` });
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: request.headers, body: request.body });
      assert.equal(await response.text(), `via ${path}`);
    }
    assert.equal((await fetch(`${server.url}/webhooks/twitchy`, { method: 'POST', body: '{}' })).status, 404, 'only the webhook path is taken out of Koa');
    const metrics = await (await server.request('/metrics', { admin: true })).text();
    assert.match(metrics, /live_upload_http_requests_total\{method="POST",route="\/webhooks\/twitch",status="403"\} [1-9]/);
    assert.match(metrics, /live_upload_webhook_results_total\{provider="twitch",outcome="signature_invalid"\} [1-9]/);
  });

  it('acknowledges an unknown subscription type with 204 and ignores it', async () => {
    const before = sse.events.length;
    const follow = server.twitch.notification('channel.follow', '2', {
      user_id: '1', user_login: 'fan', user_name: 'Fan',
      broadcaster_user_id: '4242', broadcaster_user_login: 'acme_live', broadcaster_user_name: 'Acme_Live',
      followed_at: new Date().toISOString(),
    });
    assert.equal((await server.send(follow)).status, 204);
    assert.equal((await server.send(server.twitch.channelUpdate({ title: 'After the follow' }))).status, 204);
    const next = await sse.next((event) => event.event === 'status', { fromIndex: before });
    assert.equal(record(next).title, 'After the follow');
  });

  it('holds offline for the grace window, then goes offline with ended_at', async () => {
    const from = sse.events.length;
    const sentAt = Date.now();
    assert.equal((await server.send(server.twitch.streamOffline())).status, 204);
    const offline = record(await sse.next((event) => event.event === 'status', { fromIndex: from, timeoutMs: 5000 }));
    assert.equal(offline.status, 'offline');
    assert.ok(Date.now() - sentAt >= 400, 'offline must wait for the grace window');
    assert.ok(offline.ended_at);
  });

  it('keeps the same canonical id when the stream comes back inside the grace window', async () => {
    let from = sse.events.length;
    assert.equal((await server.send(server.twitch.streamOnline())).status, 204);
    const first = record(await sse.next((event) => event.event === 'status', { fromIndex: from }));
    assert.equal(first.status, 'live');
    assert.equal((await server.send(server.twitch.streamOffline())).status, 204);
    assert.equal((await server.send(server.twitch.streamOnline())).status, 204);
    from = sse.events.length;
    // Past the grace window the channel is still live, same broadcast: no status event at all.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const current = (await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json()) as LiveMetadata;
    assert.equal(current.status, 'live');
    assert.equal(current.canonical_id, first.canonical_id);
    assert.equal(sse.events.slice(from).filter((event) => record(event).status === 'offline').length, 0);
  });

  it('audits a revocation Twitch ends for delivery failures but keeps the link (the subscription manager re-subscribes)', async () => {
    const response = await server.send(server.twitch.revocation('stream.offline', '1', { status: 'notification_failures_exceeded' }));
    assert.equal(response.status, 204);
    const config = await server.running.channels.get({ publisher: 'acme', slug: 'morning-show' });
    assert.equal(config?.providers.twitch?.state, 'active');
    const audit = await server.request('/api/v1/audit?limit=200', { admin: true });
    const records = ((await audit.json()) as { records: Array<{ action: string; reason: string | null; target: string }> }).records;
    assert.ok(
      records.some((entry) => entry.action === 'provider.revoked' && entry.reason === 'notification_failures_exceeded' && entry.target === TEST_CHANNEL),
      'the revocation is audited against the channel',
    );
  });

  it('marks the Twitch link revoked on a revocation and answers 204', async () => {
    const response = await server.send(server.twitch.revocation('stream.online', '1', { status: 'authorization_revoked' }));
    assert.equal(response.status, 204);
    const config = await server.running.channels.get({ publisher: 'acme', slug: 'morning-show' });
    assert.equal(config?.providers.twitch?.state, 'revoked');
    assert.equal(config?.providers.twitch?.revoked_reason, 'authorization_revoked');
  });

  /** Sends 1,000 online/offline events in a seeded shuffle; returns once every one was processed. */
  async function shuffledBroadcast(slug: string, broadcasterId: string, last: 'online' | 'offline', seed: number): Promise<number> {
    const broadcaster = { id: broadcasterId, login: `${slug.replace(/-/g, '_')}_tv`, name: slug };
    const created = await server.request(`/api/v1/channels/acme/${slug}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ providers: { twitch: { user_id: broadcaster.id, login: broadcaster.login } } }),
    });
    assert.equal(created.status, 201);
    const twitch = createEventSubSender({ secret: TEST_SECRET, broadcaster });
    const base = Date.now() - 5 * 60_000;
    const lastAt = base + 999 * 200;
    const events = Array.from({ length: 1000 }, (_, index) => {
      const sentAtMs = base + index * 200;
      return (index * 7919 + seed) % 3 !== 0 ? twitch.streamOnline({ sentAtMs, startedAtMs: sentAtMs }) : twitch.streamOffline({ sentAtMs });
    });
    events[999] = last === 'online' ? twitch.streamOnline({ sentAtMs: lastAt, startedAtMs: lastAt }) : twitch.streamOffline({ sentAtMs: lastAt });
    const shuffled = [...events];
    let state = seed;
    for (let i = shuffled.length - 1; i > 0; i--) {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      const j = state % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const handledBefore = await pipelineEventsHandled(server.running.metrics);
    for (let i = 0; i < shuffled.length; i += 25) {
      const statuses = await Promise.all(shuffled.slice(i, i + 25).map((request) => server.send(request).then((r) => r.status)));
      assert.deepEqual([...new Set(statuses)], [204]);
    }
    // Accepted means durably published; processed means the pipeline counted it.
    const deadline = Date.now() + 60_000;
    while ((await pipelineEventsHandled(server.running.metrics)) < handledBefore + 1000) {
      assert.ok(Date.now() < deadline, 'the pipeline did not process all 1,000 events within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return lastAt;
  }

  it('ends in the event-time truth (offline) after 1,000 shuffled online/offline events', async () => {
    await shuffledBroadcast('shuffle-off', '5151', 'offline', 42);
    const watch = await openSse(`${server.url}/api/v1/live/events?channel=acme/shuffle-off`);
    try {
      // Once the grace window of the last offline is over, the channel is offline, and stays so.
      const final = await watch.next((event) => record(event).status === 'offline', { timeoutMs: 5000 });
      assert.ok(record(final).ended_at);
    } finally {
      watch.close();
    }
  });

  it('ends in the event-time truth (live) after 1,000 shuffled online/offline events', async () => {
    const lastAt = await shuffledBroadcast('shuffle-on', '5252', 'online', 7);
    const watch = await openSse(`${server.url}/api/v1/live/events?channel=acme/shuffle-on`);
    try {
      const snapshot = record(await watch.next(() => true));
      assert.equal(snapshot.status, 'live');
      // Held offline events from before the last online must not end the broadcast later.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const current = (await (await server.request('/api/v1/channels/acme/shuffle-on')).json()) as LiveMetadata;
      assert.equal(current.status, 'live');
      assert.equal(current.seq, snapshot.seq);
      assert.ok(Date.parse(current.started_at ?? '') <= lastAt);
    } finally {
      watch.close();
    }
  });
});
