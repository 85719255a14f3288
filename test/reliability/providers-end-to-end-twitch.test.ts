import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeHelix, type FakeHelix, type FakeSubscription } from '../fakes/twitch/helix.js';
import { describeEachBus } from '../support/each-bus.js';
import {
  PUBLISHER_ORIGIN,
  channelStatus,
  createUnlinkedChannel,
  deliverForSubscription,
  eventually,
  linkByOAuth,
  nextStatus,
  tokenKeyRing,
} from '../support/provider-fakes.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CHANNEL = 'acme/twitch-e2e';
/** The Twitch account the publisher signs in with at the fake. */
const STREAMER = { user_id: '31', login: 'acme' } as const;
const GRACE_MS = 800;
const WANTED = ['channel.update@2', 'stream.offline@1', 'stream.online@1'];

describeEachBus('Twitch end to end: link, subscribe, signal, LIVE, offline, unlink', (bus) => {
  let helix: FakeHelix;
  let server: TestServer;
  let sse: SseClient | undefined;

  before(async () => {
    helix = await startFakeHelix({ oauthUser: STREAMER });
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      graceMs: GRACE_MS,
      withChannel: false,
      env: {
        TWITCH_CLIENT_ID: helix.clientId,
        TWITCH_CLIENT_SECRET: helix.clientSecret,
        TWITCH_API_BASE_URL: helix.url,
        TWITCH_AUTH_BASE_URL: helix.url,
        TOKEN_ENCRYPTION_KEYS: tokenKeyRing(),
        LINK_RETURN_TO_ORIGINS: PUBLISHER_ORIGIN,
        BLUESKY_JETSTREAM_URL: 'off',
      },
    });
    await createUnlinkedChannel(server, CHANNEL, 'Acme on Twitch');
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server?.close();
    await helix?.close();
  });

  /** Our subscriptions at Helix for the streamer, once all three are `enabled`. */
  const enabledSubscriptions = () =>
    eventually(() => {
      const ours = helix.subscriptions().filter((subscription) => subscription.condition.broadcaster_user_id === STREAMER.user_id);
      const enabled = ours.filter((subscription) => subscription.status === 'enabled');
      return enabled.length === WANTED.length && ours.length === WANTED.length ? enabled : undefined;
    }, 'three enabled EventSub subscriptions at Helix');
  const subscriptionOf = (subscriptions: readonly FakeSubscription[], type: string) => {
    const found = subscriptions.find((subscription) => subscription.type === type);
    assert.ok(found, `a ${type} subscription`);
    return found;
  };
  const broadcasterFields = { broadcaster_user_id: STREAMER.user_id, broadcaster_user_login: STREAMER.login, broadcaster_user_name: 'Acme' };

  it('starts with no subscriptions while nothing is linked', async () => {
    assert.deepEqual(helix.subscriptions(), []);
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'offline');
  });

  it('linking by OAuth creates the three EventSub subscriptions, verified by challenge at our callback', async () => {
    await linkByOAuth(server, CHANNEL, 'twitch');
    const subscriptions = await enabledSubscriptions();
    assert.deepEqual(subscriptions.map((subscription) => `${subscription.type}@${subscription.version}`).sort(), WANTED);
    for (const subscription of subscriptions) {
      assert.equal(subscription.transport.callback, `${server.url}/webhooks/twitch`);
    }
    const channel = (await (await server.request(`/api/v1/channels/${CHANNEL}/links`, { admin: true })).json()) as { links: Array<{ provider: string; account_id: string; status: string }> };
    assert.deepEqual(channel.links.map((link) => [link.provider, link.account_id, link.status]), [['twitch', STREAMER.user_id, 'active']]);
  });

  it('refuses a stream.online signed with another secret and stays offline', async () => {
    const online = subscriptionOf(await enabledSubscriptions(), 'stream.online');
    const forged = await deliverForSubscription(
      online,
      { id: '90000001', ...broadcasterFields, type: 'live', started_at: new Date().toISOString() },
      { secret: 'not-the-subscription-secret-0123' },
    );
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { error: { code: string } }).error.code, 'signature_invalid');
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'offline');
  });

  it('a signed stream.online for the subscription shows LIVE over SSE with the Twitch provider; a title update follows', async () => {
    assert.ok(sse);
    const subscriptions = await enabledSubscriptions();
    const from = sse.events.length;
    const response = await deliverForSubscription(subscriptionOf(subscriptions, 'stream.online'), {
      id: '90000002',
      ...broadcasterFields,
      type: 'live',
      started_at: new Date().toISOString(),
    });
    assert.equal(response.status, 204, await response.clone().text());
    const live = await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
    assert.equal(live.channel, CHANNEL);
    assert.equal(live.providers.twitch?.user_id, STREAMER.user_id);
    assert.equal(live.providers.twitch?.id, '90000002');
    assert.match(live.canonical_id ?? '', /^stream:acme:twitch-e2e:/);
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'live');

    const update = await deliverForSubscription(subscriptionOf(subscriptions, 'channel.update'), {
      ...broadcasterFields,
      title: 'Live from the end-to-end test',
      language: 'en',
      category_id: '509658',
      category_name: 'Just Chatting',
      content_classification_labels: [],
    });
    assert.equal(update.status, 204);
    const titled = await nextStatus(sse, (record) => record.title === 'Live from the end-to-end test', { fromIndex: from });
    assert.equal(titled.canonical_id, live.canonical_id, 'the same broadcast');
  });

  it('a signed stream.offline shows offline only after the grace window', async () => {
    assert.ok(sse);
    const from = sse.events.length;
    const sentAtMs = Date.now();
    const response = await deliverForSubscription(subscriptionOf(await enabledSubscriptions(), 'stream.offline'), broadcasterFields);
    assert.equal(response.status, 204);
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'live', 'still live inside the grace window');
    const offline = await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: from, timeoutMs: GRACE_MS + 5_000 });
    assert.ok(Date.now() - sentAtMs >= GRACE_MS - 50, `offline after the ${GRACE_MS} ms grace window, not at once`);
    assert.ok(offline.ended_at, 'the broadcast has an end');
    assert.equal((await channelStatus(server, CHANNEL))['status'], 'offline');
  });

  it('unlinking deletes our subscriptions at Helix and revokes the grant', async () => {
    const revokedBefore = helix.revokedTokens.length;
    const response = await server.request(`/api/v1/channels/${CHANNEL}/links/twitch`, { method: 'DELETE', admin: true });
    assert.equal(response.status, 204);
    await eventually(
      () => (helix.subscriptions().some((subscription) => subscription.condition.broadcaster_user_id === STREAMER.user_id) ? undefined : true),
      'the subscriptions to be deleted',
    );
    assert.ok(
      helix.requests.filter((request) => request.method === 'DELETE' && request.path === '/helix/eventsub/subscriptions' && request.status === 204).length >= WANTED.length,
      'deleted through Helix',
    );
    assert.equal(helix.revokedTokens.length, revokedBefore + 1, 'the user grant was revoked at Twitch');
    assert.equal((await server.request(`/api/v1/channels/${CHANNEL}/links/twitch`, { method: 'DELETE', admin: true })).status, 404, 'nothing left to unlink');
  });
});
