/**
 * Simulcast through the whole server: one channel linked to Twitch (signed EventSub) and YouTube
 * (signed WebSub, confirmed by the Data API fake). Live on both is one broadcast with one
 * `canonical_id`; the channel stays LIVE while any verified provider is, even past the grace
 * window after Twitch ends; per-field `sources` say which provider set what; it goes offline
 * only after the last provider ends and the grace window passes.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { videoFeed } from '../fakes/youtube/atom-feed.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../fakes/youtube/data-api.js';
import { startFakeWebSubHub, type FakeWebSubHub } from '../fakes/youtube/websub-hub.js';
import { describeEachBus } from '../support/each-bus.js';
import { channelStatus, nextStatus } from '../support/provider-fakes.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { TEST_BROADCASTER, TEST_CHANNEL, startTestServer, type TestServer } from '../support/test-server.js';
import { withTimeout } from '../support/with-timeout.js';

const YOUTUBE_CHANNEL = 'UCsimulcastsimulcastsim1';
const API_KEY = 'AIzaFakeSimulcastKey0123';
const GRACE_MS = 500;

describeEachBus('simulcast on Twitch and YouTube through the server', (bus) => {
  let dataApi: FakeYouTubeDataApi;
  let hub: FakeWebSubHub;
  let server: TestServer;
  let sse: SseClient | undefined;
  let topic = '';

  before(async () => {
    dataApi = await startFakeYouTubeDataApi({ apiKey: API_KEY });
    dataApi.addChannel(YOUTUBE_CHANNEL, 'Acme on YouTube');
    hub = await startFakeWebSubHub();
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      graceMs: GRACE_MS,
      env: {
        YOUTUBE_API_KEY: API_KEY,
        YOUTUBE_WEBSUB_HUB_URL: hub.subscribeUrl,
        YOUTUBE_DATA_API_BASE_URL: dataApi.baseUrl,
        YOUTUBE_POLL_INTERVAL_MS: '60000',
        BLUESKY_JETSTREAM_URL: 'off',
      },
    });
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server?.close();
    await Promise.all([hub?.close(), dataApi?.close()]);
  });

  const notify = async (videoId: string, title: string) => {
    const results = await hub.publish(topic, videoFeed({ videoId, channelId: YOUTUBE_CHANNEL, title, updatedAtMs: Date.now() }));
    assert.deepEqual(results.map((result) => result.status), [204]);
  };

  it('links YouTube next to Twitch; the new link is subscribed at the hub at once', async () => {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        title: 'Morning show',
        uploads: 'open',
        providers: { twitch: { user_id: TEST_BROADCASTER.id, login: TEST_BROADCASTER.login }, youtube: { channel_id: YOUTUBE_CHANNEL } },
      }),
    });
    assert.equal(response.status, 200, await response.text());
    const verification = await withTimeout(
      hub.nextVerification((candidate) => candidate.mode === 'subscribe' && candidate.topic.endsWith(`channel_id=${YOUTUBE_CHANNEL}`)),
      5_000,
      () => 'the hub to verify our new subscription',
    );
    assert.equal(verification.verified, true);
    topic = verification.topic;
  });

  it('live on Twitch, then on YouTube: one broadcast, one canonical_id, sources per field', async () => {
    assert.ok(sse);
    let from = sse.events.length;
    await server.goLive();
    const twitchLive = await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
    assert.equal(twitchLive.sources['status']?.provider, 'twitch');

    from = sse.events.length;
    const videoId = dataApi.goLive(YOUTUBE_CHANNEL, { title: 'Simulcast title from YouTube', viewers: 40 });
    await notify(videoId, 'Simulcast title from YouTube');
    const both = await nextStatus(sse, (record) => record.providers.youtube?.id === videoId, { fromIndex: from });
    assert.equal(both.status, 'live');
    assert.equal(both.canonical_id, twitchLive.canonical_id, 'the simulcast is the same broadcast');
    assert.equal(both.providers.twitch?.user_id, TEST_BROADCASTER.id);
    assert.ok(both.providers.twitch?.id, 'the Twitch stream id is still there');
    assert.ok(both.seq > twitchLive.seq);
    for (const [field, source] of Object.entries(both.sources)) {
      assert.ok(source && ['twitch', 'youtube'].includes(source.provider), `${field} names a verified provider`);
    }
  });

  it('Twitch ends: still LIVE past the grace window while YouTube is live; YouTube ends: offline after the grace window', async () => {
    assert.ok(sse);
    assert.equal((await channelStatus(server, TEST_CHANNEL))['status'], 'live', 'live before Twitch ends');
    const from = sse.events.length;
    await server.goOffline();
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 3));
    assert.equal((await channelStatus(server, TEST_CHANNEL))['status'], 'live', 'YouTube holds the channel live');
    const statuses = sse.events.slice(from).filter((event) => event.event === 'status').map((event) => JSON.parse(event.data) as { status: string });
    assert.ok(statuses.every((record) => record.status === 'live'), 'no offline flicker');

    const video = dataApi.calls.find((call) => call.resource === 'videos' && call.status === 200)?.params['id']?.split(',')[0];
    assert.ok(video);
    dataApi.endLive(video);
    const endedFrom = sse.events.length;
    await notify(video, 'Simulcast title from YouTube');
    const offline = await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: endedFrom, timeoutMs: GRACE_MS + 8_000 });
    assert.ok(offline.ended_at);
    assert.equal(offline.providers.youtube?.id ?? null, null);
    assert.equal(offline.providers.twitch?.id ?? null, null);
  });
});
