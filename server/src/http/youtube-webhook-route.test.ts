import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import Koa from 'koa';
import { deletedVideoFeed, videoFeed } from '../../../test/fakes/youtube/atom-feed.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../../../test/fakes/youtube/data-api.js';
import { hubHmac, startFakeWebSubHub, type FakeWebSubHub } from '../../../test/fakes/youtube/websub-hub.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { withTimeout } from '../../../test/support/with-timeout.js';
import { BUCKETS, STREAMS, SUBJECTS, createMemoryBus, createNatsBus, type Bus, type Subscription } from '../bus/index.js';
import { createLogger, createMetrics, type Metrics } from '../observability/index.js';
import { RawEventIngest, decodeRawEvent, type RawProviderEvent } from '../pipeline/index.js';
import {
  YouTubeProvider,
  mapYouTubeObservation,
  providerLinksDirectory,
  readYouTubeRawEvent,
  youTubeFeedTopic,
} from '../providers/youtube/index.js';
import type { AppState } from './app-state.js';
import { errorHandler } from './middleware/error-handler.js';
import { youTubeWebhookRoute } from './youtube-webhook-route.js';

const API_KEY = 'test-youtube-api-key-0123456789';
const PUSHED = 'UCpushpushpushpushpush01';
const POLLED = 'UCpollpollpollpollpoll01';
const LEASE_SECONDS = 3600;
const POLL_INTERVAL_MS = 45_000;

describeEachBus('/webhooks/youtube (WebSub) and the YouTube provider', (busUnderTest) => {
  let bus: Bus;
  let metrics: Metrics;
  let hub: FakeWebSubHub;
  let api: FakeYouTubeDataApi;
  let server: Server;
  let url: string;
  let provider: YouTubeProvider;
  let rawSubscription: Subscription;
  /** Provider clock = wall clock + this, so tests can step past the poll interval. */
  let clockOffsetMs = 0;
  const raw: RawProviderEvent[] = [];
  const rawWaiters = new Set<() => void>();

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    metrics = createMetrics();
    hub = await startFakeWebSubHub();
    api = await startFakeYouTubeDataApi({ apiKey: API_KEY });
    rawSubscription = bus.subscribe(SUBJECTS.liveRaw('youtube'), (_subject, data) => {
      raw.push(decodeRawEvent(data));
      for (const wake of [...rawWaiters]) wake();
    });

    const app = new Koa<AppState>();
    app.use(errorHandler());
    // Listening first: the callback URL the provider gives the hub needs the port.
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    provider = await YouTubeProvider.open({
      bus,
      ingest: new RawEventIngest(bus, metrics),
      directory: await providerLinksDirectory(bus),
      registry: metrics.registry,
      logger: createLogger({ level: 'silent' }),
      hubUrl: hub.subscribeUrl,
      callbackUrl: `${url}/webhooks/youtube`,
      dataApiBaseUrl: api.baseUrl,
      apiKey: API_KEY,
      leaseSeconds: LEASE_SECONDS,
      pollIntervalMs: POLL_INTERVAL_MS,
      now: () => Date.now() + clockOffsetMs,
    });
    const router = youTubeWebhookRoute({
      subscriptions: provider.subscriptions,
      hints: provider.hints,
      metrics,
      youTubeMetrics: provider.metrics,
      now: () => Date.now() + clockOffsetMs,
    });
    app.use(router.routes()).use(router.allowedMethods());
    server.on('request', app.callback());

    // Link both channels the way the channel registry does: `provider-links` `youtube.{id}`.
    const links = await bus.kv(BUCKETS.providerLinks);
    await links.put(`youtube.${PUSHED}`, new TextEncoder().encode('acme/pushed'));
    await links.put(`youtube.${POLLED}`, new TextEncoder().encode('acme/polled'));
    api.addChannel(PUSHED, 'Pushed channel');
    api.addChannel(POLLED, 'Polled channel');
  });

  after(async () => {
    await provider.stop();
    rawSubscription.unsubscribe();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await hub.close();
    await api.close();
    await bus.close();
  });

  async function nextRaw(predicate: (event: RawProviderEvent) => boolean, what: string): Promise<RawProviderEvent> {
    const found = () => raw.find(predicate);
    return withTimeout(
      new Promise<RawProviderEvent>((resolve) => {
        const check = () => {
          const event = found();
          if (!event) return;
          rawWaiters.delete(check);
          resolve(event);
        };
        rawWaiters.add(check);
        check();
      }),
      10_000,
      () => what,
    );
  }

  async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
    const value = metric?.values.find((entry) => Object.entries(labels).every(([key, label]) => String((entry.labels as Record<string, unknown>)[key]) === label));
    return value?.value ?? 0;
  }

  async function errorOf(response: Response): Promise<string> {
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return ((await response.json()) as { error: { code: string } }).error.code;
  }

  function verify(params: Record<string, string>, extra = ''): Promise<Response> {
    return fetch(`${url}/webhooks/youtube?${new URLSearchParams(params).toString()}${extra}`);
  }

  const topic = youTubeFeedTopic(PUSHED);

  it('subscribes a linked channel at the hub, answers its verification and records the granted lease', async () => {
    await provider.subscriber.reconcile([PUSHED]);
    const verification = await withTimeout(hub.nextVerification((entry) => entry.topic === topic), 10_000, () => 'the hub verification');
    assert.equal(verification.mode, 'subscribe');
    assert.equal(verification.verified, true, `callback answered ${verification.status} ${verification.body}`);
    const request = hub.requests.find((entry) => entry.topic === topic);
    assert.equal(request?.leaseSeconds, String(LEASE_SECONDS));
    assert.ok((request?.secret?.length ?? 0) >= 32, 'a per-subscription hub.secret');
    assert.match(request?.callback ?? '', new RegExp(`/webhooks/youtube\\?channel_id=${PUSHED}$`));
    const stored = await provider.subscriptions.get(PUSHED);
    assert.equal(stored?.lease?.lease_seconds, LEASE_SECONDS);
    assert.equal(stored?.pending, null);
    assert.ok(stored && stored.next_attempt_at_ms < stored.lease!.verified_at_ms + LEASE_SECONDS * 1000, 'renewal scheduled before expiry');
    assert.equal(hub.subscriptions(topic).length, 1);
  });

  it('renews the lease before it expires, keeping the secret', async () => {
    const before = await provider.subscriptions.get(PUSHED);
    assert.ok(before?.lease);
    await provider.subscriber.reconcile([PUSHED]);
    assert.equal(hub.requests.filter((entry) => entry.topic === topic).length, 1, 'nothing is due yet');
    // The provider's clock only moves forward: the rest of the suite runs an hour on.
    clockOffsetMs = before.next_attempt_at_ms - Date.now() + 1;
    {
      const count = hub.verifications.length;
      await provider.subscriber.reconcile([PUSHED]);
      const renewal = await withTimeout(hub.nextVerification((entry) => hub.verifications.indexOf(entry) >= count && entry.topic === topic), 10_000, () => 'the renewal');
      assert.equal(renewal.verified, true);
      const after = await provider.subscriptions.get(PUSHED);
      assert.equal(after?.secret, before.secret);
      assert.ok(after!.lease!.verified_at_ms > before.lease.verified_at_ms);
    }
  });

  it('answers 404 to verifications of topics or modes we did not ask for, 400 to malformed ones', async () => {
    const other = youTubeFeedTopic('UCnotrequestednotreques1');
    const challenge = 'challenge-123';
    assert.equal(await errorOf(await verify({ 'hub.mode': 'subscribe', 'hub.topic': other, 'hub.challenge': challenge, 'hub.lease_seconds': '60' })), 'not_found');
    assert.equal(await errorOf(await verify({ 'hub.mode': 'subscribe', 'hub.topic': 'https://evil.example/feed', 'hub.challenge': challenge, 'hub.lease_seconds': '60' })), 'not_found');
    // Our subscription is verified: a second subscribe, or an unsubscribe, was not asked for.
    assert.equal(await errorOf(await verify({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.challenge': challenge, 'hub.lease_seconds': '60' })), 'not_found');
    assert.equal(await errorOf(await verify({ 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.challenge': challenge })), 'not_found');
    // The callback names another channel than the topic.
    assert.equal(await errorOf(await verify({ channel_id: POLLED, 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.challenge': challenge, 'hub.lease_seconds': '60' })), 'not_found');
    const missingChallenge = await verify({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.lease_seconds': '60' });
    assert.equal(missingChallenge.status, 400);
    assert.equal(await errorOf(missingChallenge), 'bad_request');
    assert.equal((await verify({ 'hub.mode': 'publish', 'hub.topic': topic, 'hub.challenge': challenge })).status, 400);
    assert.equal((await verify({})).status, 400);
    assert.equal((await verify({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.challenge': challenge }, `&hub.challenge=again`)).status, 400);
    assert.equal((await verify({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.challenge': 'x'.repeat(2000), 'hub.lease_seconds': '60' })).status, 400);
    const stored = await provider.subscriptions.get(PUSHED);
    assert.equal(stored?.lease?.lease_seconds, LEASE_SECONDS, 'refused verifications change nothing');
  });

  it('turns a signed notification into a confirmed online event on live.raw.youtube', async () => {
    const startedAtMs = Date.now() - 60_000;
    const videoId = api.goLive(PUSHED, { title: 'Launch day', startedAtMs, viewers: 42 });
    const statuses = await hub.publish(topic, videoFeed({ videoId, channelId: PUSHED, title: 'Launch day' }));
    assert.deepEqual(statuses.map((entry) => entry.status), [204]);
    // Hints only: this suite ticks the poller itself.
    await provider.start({ poll: false });
    const event = await nextRaw((entry) => entry.message_id.startsWith(videoId), 'the online event');
    assert.equal(event.provider, 'youtube');
    assert.equal(event.message_id, `${videoId}.online.${new Date(new Date(startedAtMs).toISOString()).getTime()}`);
    assert.equal(event.subscription_type, 'online');
    assert.equal(event.message_timestamp, new Date(startedAtMs).toISOString());
    const observation = readYouTubeRawEvent(event);
    assert.equal(observation.source, 'websub');
    assert.equal(observation.video?.liveStreamingDetails?.concurrentViewers, '42');
    const canonical = mapYouTubeObservation({ channel: 'acme/pushed', observation });
    assert.equal(canonical.kind, 'online');
    assert.equal(canonical.eventTimeMs, startedAtMs);
    assert.equal(canonical.providerStreamId, videoId);
    assert.deepEqual(canonical.fields, { started_at: new Date(startedAtMs).toISOString(), title: 'Launch day', viewer_count: 42 });
    assert.ok(api.calls.some((call) => call.resource === 'videos' && call.params['id'] === videoId && call.params['part'] === 'liveStreamingDetails,snippet'));
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'accepted' }), 1);
  });

  it('acknowledges a repeated notification and counts it as a duplicate', async () => {
    const videoId = api.goLive(PUSHED, { title: 'Twice' });
    const feed = videoFeed({ videoId, channelId: PUSHED, title: 'Twice', updatedAtMs: Date.now() });
    assert.deepEqual((await hub.publish(topic, feed)).map((entry) => entry.status), [204]);
    assert.deepEqual((await hub.publish(topic, feed)).map((entry) => entry.status), [204]);
    await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.online.`), 'the online event');
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'duplicate' }), 1);
  });

  it('acknowledges unsigned and badly signed notifications with 2xx, ignores them and counts them', async () => {
    const ignoredVideo = api.goLive(PUSHED, { title: 'Forged' });
    const feed = videoFeed({ videoId: ignoredVideo, channelId: PUSHED, title: 'Forged' });
    const accepted = await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'accepted' });
    assert.deepEqual((await hub.publish(topic, feed, { signature: 'none' })).map((entry) => entry.status), [204]);
    assert.deepEqual((await hub.publish(topic, feed, { signature: { secret: 'not-the-subscription-secret' } })).map((entry) => entry.status), [204]);
    assert.deepEqual((await hub.publish(topic, feed, { signature: { header: 'sha1=deadbeef' } })).map((entry) => entry.status), [204]);
    const tampered = await fetch(`${url}/webhooks/youtube?channel_id=${PUSHED}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/atom+xml', 'X-Hub-Signature': `sha1=${hubHmac((await provider.subscriptions.get(PUSHED))!.secret, feed)}` },
      body: feed.replace('Forged', 'Forgeq'),
    });
    assert.equal(tampered.status, 204);
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'unsigned' }), 1);
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'signature_invalid' }), 3);
    assert.equal(await metricValue('live_upload_webhook_results_total', { provider: 'youtube', outcome: 'signature_invalid' }), 4);
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'accepted' }), accepted, 'no hint was queued');
    // A notification for a channel we hold no subscription for is acknowledged and ignored too.
    const unknown = await fetch(`${url}/webhooks/youtube?channel_id=UCnotrequestednotreques1`, { method: 'POST', headers: { 'Content-Type': 'application/atom+xml' }, body: feed });
    assert.equal(unknown.status, 204);
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'unknown_subscription' }), 1);
    assert.ok(!api.calls.some((call) => call.params['id']?.includes(ignoredVideo)), 'an ignored notification costs no API call');
    assert.ok(!raw.some((entry) => entry.message_id.startsWith(ignoredVideo)));
  });

  it('refuses an oversize body with 413 and a wrong content type with 415', async () => {
    const secret = (await provider.subscriptions.get(PUSHED))!.secret;
    const huge = `<feed xmlns="http://www.w3.org/2005/Atom"><title>${'x'.repeat(70 * 1024)}</title></feed>`;
    const tooLarge = await fetch(`${url}/webhooks/youtube?channel_id=${PUSHED}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/atom+xml', 'X-Hub-Signature': `sha1=${hubHmac(secret, huge)}` },
      body: huge,
    });
    assert.equal(tooLarge.status, 413);
    assert.equal(await errorOf(tooLarge), 'payload_too_large');
    for (const type of ['application/json', 'text/html', 'application/x-www-form-urlencoded']) {
      const response = await fetch(`${url}/webhooks/youtube?channel_id=${PUSHED}`, { method: 'POST', headers: { 'Content-Type': type }, body: '{}' });
      assert.equal(response.status, 415, type);
      assert.equal(await errorOf(response), 'unsupported_media_type');
    }
  });

  it('acknowledges a signed feed with an XXE payload and reads nothing from it', async () => {
    const secret = (await provider.subscriptions.get(PUSHED))!.secret;
    const xxe = `<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>`;
    const response = await fetch(`${url}/webhooks/youtube?channel_id=${PUSHED}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/atom+xml', 'X-Hub-Signature': `sha1=${hubHmac(secret, xxe)}` },
      body: xxe,
    });
    assert.equal(response.status, 204);
    assert.equal(await metricValue('live_upload_youtube_websub_notifications_total', { outcome: 'invalid_feed' }), 1);
  });

  it('publishes offline when a live video is deleted (at:deleted-entry)', async () => {
    const videoId = api.goLive(PUSHED, { title: 'Short-lived' });
    await hub.publish(topic, videoFeed({ videoId, channelId: PUSHED }));
    await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.online.`), 'the online event');
    const deletedAtMs = Date.now();
    api.deleteVideo(videoId);
    await hub.publish(topic, deletedVideoFeed({ videoId, channelId: PUSHED, deletedAtMs }));
    const offline = await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.offline.`), 'the offline event');
    const canonical = mapYouTubeObservation({ channel: 'acme/pushed', observation: readYouTubeRawEvent(offline) });
    assert.equal(canonical.kind, 'offline');
    assert.equal(canonical.eventTimeMs, deletedAtMs);
  });

  it('polls a linked channel without a WebSub lease: finds the live video cheaply, then its viewers and its end', async () => {
    api.upload(POLLED, { title: 'Old upload' });
    const startedAtMs = Date.now() - 5 * 60_000;
    const videoId = api.goLive(POLLED, { title: 'Found by polling', startedAtMs, viewers: 7 });
    const before = api.quotaUsed();
    const callsBefore = api.calls.length;
    await provider.poller.tick();
    const online = await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.online.`), 'the polled online event');
    assert.equal(readYouTubeRawEvent(online).source, 'poll');
    const calls = api.calls.slice(callsBefore).map((call) => call.resource);
    assert.deepEqual(calls.filter((resource) => resource !== 'videos'), ['channels', 'playlistItems'], 'no search.list');
    assert.ok(!calls.includes('search'));
    assert.ok(api.quotaUsed() - before <= 4, `a poll costs a few units, not 100 (spent ${api.quotaUsed() - before})`);
    assert.ok(!(await provider.subscriptions.get(POLLED)), 'no WebSub involved');

    // Within the interval nothing is polled again.
    const quiet = api.calls.length;
    await provider.poller.tick();
    assert.equal(api.calls.length, quiet);

    clockOffsetMs += POLL_INTERVAL_MS;
    api.setViewers(videoId, 99);
    await provider.poller.tick();
    const update = await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.update.`), 'the viewers update');
    assert.equal(mapYouTubeObservation({ channel: 'acme/polled', observation: readYouTubeRawEvent(update) }).fields.viewer_count, 99);
    assert.equal(api.calls.filter((call) => call.resource === 'channels').length, 1, 'the uploads playlist is looked up once');

    clockOffsetMs += POLL_INTERVAL_MS;
    const endedAtMs = Date.now() - 1000;
    api.endLive(videoId, endedAtMs);
    await provider.poller.tick();
    const offline = await nextRaw((entry) => entry.message_id.startsWith(`${videoId}.offline.`), 'the polled offline event');
    assert.equal(mapYouTubeObservation({ channel: 'acme/polled', observation: readYouTubeRawEvent(offline) }).eventTimeMs, new Date(new Date(endedAtMs).toISOString()).getTime());
  });

  it('stops polling when Google says quotaExceeded, and shows it in the metrics', async () => {
    clockOffsetMs += POLL_INTERVAL_MS;
    api.setDailyQuota(api.quotaUsed());
    const liveVideo = api.goLive(POLLED, { title: 'Never seen' });
    await provider.poller.tick();
    assert.equal(await metricValue('live_upload_youtube_api_calls_total', { outcome: 'quota_exceeded' }), 1);
    assert.equal(await metricValue('live_upload_youtube_quota_exhausted'), 1);
    assert.equal(await metricValue('live_upload_youtube_quota_remaining_units'), 0);
    assert.ok((await metricValue('live_upload_youtube_quota_used_units')) > 0);
    const body = await metrics.registry.metrics();
    assert.match(body, /live_upload_youtube_quota_exhausted 1/);

    // Further ticks make no calls at all until the Pacific midnight.
    clockOffsetMs += POLL_INTERVAL_MS;
    const calls = api.calls.length;
    await provider.poller.tick();
    assert.equal(api.calls.length, calls, 'no call while the quota is spent');
    assert.ok((await metricValue('live_upload_youtube_api_calls_total', { outcome: 'over_budget' })) >= 1);
    assert.ok(!raw.some((entry) => entry.message_id.startsWith(liveVideo)));
  });

  it('backs off when the hub refuses a subscribe, then subscribes once the backoff is over', async () => {
    const third = 'UCthirdthirdthirdthird01';
    const thirdTopic = youTubeFeedTopic(third);
    hub.failRequestsWith(500);
    await provider.subscriber.reconcile([PUSHED, third]);
    const failed = await provider.subscriptions.get(third);
    assert.equal(failed?.failures, 1);
    assert.equal(failed?.pending, null);
    assert.equal(hub.requests.filter((entry) => entry.topic === thirdTopic).length, 1);
    hub.failRequestsWith(undefined);
    await provider.subscriber.reconcile([PUSHED, third]);
    assert.equal(hub.requests.filter((entry) => entry.topic === thirdTopic).length, 1, 'nothing sent inside the backoff');
    clockOffsetMs += 30_000;
    await provider.subscriber.reconcile([PUSHED, third]);
    const verification = await withTimeout(hub.nextVerification((entry) => entry.topic === thirdTopic && entry.verified), 10_000, () => 'the retried subscribe');
    assert.equal(verification.mode, 'subscribe');
    assert.equal((await provider.subscriptions.get(third))?.failures, 0);
    assert.ok(await metricValue('live_upload_youtube_websub_subscribe_requests_total', { mode: 'subscribe', outcome: 'refused' }) >= 1);
  });

  it('unsubscribes a channel that was unlinked and forgets it once the hub verifies', async () => {
    assert.equal(hub.subscriptions(topic).length, 1);
    await provider.subscriber.reconcile([]);
    const verification = await withTimeout(hub.nextVerification((entry) => entry.topic === topic && entry.mode === 'unsubscribe'), 10_000, () => 'the unsubscribe');
    assert.equal(verification.verified, true);
    assert.equal(hub.subscriptions(topic).length, 0);
    assert.equal(await provider.subscriptions.get(PUSHED), undefined);
  });
});
