import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeGoogleOAuth, type FakeGoogleOAuth } from '../fakes/google/oauth.js';
import { videoFeed } from '../fakes/youtube/atom-feed.js';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../fakes/youtube/data-api.js';
import { startFakeWebSubHub, type FakeWebSubHub } from '../fakes/youtube/websub-hub.js';
import { describeEachBus } from '../support/each-bus.js';
import { PUBLISHER_ORIGIN, channelStatus, createUnlinkedChannel, eventually, linkByOAuth, nextStatus, tokenKeyRing } from '../support/provider-fakes.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { withTimeout } from '../support/with-timeout.js';

const CHANNEL = 'acme/youtube-e2e';
const YOUTUBE_CHANNEL = 'UCe2eyoutubeyoutubeyou01';
const API_KEY = 'AIzaFakeE2eKey0123456789';
const GRACE_MS = 600;
/**
 * The shortest poll interval config allows. A link change reconciles WebSub subscriptions at
 * once; the periodic reconcile (every third of this, 10 s) is only the upper bound waited for.
 */
const POLL_INTERVAL_MS = 30_000;

describeEachBus('YouTube end to end: link, WebSub, Data API confirmation, LIVE, offline', (bus) => {
  let google: FakeGoogleOAuth;
  let dataApi: FakeYouTubeDataApi;
  let hub: FakeWebSubHub;
  let server: TestServer;
  let sse: SseClient | undefined;
  let topic: string;
  let videoId: string;

  before(async () => {
    google = await startFakeGoogleOAuth({ user: { channelId: YOUTUBE_CHANNEL } });
    dataApi = await startFakeYouTubeDataApi({ apiKey: API_KEY, resolveUserToken: (token) => google.tokenInfo(token) });
    dataApi.addChannel(YOUTUBE_CHANNEL, 'Acme on YouTube');
    hub = await startFakeWebSubHub();
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      graceMs: GRACE_MS,
      withChannel: false,
      env: {
        YOUTUBE_API_KEY: API_KEY,
        YOUTUBE_WEBSUB_HUB_URL: hub.subscribeUrl,
        YOUTUBE_DATA_API_BASE_URL: dataApi.baseUrl,
        YOUTUBE_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
        GOOGLE_CLIENT_ID: google.clientId,
        GOOGLE_CLIENT_SECRET: google.clientSecret,
        GOOGLE_AUTH_BASE_URL: google.url,
        GOOGLE_TOKEN_BASE_URL: google.url,
        TOKEN_ENCRYPTION_KEYS: tokenKeyRing(),
        LINK_RETURN_TO_ORIGINS: PUBLISHER_ORIGIN,
        BLUESKY_JETSTREAM_URL: 'off',
      },
    });
    await createUnlinkedChannel(server, CHANNEL, 'Acme on YouTube');
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server?.close();
    await Promise.all([hub?.close(), dataApi?.close(), google?.close()]);
  });

  /** The hub's POST of a feed to its verified subscriber (us): one result per subscriber. */
  const notify = async (feed: string, signature?: { secret: string } | 'none') => {
    const results = await hub.publish(topic, feed, signature ? { signature } : {});
    assert.equal(results.length, 1, 'exactly one verified subscriber: us');
    return results[0]!;
  };
  /** A WebSub notification counter of ours, read from /metrics as Prometheus scrapes it. */
  const notifications = async (outcome: 'accepted' | 'signature_invalid' | 'unsigned') => {
    const text = await (await server.request('/metrics')).text();
    const line = text.split('\n').find((entry) => entry.startsWith(`live_upload_youtube_websub_notifications_total{outcome="${outcome}"}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const signatureRejections = () => notifications('signature_invalid');

  it('linking by Google OAuth subscribes our callback at the hub, which verifies intent', async () => {
    await linkByOAuth(server, CHANNEL, 'youtube');
    const verification = await withTimeout(
      hub.nextVerification((candidate) => candidate.mode === 'subscribe' && candidate.topic.endsWith(`channel_id=${YOUTUBE_CHANNEL}`)),
      POLL_INTERVAL_MS / 3 + 5_000,
      () => 'the hub to verify our subscription',
    );
    assert.equal(verification.verified, true, `our callback answered the challenge: ${verification.status} ${verification.body}`);
    assert.equal(new URL(verification.callback).origin + new URL(verification.callback).pathname, `${server.url}/webhooks/youtube`);
    const request = hub.requests.find((candidate) => candidate.mode === 'subscribe' && candidate.topic === verification.topic);
    assert.ok(request?.secret && request.secret.length >= 16, 'we asked for signed content (hub.secret)');
    assert.equal(hub.subscriptions(verification.topic).length, 1);
    topic = verification.topic;

    // A verification of intent for a topic we never asked for is refused, and its challenge not echoed.
    const other = new URL(`${server.url}/webhooks/youtube`);
    other.searchParams.set('hub.mode', 'subscribe');
    other.searchParams.set('hub.topic', 'https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCnotoursnotoursnotours1');
    other.searchParams.set('hub.challenge', 'attacker-challenge');
    other.searchParams.set('hub.lease_seconds', '864000');
    const unsolicited = await fetch(other);
    assert.equal(unsolicited.status, 404);
    assert.ok(!(await unsolicited.text()).includes('attacker-challenge'));
  });

  it('a notification with a bad signature or none is acknowledged and changes nothing', async () => {
    assert.ok(sse);
    // The video an attacker claims is live: never looked up, because the hub did not sign the claim.
    const claimed = 'fAk3dV1de0s';
    const from = sse.events.length;
    const rejectedBefore = await signatureRejections();
    const unsignedBefore = await notifications('unsigned');
    const forged = await notify(videoFeed({ videoId: claimed, channelId: YOUTUBE_CHANNEL, title: 'forged' }), { secret: 'not-the-hub-secret-0123456789' });
    assert.equal(forged.status, 204, 'WebSub wants a 2xx even for content it ignores');
    const unsigned = await notify(videoFeed({ videoId: claimed, channelId: YOUTUBE_CHANNEL, title: 'unsigned', updatedAtMs: Date.now() + 1 }), 'none');
    assert.equal(unsigned.status, 204);
    assert.equal(await signatureRejections(), rejectedBefore + 1, 'the forged one was counted as a bad signature');
    assert.equal(await notifications('unsigned'), unsignedBefore + 1, 'the unsigned one was counted as unsigned');
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'offline');
    assert.equal(dataApi.calls.filter((call) => call.resource === 'videos' && call.params['id']?.includes(claimed)).length, 0, 'no Data API confirmation was spent on them');
    assert.equal(sse.events.slice(from).filter((event) => event.event === 'status').length, 0);
  });

  it('a signed notification is confirmed by videos.list (actualStartTime) and shows LIVE with the YouTube provider', async () => {
    assert.ok(sse);
    videoId = dataApi.goLive(YOUTUBE_CHANNEL, { title: 'Acme live on YouTube', viewers: 12 });
    const from = sse.events.length;
    const callsBefore = dataApi.calls.length;
    const acceptedBefore = await notifications('accepted');
    const accepted = await notify(videoFeed({ videoId, channelId: YOUTUBE_CHANNEL, title: 'Acme live on YouTube', updatedAtMs: Date.now() }));
    assert.equal(accepted.status, 204);
    assert.equal(await notifications('accepted'), acceptedBefore + 1, 'taken as a signed notification');
    const live = await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
    assert.equal(live.providers.youtube?.id, videoId);
    assert.equal(live.providers.youtube?.channel_id, YOUTUBE_CHANNEL);
    assert.equal(live.title, 'Acme live on YouTube');
    assert.match(live.canonical_id ?? '', /^stream:acme:youtube-e2e:/);
    const confirmation = await eventually(
      () => dataApi.calls.slice(callsBefore).find((call) => call.resource === 'videos' && call.status === 200 && call.params['id']?.split(',').includes(videoId)),
      'the videos.list confirmation of the notified video',
    );
    assert.match(confirmation.params['part'] ?? '', /liveStreamingDetails/);
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'live');
  });

  it('the broadcast ends (actualEndTime) and the next notification makes the channel offline after the grace window', async () => {
    assert.ok(sse);
    const from = sse.events.length;
    dataApi.endLive(videoId);
    const sentAtMs = Date.now();
    const accepted = await notify(videoFeed({ videoId, channelId: YOUTUBE_CHANNEL, title: 'Acme live on YouTube', updatedAtMs: Date.now() + 1 }));
    assert.equal(accepted.status, 204);
    const offline = await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: from, timeoutMs: GRACE_MS + 8_000 });
    assert.ok(Date.now() - sentAtMs >= GRACE_MS - 50, 'held for the grace window');
    assert.ok(offline.ended_at);
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'offline');
  });
});
