import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeJetstream, type FakeJetstream } from '../fakes/bluesky/jetstream.js';
import { startFakePds, type FakePds, type PdsCommit } from '../fakes/bluesky/pds.js';
import { describeEachBus } from '../support/each-bus.js';
import { channelStatus, nextStatus, tokenKeyRing } from '../support/provider-fakes.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { TEST_BROADCASTER, TEST_CHANNEL, startTestServer, type TestServer } from '../support/test-server.js';
import { withTimeout } from '../support/with-timeout.js';

const DID = 'did:plc:e2eblueskyaccountaaaaaaa';
const HANDLE = 'acme-live.test';
const APP_PASSWORD = 'abcd-efgh-ijkl-mnop';
const STATUS_COLLECTION = 'app.bsky.actor.status';
const STATUS_URI = `at://${DID}/${STATUS_COLLECTION}/self`;
const GRACE_MS = 500;

/** What the streamer's own Bluesky app writes when they set "live": a status pointing at Twitch. */
const streamerLiveStatus = () => ({
  $type: STATUS_COLLECTION,
  status: 'app.bsky.actor.status#live',
  embed: { $type: 'app.bsky.embed.external', external: { uri: `https://www.twitch.tv/${TEST_BROADCASTER.login}`, title: 'Streaming now', description: '' } },
  durationMinutes: 60,
  createdAt: new Date().toISOString(),
});

describeEachBus('Bluesky end to end: app-password link, Jetstream provenance, status write-back', (bus) => {
  let pds: FakePds;
  let jetstream: FakeJetstream;
  let server: TestServer;
  let sse: SseClient | undefined;
  const commits: PdsCommit[] = [];
  let landingPageUri: string | undefined;
  const commitWaiters = new Set<() => void>();

  before(async () => {
    pds = await startFakePds();
    pds.addAccount({ did: DID, handle: HANDLE, password: APP_PASSWORD });
    jetstream = await startFakeJetstream();
    // As on the network: every write to the PDS reaches Jetstream (and so our consumer, too).
    pds.onCommit((commit) => {
      commits.push(commit);
      for (const wake of [...commitWaiters]) wake();
      jetstream.emitCommit(commit.did, {
        operation: commit.operation,
        collection: commit.collection,
        rkey: commit.rkey,
        rev: commit.rev,
        ...(commit.cid ? { cid: commit.cid } : {}),
        ...(commit.record ? { record: commit.record } : {}),
      });
    });
    // The test channel, linked to Twitch by admin PUT (TEST_BROADCASTER signs server.goLive()).
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      graceMs: GRACE_MS,
      env: { BLUESKY_SERVICE_URL: pds.baseUrl, BLUESKY_JETSTREAM_URL: jetstream.url, TOKEN_ENCRYPTION_KEYS: tokenKeyRing() },
    });
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server?.close();
    await Promise.all([jetstream?.close(), pds?.close()]);
  });

  /** The next write to the PDS (from `fromIndex` on) that matches. */
  const nextCommit = (match: (commit: PdsCommit) => boolean, fromIndex: number, what: string) =>
    withTimeout(
      new Promise<PdsCommit>((resolve) => {
        const check = () => {
          const found = commits.slice(fromIndex).find(match);
          if (!found) return;
          commitWaiters.delete(check);
          resolve(found);
        };
        commitWaiters.add(check);
        check();
      }),
      10_000,
      () => what,
    );
  const linkBluesky = (body: unknown) =>
    server.request(`/api/v1/channels/${TEST_CHANNEL}/links/bluesky`, { method: 'POST', admin: true, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('refuses hostile link requests and links by app password; Jetstream then follows the account', async () => {
    for (const body of [
      { identifier: HANDLE, app_password: 'not-an-app-password-at-all' },
      { identifier: HANDLE, app_password: APP_PASSWORD, service: 'https://evil.example' },
      { identifier: '../../etc/passwd', app_password: APP_PASSWORD },
      { identifier: [HANDLE], app_password: APP_PASSWORD },
    ]) {
      assert.equal((await linkBluesky(body)).status, 400, JSON.stringify(body));
    }
    const wrong = await linkBluesky({ identifier: HANDLE, app_password: 'zzzz-zzzz-zzzz-zzzz' });
    assert.equal(wrong.status, 400, 'a wrong app password is refused by the PDS');
    assert.equal(jetstream.connections.length, 0, 'nothing linked: Jetstream is not consumed at all');

    const connected = jetstream.nextConnection();
    const linked = await linkBluesky({ identifier: HANDLE, app_password: APP_PASSWORD });
    assert.equal(linked.status, 201, await linked.clone().text());
    const body = (await linked.json()) as Record<string, unknown>;
    assert.equal(body['account_id'], DID);
    assert.ok(!JSON.stringify(body).includes(APP_PASSWORD), 'the app password never comes back');
    const subscriber = await withTimeout(connected, 10_000, () => 'our Jetstream consumer to connect');
    assert.deepEqual(subscriber.filter.wantedDids, [DID]);
  });

  it('a #live status on Jetstream alone does not make the channel LIVE, but names its post_uri', async () => {
    assert.ok(sse);
    const from = sse.events.length;
    // Another account's status first: filtered by Jetstream, and ignored by us if it got through.
    jetstream.emitRaw(JSON.stringify({ did: 'did:plc:someoneelseaaaaaaaaaaaaa', time_us: Date.now() * 1000, kind: 'commit', commit: { rev: '3lzzzzzzzzzzz', operation: 'create', collection: STATUS_COLLECTION, rkey: 'self', record: streamerLiveStatus() } }));
    jetstream.emitCommit(DID, { operation: 'create', collection: STATUS_COLLECTION, rkey: 'self', record: streamerLiveStatus() });
    const record = await nextStatus(sse, (candidate) => Boolean(candidate.providers.bluesky?.post_uri), { fromIndex: from });
    assert.equal(record.providers.bluesky?.post_uri, STATUS_URI);
    assert.equal(record.providers.bluesky?.did, DID);
    assert.equal(record.status, 'offline', 'an unverified signal never sets LIVE alone');
    assert.equal(record.canonical_id, null);
    assert.equal((await channelStatus(server, TEST_CHANNEL))['status'], 'offline');
    assert.equal(sse.events.slice(from).some((event) => event.event === 'status' && JSON.parse(event.data).status === 'live'), false);
  });

  it('when Twitch makes the channel LIVE the write-back puts #live with our landing page; offline deletes it', async () => {
    assert.ok(sse);
    const from = sse.events.length;
    const commitsFrom = commits.length;
    await server.goLive('Acme goes live everywhere');
    const live = await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
    assert.equal(live.providers.twitch?.user_id, TEST_BROADCASTER.id);
    assert.equal(live.providers.bluesky?.post_uri, STATUS_URI, 'the provenance is kept');

    const put = await nextCommit((commit) => commit.collection === STATUS_COLLECTION && commit.operation !== 'delete', commitsFrom, 'the status write-back');
    assert.equal(put.did, DID);
    assert.equal(put.rkey, 'self');
    const stored = pds.record(DID, STATUS_COLLECTION, 'self');
    assert.ok(stored, 'the record is in the repo');
    assert.equal(stored.value['status'], 'app.bsky.actor.status#live');
    const embed = stored.value['embed'] as { $type: string; external: { uri: string; title: string } };
    assert.equal(embed.$type, 'app.bsky.embed.external');
    assert.equal(embed.external.uri, `${server.url}/c/${TEST_CHANNEL}`, 'the embed is our landing page');
    assert.equal(embed.external.title, live.title, 'titled as the broadcast was when it went live');
    landingPageUri = embed.external.uri;

    const afterLive = sse.events.length;
    const offlineFrom = commits.length;
    const sentAtMs = Date.now();
    await server.goOffline();
    const offline = await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: afterLive, timeoutMs: GRACE_MS + 5_000 });
    assert.ok(Date.now() - sentAtMs >= GRACE_MS - 50, 'held for the grace window');
    assert.equal(offline.canonical_id, live.canonical_id, 'the same broadcast ended');
    const deleted = await nextCommit((commit) => commit.collection === STATUS_COLLECTION && commit.operation === 'delete', offlineFrom, 'the status deletion');
    assert.equal(deleted.did, DID);
    assert.equal(pds.record(DID, STATUS_COLLECTION, 'self'), undefined, 'the #live status is gone');
    assert.equal((await channelStatus(server, TEST_CHANNEL))['status'], 'offline');
  });

  it('the landing page the Bluesky status links to answers', async () => {
    assert.ok(landingPageUri, 'the write-back ran');
    const landing = await fetch(landingPageUri);
    await landing.arrayBuffer();
    assert.equal(landing.status, 200);
  });
});
